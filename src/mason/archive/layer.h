// Layers: a directory tree → a (compressed) layer blob, and a layer blob →
// changes applied onto a directory. The entry points the snapshotter and
// the exporter use.
//
// write_layer: write_tree() (see tree_writer.h for order, metadata and
// overlay whiteout conversion) into a TarWriter into a LayerWriter (see
// compression.h), all streaming, one pass; returns diff_id, digest, size
// and media type.
//
// apply_layer: reads a layer stream (plain, gzip or zstd: detected by its
// magic unless told), and applies each entry under `dest_root_fd`:
//
//  - Names: a leading "/" is dropped (absolute names are taken relative to
//    the root, as docker and containerd do); "." components are dropped;
//    ".." is resolved lexically and an entry whose name climbs above the
//    root is an error (invalid_argument, as docker's "breakout" check);
//    an entry naming the root itself is skipped if it is a directory.
//  - Resolution: the parent directory of each entry is opened with
//    openat2(RESOLVE_IN_ROOT): symlinks already in the tree (from this or a
//    lower layer) are followed but stay confined to the root, exactly as if
//    the root were "/" in a chroot ("l -> /" then "l/etc/x" writes
//    <root>/etc/x; "l -> ../../.." then "l/x" writes <root>/x). The entry
//    itself is created with no-follow *at calls, so an existing symlink at
//    its name is replaced, never written through. Missing parent
//    directories are created (0755).
//  - Symlink targets are stored verbatim: they are never resolved at apply
//    time outside the rules above.
//  - Hard link targets are cleaned like names (escape = error), resolved
//    inside the root, and must already exist (extracted earlier in this
//    layer or, in merged form, present from a lower layer); else not_found.
//  - Existing entries: a directory over a directory is merged (metadata
//    updated); anything else replaces what was there (rm -rf first).
//  - Metadata: owners (see OwnerPolicy), permission bits incl. setuid
//    (set after chown, which clears them), xattrs (trusted.overlay.* and,
//    for user-xattr overlays, user.overlay.* are never applied: counted in
//    skipped_xattrs), mtimes (whole entries; directories' modes and mtimes
//    last, after their contents). Regular files are written sparsely: whole
//    4 KiB blocks of zeros become holes.
//  - Whiteouts: ".wh.<name>" and ".wh..wh..opq" (see whiteout.h) apply to
//    the lower layers only: an entry this same layer created is kept. In
//    ApplyTarget::merged form the lower entries are deleted. In
//    ApplyTarget::overlay_upper form (dest is an empty or partial upperdir
//    over lowerdirs we cannot see) ".wh.<name>" becomes a 0:0 character
//    device and an opaque directory gets <ns>.overlay.opaque=y; a directory
//    this layer creates over a whiteout it made earlier is made opaque too.
//    A 0:0 character device entry in the archive would forge a whiteout in
//    that form and is rejected. Other ".wh..wh.*" names (AUFS metadata) are
//    skipped.
//
// Errors name the entry and its offset in the uncompressed stream:
// `entry "a/b" at offset 1536: mkdir "a/b": Permission denied`. Corrupt or
// truncated input and digest mismatches are `corruption`. On any error the
// destination is left partly applied (the caller discards it), and nothing
// outside it has been created, changed or removed.
//
// Ownership: borrows the source and the root descriptor. Thread-safety:
// no shared state; two applies into the same tree at once race like any
// two writers.
#pragma once

#include <cstdint>
#include <string>

#include "mason/archive/compression.h"
#include "mason/archive/stream.h"
#include "mason/archive/tree_writer.h"
#include "mason/archive/whiteout.h"
#include "mason/util/error.h"

namespace mason::archive {

struct LayerOptions {
  TarOptions tar;
  CompressOptions compress;
};

// `root_fd`: a directory descriptor (O_PATH is fine).
util::Result<LayerInfo> write_layer(int root_fd, const LayerOptions& options, Sink& out);
util::Result<LayerInfo> write_layer(const std::string& root, const LayerOptions& options,
                                    Sink& out);

enum class ApplyTarget { merged, overlay_upper };

enum class OwnerPolicy {
  auto_detect, // preserve when running as root (euid 0), else ignore
  preserve,    // chown every entry; failure (EPERM) is an error
  ignore,      // entries belong to the caller
};

enum class DevicePolicy {
  create, // mknod; failure (EPERM without CAP_MKNOD) is an error
  skip,   // device entries are skipped (counted in skipped_entries), as docker does in a user
          // namespace
  reject, // a device entry is an error (unsupported)
};

enum class XattrPolicy {
  apply,       // every failure is an error
  best_effort, // EOPNOTSUPP / EPERM / EACCES are skipped (counted)
  skip,        // none are applied (counted)
};

struct ApplyOptions {
  ApplyTarget target = ApplyTarget::merged;
  OverlayXattrs overlay_xattrs = OverlayXattrs::trusted;
  OwnerPolicy owners = OwnerPolicy::auto_detect;
  DevicePolicy devices = DevicePolicy::create;
  XattrPolicy xattrs = XattrPolicy::apply;
  ReadOptions read; // compression (or detection) and expected digests
};

struct ApplyStats {
  std::uint64_t entries = 0;
  std::uint64_t regular_files = 0;
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t hardlinks = 0;
  std::uint64_t devices = 0;
  std::uint64_t fifos = 0;
  std::uint64_t whiteouts = 0;
  std::uint64_t opaque_dirs = 0;
  std::uint64_t skipped_entries = 0;
  std::uint64_t skipped_xattrs = 0;
  std::uint64_t data_bytes = 0;
  Compression compression = Compression::none;
  image::Digest digest;  // of the raw stream
  image::Digest diff_id; // of the uncompressed tar
  std::int64_t size = 0;
  std::int64_t uncompressed_size = 0;
};

util::Result<ApplyStats> apply_layer(Source& layer, int dest_root_fd, const ApplyOptions& options);

} // namespace mason::archive
