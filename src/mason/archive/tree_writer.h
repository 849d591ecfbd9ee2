// write_tree: a directory tree → tar entries, deterministically.
//
// Order: depth first, each directory's entries sorted by name (bytes); a
// directory's entry comes before its contents; the root itself is not
// written. Names are relative ("a/b", directories "a/"). Owners are the
// numeric uid/gid (no user or group names); mode = the 07777 bits; mtime =
// whole seconds, clamped to TarOptions::clamp_mtime when set
// (SOURCE_DATE_EPOCH). A non-directory with several links inside the tree
// (same st_dev and st_ino) is written in full at its first path and as
// hard links to that path afterwards. Sockets are skipped (tar cannot hold
// them). Regular files are read in full; holes are written as zeros.
//
// xattrs: all of them, except trusted.overlay.* (overlay's own bookkeeping,
// never image content) and security.selinux (a host label, not image
// content); XattrSelection::none writes none.
//
// TreeForm::overlay_upper reads an overlayfs upperdir and converts
// overlay's deletion markers into OCI whiteouts:
//   - a character device 0:0 → an empty regular file ".wh.<name>" (mode
//     0600, owner and mtime of the device), never a hard link, even when
//     several whiteouts share one inode;
//   - a directory with <ns>.overlay.opaque = "y" → the directory entry
//     (without that xattr) followed at once by "<dir>/.wh..wh..opq" (an empty
//     regular file with the directory's permission bits, owner and mtime);
//   - <ns>.overlay.redirect or .metacopy (redirect_dir / metacopy mounts)
//     → error `unsupported`: such an upperdir does not hold the full content.
//
// Symlinks are never followed: every directory is opened with O_NOFOLLOW
// from its parent's descriptor. One descriptor is held per directory level.
// Thread-safety: none; the tree should not change while it is written
// (a file that shrinks meanwhile is an error).
#pragma once

#include <cstdint>
#include <optional>

#include "mason/archive/tar_writer.h"
#include "mason/archive/whiteout.h"
#include "mason/util/error.h"

namespace mason::archive {

enum class TreeForm { plain, overlay_upper };
enum class XattrSelection { all, none };

struct TarOptions {
  TreeForm form = TreeForm::plain;
  OverlayXattrs overlay_xattrs = OverlayXattrs::trusted; // for TreeForm::overlay_upper
  std::optional<std::int64_t> clamp_mtime;               // mtimes above it are written as it
  XattrSelection xattrs = XattrSelection::all;
};

struct TreeStats {
  std::uint64_t entries = 0; // tar entries written (whiteouts included)
  std::uint64_t regular_files = 0;
  std::uint64_t data_bytes = 0;
  std::uint64_t hardlinks = 0;
  std::uint64_t whiteouts = 0;
  std::uint64_t opaque_dirs = 0;
  std::uint64_t skipped_sockets = 0;
};

// Writes the entries of the tree at `root_fd` (a directory descriptor,
// O_PATH is fine) to `out`. Does not call out.finish(). Errors carry the
// path of the entry that failed.
util::Result<TreeStats> write_tree(int root_fd, const TarOptions& options, TarWriter& out);

} // namespace mason::archive
