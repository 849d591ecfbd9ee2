// The overlay snapshotter.
//
// A snapshot's fs/ is an overlay upperdir. prepare() mounts the parent
// chain (LowerPlanner: short links, flattened when long) under a new
// upper in a temp dir; commit() unmounts, drops the workdir and publishes
// the temp dir. unpack() applies the layer in upper form into a new fs/;
// a hard link to a file that only a lower layer has cannot be made there
// (not_found), so then the layer is applied again, in merged form, through
// an overlay mount of the parent chain over the new upper (the kernel
// copies the link target up). view() mounts the chain read-only (a single
// layer gets the always-empty directory as second lower, since overlay
// needs two lowers without an upper). diff() archives the upperdir.
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/snapshot/base.h"
#include "mason/snapshot/kinds.h"
#include "mason/snapshot/lowers.h"
#include "mason/snapshot/names.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"

namespace mason::snapshot::detail {

namespace {

const std::string k_fs(k_fs_dir);
const std::string k_work(k_work_dir);
constexpr std::string_view k_merged = "merged";

util::Status make_dirs(const sys::TempDir& dir) {
  for (const auto name : {k_work_dir, k_merged})
    if (::mkdirat(dir.fd(), std::string(name).c_str(), name == k_merged ? 0755 : 0700) != 0)
      return sys::errno_error("create " + sys::quote(dir.path() + "/" + std::string(name)), errno);
  return {};
}

util::Status drop_dirs(const sys::TempDir& dir) {
  if (auto st = sys::remove_all_at(dir.fd(), k_work); !st) return st;
  if (::unlinkat(dir.fd(), std::string(k_merged).c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return sys::errno_error("remove " + sys::quote(dir.path() + "/merged"), errno);
  return {};
}

archive::ApplyOptions apply_options(archive::ApplyTarget target) {
  archive::ApplyOptions options;
  options.target = target;
  options.overlay_xattrs = archive::OverlayXattrs::trusted;
  return options;
}

class OverlaySnapshotter final : public SnapshotterBase {
public:
  OverlaySnapshotter(std::shared_ptr<Store> store, const OverlayLimits& limits)
      : SnapshotterBase(std::move(store)), m_planner(*m_store, limits) {}

  Kind kind() const override { return Kind::overlay; }
  util::Result<std::unique_ptr<Active>> prepare(const std::optional<std::string>& parent) override;
  util::Result<std::unique_ptr<View>> view(const std::optional<std::string>& id) override;
  util::Result<archive::LayerInfo> diff(const std::string& id, const archive::LayerOptions& options,
                                        archive::Sink& out) override;

protected:
  util::Result<archive::ApplyStats> fill_layer(const sys::TempDir& dir,
                                               const std::optional<SnapshotInfo>& parent,
                                               const LayerOpener& open_layer) override;
  util::Status seal(RootParts& parts) override;
  bool linked() const override { return true; }
  bool stacks() const override { return true; }

private:
  util::Result<ScopedMount> mount_writable(const sys::TempDir& dir,
                                           const std::optional<std::string>& parent);
  util::Result<archive::ApplyStats> apply_merged(const sys::TempDir& dir, const std::string& parent,
                                                 const LayerOpener& open_layer);

  LowerPlanner m_planner;
};

util::Result<ScopedMount>
OverlaySnapshotter::mount_writable(const sys::TempDir& dir,
                                   const std::optional<std::string>& parent) {
  OverlaySpec spec;
  spec.upper = Store::relative(dir) + "/" + k_fs;
  spec.work = Store::relative(dir) + "/" + k_work;
  if (parent) {
    // What the upper and work dirs add to the mount data.
    const std::size_t reserved = overlay_options({{"x"}, spec.upper, spec.work}).size() -
                                 overlay_options({{"x"}, "", ""}).size();
    MASON_TRY_ASSIGN(auto lowers, m_planner.lowers(*parent, reserved));
    spec.lowers = std::move(lowers);
  } else {
    spec.lowers.emplace_back(k_empty_dir);
  }
  return ScopedMount::overlay(m_store->fd(), dir.path() + "/" + std::string(k_merged), spec);
}

util::Result<archive::ApplyStats> OverlaySnapshotter::apply_merged(const sys::TempDir& dir,
                                                                   const std::string& parent,
                                                                   const LayerOpener& open_layer) {
  sys::UniqueFd fs(::openat(dir.fd(), k_fs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fs) return sys::errno_error("open " + sys::quote(dir.path() + "/fs"), errno);
  MASON_TRY(sys::remove_children(fs.get()));
  MASON_TRY(make_dirs(dir));
  MASON_TRY_ASSIGN(auto mount, mount_writable(dir, parent));
  MASON_TRY_ASSIGN(auto root, open_dir(mount.target()));
  auto applied = apply(open_layer, root.get(), apply_options(archive::ApplyTarget::merged));
  if (!applied) return std::unexpected(std::move(applied.error()).with_context("through overlay"));
  root.reset();
  MASON_TRY(mount.unmount());
  MASON_TRY(drop_dirs(dir));
  return applied;
}

util::Result<archive::ApplyStats>
OverlaySnapshotter::fill_layer(const sys::TempDir& dir, const std::optional<SnapshotInfo>& parent,
                               const LayerOpener& open_layer) {
  if (::mkdirat(dir.fd(), k_fs.c_str(), 0755) != 0)
    return sys::errno_error("create " + sys::quote(dir.path() + "/fs"), errno);
  MASON_TRY_ASSIGN(auto fs, open_dir(dir.path() + "/" + k_fs));
  auto applied = apply(open_layer, fs.get(), apply_options(archive::ApplyTarget::overlay_upper));
  if (applied) return applied;
  // A hard link to a file only a lower layer has: let the kernel copy it up.
  if (applied.error().code() != util::ErrorCode::not_found || !parent)
    return std::unexpected(std::move(applied.error()));
  return apply_merged(dir, parent->id, open_layer);
}

util::Result<std::unique_ptr<Active>>
OverlaySnapshotter::prepare(const std::optional<std::string>& parent) {
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context(
        "prepare a snapshot over " + (parent ? sys::quote(*parent) : std::string("nothing"))));
  };
  RootParts parts = new_parts();
  parts.pin = m_store->pin(parent);
  parts.parent = parent;
  auto dir = make_snapshot_dir("active");
  if (!dir) return fail(std::move(dir.error()));
  parts.dir = std::move(*dir);
  if (auto st = make_dirs(*parts.dir); !st) return fail(std::move(st.error()));
  auto mount = mount_writable(*parts.dir, parent);
  if (!mount) return fail(std::move(mount.error()));
  parts.root = mount->target();
  parts.mount = std::move(*mount);
  return std::make_unique<ActiveImpl>(std::move(parts));
}

util::Status OverlaySnapshotter::seal(RootParts& parts) {
  if (auto st = parts.mount.unmount(UnmountMode::strict); !st) return st;
  return drop_dirs(*parts.dir);
}

util::Result<std::unique_ptr<View>> OverlaySnapshotter::view(const std::optional<std::string>& id) {
  if (!id) return empty_view();
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("view snapshot " + sys::quote(*id)));
  };
  RootParts parts = new_parts();
  parts.pin = m_store->pin(id);
  const std::string spare = ":" + std::string(k_empty_dir);
  auto lowers = m_planner.lowers(*id, spare.size());
  if (!lowers) return fail(std::move(lowers.error()));
  if (lowers->size() == 1) lowers->emplace_back(k_empty_dir);
  auto dir = m_store->make_temp("view");
  if (!dir) return fail(std::move(dir.error()));
  auto mount = ScopedMount::overlay(m_store->fd(), dir->path(), {*lowers, "", ""});
  if (!mount) return fail(std::move(mount.error()));
  parts.root = dir->path();
  parts.dir = std::move(*dir);
  parts.mount = std::move(*mount);
  return std::make_unique<ViewImpl>(std::move(parts));
}

util::Result<archive::LayerInfo> OverlaySnapshotter::diff(const std::string& id,
                                                          const archive::LayerOptions& options,
                                                          archive::Sink& out) {
  auto info = m_store->get(id);
  if (!info) return std::unexpected(std::move(info.error()).with_context("diff"));
  archive::LayerOptions opts = options;
  opts.tar.form = archive::TreeForm::overlay_upper;
  opts.tar.overlay_xattrs = archive::OverlayXattrs::trusted;
  auto layer = archive::write_layer(fs_path(*info), opts, out);
  if (!layer)
    return std::unexpected(
        std::move(layer.error()).with_context("diff snapshot " + sys::quote(id)));
  return layer;
}

} // namespace

std::unique_ptr<Snapshotter> make_overlay_snapshotter(std::shared_ptr<Store> store,
                                                      const OverlayLimits& limits) {
  return std::make_unique<OverlaySnapshotter>(std::move(store), limits);
}

util::Status probe_overlay(Store& store) {
  MASON_TRY_ASSIGN(auto dir, store.make_temp("probe"));
  for (const char* name : {"lower", "upper", "work", "merged"})
    if (::mkdirat(dir.fd(), name, 0700) != 0)
      return sys::errno_error("create probe directory " + std::string(name), errno);
  sys::UniqueFd file(
      ::openat(dir.fd(), "lower/file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!file) return sys::errno_error("create probe file", errno);
  file.reset();
  const std::string rel = Store::relative(dir);
  auto mount = ScopedMount::overlay(store.fd(), dir.path() + "/merged",
                                    {{rel + "/lower"}, rel + "/upper", rel + "/work"});
  if (!mount) return std::unexpected(std::move(mount.error()));
  if (::unlink((dir.path() + "/merged/file").c_str()) != 0)
    return sys::errno_error("remove a lower file through the probe mount", errno);
  return mount->unmount();
}

} // namespace mason::snapshot::detail
