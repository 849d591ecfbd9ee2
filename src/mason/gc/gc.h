// Garbage collection of a store beside the content store's own blob GC:
// the build cache as a whole (what it holds: records, their snapshots,
// cache mounts; pruning it; the automatic size limit), the unpacked layers
// of images that are gone, `mason prune` as one operation (prune_store),
// and the usage locks that keep a prune from removing what a running build
// or container uses.
//
// A record keeps its snapshot, and a snapshot keeps its parent chain (an
// overlay snapshot is mounted over its ancestors), so pruning is by
// records: the evicted records are deleted, then every snapshot made by a
// build that no remaining record needs (itself or as an ancestor) is
// removed, deepest first. Unpacked image layers are shared with images and
// are not the cache's. Layer blobs the evicted records kept are freed by
// the content store's GC, which a prune runs at the end.
//
// Locking: a build holds <root>/cache/lock shared from start to end; a
// prune holds it exclusively, so it never runs while a build does (the
// automatic one after a build only when no other build is running).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/sys/unique_fd.h"
#include "mason/util/error.h"

namespace mason::gc {

// The store's two usage locks (StoreLayout::cache_lock, layers_lock):
// `build_cache` (builds shared, cache prunes exclusive) and `image_layers`
// (builds and `mason run` shared while they use unpacked image layers,
// `mason prune` exclusive to remove them). A long-running container holds
// only the second, so it never holds up a cache prune.
class UsageLock {
public:
  enum class Guards { build_cache, image_layers };
  enum class Mode { shared, exclusive };
  enum class Wait { block, try_only }; // try_only: unavailable when held
  static util::Result<UsageLock> take(const std::string& root, Guards what, Mode mode,
                                      Wait wait = Wait::block);
  void release() { m_fd.reset(); }

private:
  explicit UsageLock(sys::UniqueFd fd) : m_fd(std::move(fd)) {}
  sys::UniqueFd m_fd;
};

struct CacheEntry {
  content::CacheRecord record;
  std::string step;    // the instruction, as the record's inputs name it
  bool present = true; // its snapshot still exists
};

struct CacheMount {
  std::string id;   // the mount's id (or its target when no id was given)
  std::string path; // the host directory
  std::int64_t bytes = 0;
  std::chrono::system_clock::time_point last_used;
};

struct CacheListing {
  std::vector<CacheEntry> records; // most recently used first
  std::vector<CacheMount> mounts;
  std::int64_t record_bytes = 0; // sum of the records' sizes
};

// The cache mounts under `root` (none when the directory is missing).
util::Result<std::vector<CacheMount>> list_cache_mounts(const std::string& root);

util::Result<CacheListing> list_cache(content::Store& store, snapshot::Snapshotter& snapshots,
                                      const std::string& root);

struct PruneOptions {
  // Keep the most recently used records whose sizes add up to at most this.
  std::optional<std::int64_t> keep_bytes;
  // Only records (and cache mounts) not used for this long.
  std::optional<std::chrono::seconds> unused_for;
  bool mounts = true; // cache mounts too (never with keep_bytes)
  bool dry_run = false;
};

struct PruneReport {
  std::int64_t records = 0;
  std::int64_t snapshots = 0;
  std::int64_t mounts = 0;
  std::int64_t bytes = 0; // snapshots, mounts and blobs freed
};

// Call with the build_cache UsageLock held exclusively.
util::Result<PruneReport> prune_cache(content::Store& store, snapshot::Snapshotter& snapshots,
                                      const std::string& root, const PruneOptions& options);

// The automatic limit on the records' total size: `configured` (the CLI
// reads MASON_CACHE_MAX_SIZE with parse_size), else 10% of the file
// system holding `root`, at least 2 GB.
std::int64_t cache_size_limit(const std::string& root, std::optional<std::int64_t> configured);

// "10GB", "1.5gb", "500MB", "123" (bytes): decimal units as docker's
// --keep-storage; invalid_argument otherwise.
util::Result<std::int64_t> parse_size(std::string_view text);

// A step that ran although its key had a record (--no-cache,
// --no-cache-filter) may have given another result: every record computed
// from the old one (its parent chain or a COPY --from / bind of its stage,
// transitively) is deleted, so that no later lookup mixes old and new.
util::Status drop_dependents(content::Store& store, const std::string& key);

struct LayerPruneReport {
  std::vector<std::string> layers; // removed (or, dry run, removable): ChainIDs
  std::int64_t bytes = 0;
};

// Unpacked image layers that no image in the store has (by the ChainIDs of
// its config's diff_ids) and no other snapshot is built on (a build cache
// record's snapshot chain), deepest first: what `mason rmi` + `mason prune`
// leave behind. Call with the image_layers UsageLock held exclusively.
util::Result<LayerPruneReport> prune_image_layers(content::Store& store,
                                                  snapshot::Snapshotter& snapshots,
                                                  const std::string& root, bool dry_run);

// Where cache mounts live, and the file next to each that names its id.
std::string cache_mounts_dir(const std::string& root);

// The store's snapshotters: the directories of both kinds, where present
// (opening creates nothing).
util::Result<std::vector<std::unique_ptr<snapshot::Snapshotter>>>
existing_snapshotters(const std::string& root);

// `mason prune`: the content store's blob GC, then the unpacked layers of
// images no longer in the store, in every snapshot directory; the layers
// are skipped (layers_skipped) while a build or a container holds the
// image_layers lock.
struct StorePruneReport {
  std::vector<image::Digest> blobs;
  std::vector<std::string> layers;
  bool layers_skipped = false;
  std::int64_t bytes = 0;
};
util::Result<StorePruneReport> prune_store(content::Store& store, bool dry_run);

} // namespace mason::gc
