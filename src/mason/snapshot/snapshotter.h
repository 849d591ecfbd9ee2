// Snapshots: the file systems a build works on.
//
// A committed snapshot is an immutable directory tree identified by a
// string id; it has a parent (or none) and together they form a chain.
//   - overlay: each snapshot holds only its own changes (an overlayfs
//     upperdir, with overlay's whiteouts and opaque markers); a chain is
//     mounted as lowerdirs. Chains deeper than one mount can take (mount
//     data of one page, or overlay's stack limit) are flattened: the lower
//     part is merged into one cached directory first.
//   - copy (fallback where overlayfs is unavailable, or by choice): each
//     snapshot holds its full tree; prepare copies the parent's tree.
//
// Active snapshots are writable roots over a parent chain (the parent may
// be none: scratch). commit() turns an active snapshot into a committed one.
// view() gives a read-only root of a committed chain (COPY --from, bind
// mounts). diff() writes the changes of a committed snapshot against its
// parent as an OCI layer (whiteouts for deletions, opaque directories).
//
// Image layers are unpacked once into committed snapshots keyed by their
// chain id (sha256 over diff_ids, OCI's ChainID) and kept across builds;
// concurrent unpacks of one chain (other threads or other processes) are
// safe: the first to finish wins, the others use its result.
//
// Layout: <state_dir>/<id, escaped>/{fs,parent,...}; temporary work
// (active snapshots with their overlay workdir, unpacks in progress) under
// <state_dir>/tmp, removed at the next open if its owner died (see
// store.h). Mounts are made in the calling process's mount namespace (the
// build runs in a private one: nothing leaks if it dies).
//
// Thread-safety: all members may be called from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mason/archive/layer.h"
#include "mason/archive/stream.h"
#include "mason/sys/dir.h"
#include "mason/util/error.h"

namespace mason::snapshot {

enum class Kind { overlay, copy };
enum class KindChoice { automatic, overlay, copy };

// A writable root over a parent chain. Destroying it without commit()
// unmounts and discards it.
class Active {
public:
  virtual ~Active() = default;
  virtual const std::string& path() const = 0; // the root (mounted for overlay)
};

// A read-only root of a committed chain; unmounted when destroyed.
class View {
public:
  virtual ~View() = default;
  virtual const std::string& path() const = 0;
};

struct SnapshotEntry {
  std::string id;
  std::optional<std::string> parent;
  bool unpacked = false; // an image layer (unpack()): shared, removed only by remove_layer()
};

using LayerOpener = std::function<util::Result<std::unique_ptr<archive::Source>>()>;

class Snapshotter {
public:
  virtual ~Snapshotter() = default;
  virtual Kind kind() const = 0;

  // The committed snapshot for an image layer chain, unpacking `open_layer`
  // (called only when needed) over `parent` if it is not there yet.
  // `chain_id` names the result (e.g. "sha256:<hex>" of the OCI ChainID).
  // `stats` (may be null) receives what the layer held when it was unpacked
  // by this call (left alone when the chain was there).
  virtual util::Result<std::string> unpack(const std::optional<std::string>& parent,
                                           const std::string& chain_id,
                                           const LayerOpener& open_layer,
                                           archive::ApplyStats* stats) = 0;

  // A writable root over `parent` (nullopt: empty root).
  virtual util::Result<std::unique_ptr<Active>>
  prepare(const std::optional<std::string>& parent) = 0;

  // Makes `active` a committed snapshot (a new unique id); its parent is the
  // one it was prepared over. Errors: unavailable if its root is still in
  // use (overlay: the mount stays busy for about a second); the active
  // snapshot is discarded on any error.
  virtual util::Result<std::string> commit(std::unique_ptr<Active> active) = 0;

  // A committed snapshot over `parent` whose own changes are the tree of
  // `layer`, a committed snapshot made over nothing by a copy (so without
  // whiteouts or opaque directories): what applying layer's diff over
  // `parent` gives, without writing or reading a layer. overlay: layer's
  // tree cloned with hard links, no file data copied. nullopt where the
  // kind cannot (copy: the caller applies the layer instead).
  virtual util::Result<std::optional<std::string>> stack(const std::optional<std::string>& parent,
                                                         const std::string& layer) = 0;

  // A read-only root of the committed chain ending at `id` (nullopt: an
  // empty directory).
  virtual util::Result<std::unique_ptr<View>> view(const std::optional<std::string>& id) = 0;

  // The changes of snapshot `id` against its parent as a layer (see
  // archive::write_layer for the tar form; options.tar.form is set here).
  virtual util::Result<archive::LayerInfo>
  diff(const std::string& id, const archive::LayerOptions& options, archive::Sink& out) = 0;

  // Removes a committed snapshot made by commit() (not unpacked layers, which
  // are shared). Snapshots whose parent it is must be removed first.
  virtual util::Status remove(const std::string& id) = 0;

  // Removes an unpacked image layer (unpack()), with remove()'s checks: no
  // snapshot built on it, not in use in this process. Other processes'
  // use is the caller's to exclude (gc::UsageLock).
  virtual util::Status remove_layer(const std::string& id) = 0;

  // Whether committed snapshot `id` (made by commit() or unpack()) exists.
  virtual util::Result<bool> exists(const std::string& id) = 0;

  // Every committed snapshot (order unspecified).
  virtual util::Result<std::vector<SnapshotEntry>> list() = 0;

  // What snapshot `id`'s own directory takes (bytes on disk, apparent
  // bytes, entries): its changes for the overlay kind, its whole tree for
  // the copy kind.
  virtual util::Result<sys::TreeUsage> usage(const std::string& id) = 0;

  // The parent of committed snapshot `id` (nullopt: none).
  virtual util::Result<std::optional<std::string>> parent(const std::string& id) = 0;
};

// What to do when overlayfs is unusable where the store lives (said with
// the reason whenever the automatic choice fell back to copies).
inline constexpr std::string_view k_copy_fallback_hint =
    "copies are slower and take more disk than overlay snapshots: put the store (--root or "
    "MASON_ROOT) on a file system that can hold an overlayfs upper directory (ext4, xfs, btrfs; "
    "not an overlay root, as inside a container), or choose --snapshotter copy to silence this";

// Opens (creating) the snapshot directory. KindChoice::automatic probes
// overlayfs (a test mount in state_dir) and falls back to copy; `why`
// receives the outcome (for a fallback: the probe's error, remembered in
// the directory for later opens).
util::Result<std::unique_ptr<Snapshotter>>
open_snapshotter(const std::string& state_dir, KindChoice choice, std::string* why = nullptr);

} // namespace mason::snapshot
