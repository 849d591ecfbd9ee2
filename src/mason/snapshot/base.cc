// The kind-independent steps of the snapshotter.
//
// unpack: a committed chain id is returned at once; else the producers of
// that id in this process queue on a per-id lock, the first fills a temp
// directory (fill_layer) and publishes it with one rename; a producer in
// another process that finished first makes our rename fail, and ours is
// discarded. commit: seal the active directory and publish it under a new
// random id. remove: the Store's checks and removal.
#include "mason/snapshot/base.h"
#include "mason/snapshot/tree_copy.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/snapshot/names.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"

namespace mason::snapshot::detail {

namespace {

constexpr std::size_t k_commit_id_chars = 20; // 100 random bits

} // namespace

util::Result<sys::UniqueFd> open_dir(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys::errno_error("open " + sys::quote(path), errno);
  return fd;
}

std::string SnapshotterBase::fs_path(const SnapshotInfo& info) const {
  return m_store->path() + "/" + info.name + "/" + std::string(k_fs_dir);
}

util::Result<sys::TempDir> SnapshotterBase::make_snapshot_dir(std::string_view what) {
  auto dir = m_store->make_temp(what);
  if (!dir) return dir;
  if (::mkdirat(dir->fd(), std::string(k_fs_dir).c_str(), 0755) != 0)
    return sys::errno_error("create " + sys::quote(dir->path() + "/fs"), errno);
  return dir;
}

util::Result<archive::ApplyStats> SnapshotterBase::apply(const LayerOpener& open_layer, int root_fd,
                                                         const archive::ApplyOptions& options) {
  auto source = open_layer();
  if (!source) return std::unexpected(std::move(source.error()).with_context("open layer"));
  return archive::apply_layer(**source, root_fd, options);
}

util::Result<std::unique_ptr<View>> SnapshotterBase::empty_view() {
  MASON_TRY_ASSIGN(auto dir, m_store->make_temp("empty"));
  if (::fchmodat(AT_FDCWD, dir.path().c_str(), 0755, 0) != 0)
    return sys::errno_error("chmod " + sys::quote(dir.path()), errno);
  RootParts parts = new_parts();
  parts.root = dir.path();
  parts.dir = std::move(dir);
  return std::make_unique<ViewImpl>(std::move(parts));
}

util::Result<bool> SnapshotterBase::publish(const sys::TempDir& dir, SnapshotInfo info) {
  if (linked()) {
    MASON_TRY_ASSIGN(auto link, m_store->make_link(info.name));
    info.link = std::move(link);
  }
  auto done = Store::write_info(dir, info);
  auto published = done ? m_store->publish(dir, info.name) : util::Result<bool>(false);
  if (!done || !published || !*published) m_store->drop_link(info.link);
  if (!done) return std::unexpected(std::move(done.error()));
  return published;
}

util::Result<std::optional<SnapshotInfo>>
SnapshotterBase::parent_info(const std::optional<std::string>& parent) {
  if (!parent) return std::optional<SnapshotInfo>();
  auto info = m_store->get(*parent);
  if (!info) return std::unexpected(std::move(info.error()).with_context("parent"));
  return std::optional<SnapshotInfo>(std::move(*info));
}

util::Result<std::string> SnapshotterBase::unpack(const std::optional<std::string>& parent,
                                                  const std::string& chain_id,
                                                  const LayerOpener& open_layer,
                                                  archive::ApplyStats* stats) {
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("unpack layer chain " + sys::quote(chain_id)));
  };
  auto name = dir_name_of(chain_id);
  if (!name) return fail(std::move(name.error()));
  // Under the per-id lock, the other producers in this process wait and
  // then find it done.
  auto key = m_store->lock_key(*name);
  auto found = m_store->find(chain_id);
  if (!found) return fail(std::move(found.error()));
  if (*found) return chain_id;
  auto pin = m_store->pin(parent);
  auto parent_snapshot = parent_info(parent);
  if (!parent_snapshot) return fail(std::move(parent_snapshot.error()));
  auto dir = m_store->make_temp("unpack");
  if (!dir) return fail(std::move(dir.error()));
  auto filled = fill_layer(*dir, *parent_snapshot, open_layer);
  if (!filled) return fail(std::move(filled.error()));
  // false: another process published it first; ours goes with `dir`.
  auto published = publish(*dir, {chain_id, *name, parent, "", true});
  if (!published) return fail(std::move(published.error()));
  if (stats != nullptr) *stats = *filled;
  return chain_id;
}

util::Result<std::string> SnapshotterBase::commit(std::unique_ptr<Active> active) {
  const auto fail = [](util::Error e) {
    return std::unexpected(std::move(e).with_context("commit snapshot"));
  };
  auto* impl = dynamic_cast<ActiveImpl*>(active.get());
  if (impl == nullptr || impl->parts().store != m_store)
    return fail(util::Error(util::ErrorCode::invalid_argument,
                            "not an active snapshot of this snapshotter"));
  RootParts& parts = impl->parts();
  if (auto st = seal(parts); !st) return fail(std::move(st.error()));
  auto id = publish_new(*parts.dir, parts.parent);
  if (!id) return fail(std::move(id.error()));
  return id;
}

util::Result<std::string> SnapshotterBase::publish_new(const sys::TempDir& dir,
                                                       const std::optional<std::string>& parent) {
  const std::string id = "snapshot-" + random_chars(k_commit_id_chars);
  MASON_TRY_ASSIGN(auto name, dir_name_of(id));
  MASON_TRY_ASSIGN(auto published, publish(dir, {id, name, parent, "", false}));
  if (!published)
    return util::make_error(util::ErrorCode::internal, "snapshot id " + id + " exists already");
  return id;
}

util::Result<std::optional<std::string>>
SnapshotterBase::stack(const std::optional<std::string>& parent, const std::string& layer) {
  if (!stacks()) return std::optional<std::string>();
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("stack snapshot " + sys::quote(layer)));
  };
  auto parent_pin = m_store->pin(parent);
  auto layer_pin = m_store->pin(layer);
  auto info = m_store->get(layer);
  if (!info) return fail(std::move(info.error()));
  if (info->parent || info->unpacked)
    return fail(util::Error(util::ErrorCode::invalid_argument,
                            "only a snapshot made over nothing can be stacked"));
  if (auto there = parent_info(parent); !there) return fail(std::move(there.error()));
  auto dir = make_snapshot_dir("stack");
  if (!dir) return fail(std::move(dir.error()));
  auto src = open_dir(fs_path(*info));
  if (!src) return fail(std::move(src.error()));
  auto dest = open_dir(dir->path() + "/" + std::string(k_fs_dir));
  if (!dest) return fail(std::move(dest.error()));
  if (auto copied = copy_tree(src->get(), dest->get(), FileCopy::hard_link); !copied)
    return fail(std::move(copied.error()));
  auto id = publish_new(*dir, parent);
  if (!id) return fail(std::move(id.error()));
  return std::optional<std::string>(std::move(*id));
}

util::Status SnapshotterBase::remove(const std::string& id) { return m_store->remove(id); }

util::Status SnapshotterBase::remove_layer(const std::string& id) {
  return m_store->remove(id, true);
}

util::Result<std::vector<SnapshotEntry>> SnapshotterBase::list() {
  MASON_TRY_ASSIGN(auto infos, m_store->list());
  std::vector<SnapshotEntry> out;
  out.reserve(infos.size());
  for (auto& info : infos)
    out.push_back({std::move(info.id), std::move(info.parent), info.unpacked});
  return out;
}

util::Result<sys::TreeUsage> SnapshotterBase::usage(const std::string& id) {
  MASON_TRY_ASSIGN(auto info, m_store->get(id));
  return sys::tree_usage(m_store->fd(), info.name);
}

util::Result<std::optional<std::string>> SnapshotterBase::parent(const std::string& id) {
  MASON_TRY_ASSIGN(auto info, m_store->get(id));
  return info.parent;
}

util::Result<bool> SnapshotterBase::exists(const std::string& id) {
  MASON_TRY_ASSIGN(auto info, m_store->find(id));
  return info.has_value();
}

} // namespace mason::snapshot::detail
