// Every path under a store root, named in one place.
//
//   <root>/blobs/sha256/<hex>     content: verified blobs
//   <root>/ingest/                content: blobs being written
//   <root>/leases/                content: one flocked file per live Store
//   <root>/metadata.db            content: names, references, cache records
//   <root>/lock                   content: the store lock (gc exclusive)
//   <root>/snapshots/             snapshots (overlay, or copies chosen when
//                                 overlayfs is unusable: the dir says which)
//   <root>/snapshots-copy/        snapshots of --snapshotter copy
//   <root>/cache-mounts/          RUN --mount=type=cache: <hash>/, <hash>.id
//   <root>/build-tmp/<pid>/       a running build's scratch (secrets,
//                                 downloads, rw binds); stale ones removed
//   <root>/run/                   the OCI runtime's state (runc --root)
//   <root>/cache/lock             builds shared, cache prune exclusive
//   <root>/cache/layers.lock      builds and containers shared, prune exclusive
//   <root>/cache/http/            ADD <url>: ETags and digests of responses
//   <root>/cache/context/<h>.stat the context's stat cache, per context dir
//   <root>/cache/tree-sizes       sizes of committed snapshots
//   <root>/cache/layer-sizes      (older versions; removed by cache prune)
//
// The content store opens its own entries relative to the root's
// descriptor with the k_ names; everything else is reached through
// StoreLayout. Pure naming: nothing here touches the file system.
#pragma once

#include <string>
#include <string_view>

namespace mason::content {

inline constexpr const char* k_blobs_dir = "blobs";
inline constexpr const char* k_ingest_dir = "ingest";
inline constexpr const char* k_leases_dir = "leases";
inline constexpr const char* k_metadata_db = "metadata.db";
inline constexpr const char* k_store_lock = "lock";

class StoreLayout {
public:
  explicit StoreLayout(std::string root) : m_root(std::move(root)) {}

  const std::string& root() const { return m_root; }
  std::string snapshots(bool copies_chosen) const {
    return at(copies_chosen ? "snapshots-copy" : "snapshots");
  }
  std::string cache_mounts() const { return at("cache-mounts"); }
  std::string build_tmp() const { return at("build-tmp"); }
  std::string runtime_state() const { return at("run"); }
  std::string cache_dir() const { return at("cache"); }
  std::string cache_lock() const { return at("cache/lock"); }
  std::string layers_lock() const { return at("cache/layers.lock"); }
  std::string http_cache() const { return at("cache/http"); }
  std::string context_stats() const { return at("cache/context"); }
  std::string tree_sizes() const { return at("cache/tree-sizes"); }
  std::string legacy_layer_sizes() const { return at("cache/layer-sizes"); }

private:
  std::string at(std::string_view name) const { return m_root + "/" + std::string(name); }
  std::string m_root;
};

} // namespace mason::content
