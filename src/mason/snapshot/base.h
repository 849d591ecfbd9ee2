// What both snapshotter kinds share: the active and view objects, and the
// steps of unpack(), commit() and remove() that do not depend on the kind
// (claiming a chain id, publishing a finished directory, metadata).
//
// A kind supplies: how a layer fills a new snapshot directory
// (fill_layer), how an active snapshot is made ready to publish (seal),
// and whether snapshots get short links (overlay lowerdirs).
//
// Thread-safety: all members may be called from several threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "mason/archive/layer.h"
#include "mason/snapshot/mount.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/snapshot/store.h"
#include "mason/sys/temp_dir.h"

namespace mason::snapshot::detail {

// The resources of an active snapshot or a view; destroyed in reverse
// order: the mount goes before the directory it lives in, and the store
// (whose owner lock keeps the temp dir from being cleaned as stale) last.
struct RootParts {
  std::shared_ptr<Store> store;
  std::optional<sys::TempDir> dir;   // tmp/<token>-<what>-XXXXXX (none: a view of a snapshot dir)
  ScopedMount mount;                 // the overlay at `root` (overlay kind)
  Store::Pin pin;                    // the parent (active) or the viewed top
  std::optional<std::string> parent; // active: what it was prepared over
  std::string root;                  // the path handed out
};

class ActiveImpl final : public Active {
public:
  explicit ActiveImpl(RootParts parts) : m_parts(std::move(parts)) {}
  const std::string& path() const override { return m_parts.root; }
  RootParts& parts() { return m_parts; }

private:
  RootParts m_parts;
};

class ViewImpl final : public View {
public:
  explicit ViewImpl(RootParts parts) : m_parts(std::move(parts)) {}
  const std::string& path() const override { return m_parts.root; }

private:
  RootParts m_parts;
};

class SnapshotterBase : public Snapshotter {
public:
  explicit SnapshotterBase(std::shared_ptr<Store> store) : m_store(std::move(store)) {}

  util::Result<std::string> unpack(const std::optional<std::string>& parent,
                                   const std::string& chain_id, const LayerOpener& open_layer,
                                   archive::ApplyStats* stats) final;
  util::Result<std::string> commit(std::unique_ptr<Active> active) final;
  util::Result<std::optional<std::string>> stack(const std::optional<std::string>& parent,
                                                 const std::string& layer) final;
  util::Status remove(const std::string& id) final;
  util::Status remove_layer(const std::string& id) final;
  util::Result<bool> exists(const std::string& id) final;
  util::Result<std::vector<SnapshotEntry>> list() final;
  util::Result<sys::TreeUsage> usage(const std::string& id) final;
  util::Result<std::optional<std::string>> parent(const std::string& id) final;

protected:
  // Fills `dir`/fs (not yet created) with the snapshot of one more layer
  // over `parent`; returns what the layer held.
  virtual util::Result<archive::ApplyStats> fill_layer(const sys::TempDir& dir,
                                                       const std::optional<SnapshotInfo>& parent,
                                                       const LayerOpener& open_layer) = 0;
  // Makes an active snapshot's directory ready to publish.
  virtual util::Status seal(RootParts& parts) = 0;
  virtual bool linked() const = 0;
  // Whether a snapshot's own directory is its changes (overlay), so that
  // stack() can clone a layer's tree as another snapshot's changes.
  virtual bool stacks() const = 0;

  // Parts with the store set.
  RootParts new_parts() const {
    RootParts parts;
    parts.store = m_store;
    return parts;
  }
  // An empty directory as a view (view(nullopt)).
  util::Result<std::unique_ptr<View>> empty_view();
  // A fresh temp dir with an empty "fs" (mode 0755) inside.
  util::Result<sys::TempDir> make_snapshot_dir(std::string_view what);
  // Opens a layer and applies it under `root_fd` with `options`.
  static util::Result<archive::ApplyStats> apply(const LayerOpener& open_layer, int root_fd,
                                                 const archive::ApplyOptions& options);
  // <state>/<name>/fs of a snapshot.
  std::string fs_path(const SnapshotInfo& info) const;

  std::shared_ptr<Store> m_store;

private:
  util::Result<bool> publish(const sys::TempDir& dir, SnapshotInfo info);
  // Publishes `dir` as a committed snapshot over `parent` under a new id.
  util::Result<std::string> publish_new(const sys::TempDir& dir,
                                        const std::optional<std::string>& parent);
  util::Result<std::optional<SnapshotInfo>> parent_info(const std::optional<std::string>& parent);
};

// Opens `path` (under the state dir) as a directory descriptor.
util::Result<sys::UniqueFd> open_dir(const std::string& path);

} // namespace mason::snapshot::detail
