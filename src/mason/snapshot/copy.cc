// The copy snapshotter: every snapshot holds its full tree.
//
// prepare() and unpack() copy the parent's tree (copy_tree) into a temp
// dir, then stamp it: the file "copied", created after the copy, records
// by its ctime when the copy was complete, which lets diff() skip the
// content comparison of files nobody touched since (see tree_diff.h).
// unpack() then applies the layer in merged form; commit() publishes the
// temp dir; view() hands out the snapshot's own tree (read-only by
// contract: nothing is mounted); diff() is the double walk against the
// parent's tree.
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/archive/compression.h"
#include "mason/snapshot/base.h"
#include "mason/snapshot/kinds.h"
#include "mason/snapshot/names.h"
#include "mason/snapshot/tree_copy.h"
#include "mason/snapshot/tree_diff.h"
#include "mason/sys/errors.h"

namespace mason::snapshot::detail {

namespace {

archive::ApplyOptions merged_options() {
  archive::ApplyOptions options;
  options.target = archive::ApplyTarget::merged;
  if (::geteuid() != 0) {
    // As docker does without privileges: no device nodes, xattrs if allowed.
    options.devices = archive::DevicePolicy::skip;
    options.xattrs = archive::XattrPolicy::best_effort;
  }
  return options;
}

class CopySnapshotter final : public SnapshotterBase {
public:
  explicit CopySnapshotter(std::shared_ptr<Store> store) : SnapshotterBase(std::move(store)) {}

  Kind kind() const override { return Kind::copy; }
  util::Result<std::unique_ptr<Active>> prepare(const std::optional<std::string>& parent) override;
  util::Result<std::unique_ptr<View>> view(const std::optional<std::string>& id) override;
  util::Result<archive::LayerInfo> diff(const std::string& id, const archive::LayerOptions& options,
                                        archive::Sink& out) override;

protected:
  util::Result<archive::ApplyStats> fill_layer(const sys::TempDir& dir,
                                               const std::optional<SnapshotInfo>& parent,
                                               const LayerOpener& open_layer) override;
  util::Status seal(RootParts&) override { return {}; }
  bool linked() const override { return false; }
  bool stacks() const override { return false; }

private:
  util::Status populate(const sys::TempDir& dir, const std::optional<SnapshotInfo>& parent);
  util::Result<archive::LayerInfo> write_diff_layer(const SnapshotInfo& info,
                                                    const SnapshotInfo& parent,
                                                    const archive::LayerOptions& options,
                                                    archive::Sink& out);
};

// Makes `dir`/fs a copy of `parent`'s tree (or empty) and stamps it.
util::Status CopySnapshotter::populate(const sys::TempDir& dir,
                                       const std::optional<SnapshotInfo>& parent) {
  const std::string fs_dir = dir.path() + "/" + std::string(k_fs_dir);
  if (::mkdirat(dir.fd(), std::string(k_fs_dir).c_str(), 0755) != 0)
    return sys::errno_error("create " + sys::quote(fs_dir), errno);
  if (parent) {
    MASON_TRY_ASSIGN(auto src, open_dir(fs_path(*parent)));
    MASON_TRY_ASSIGN(auto dest, open_dir(fs_dir));
    if (auto copied = copy_tree(src.get(), dest.get()); !copied)
      return std::unexpected(
          std::move(copied.error()).with_context("copy snapshot " + sys::quote(parent->id)));
  }
  return write_small_file(dir.fd(), std::string(k_copied_file), "");
}

util::Result<archive::ApplyStats>
CopySnapshotter::fill_layer(const sys::TempDir& dir, const std::optional<SnapshotInfo>& parent,
                            const LayerOpener& open_layer) {
  MASON_TRY(populate(dir, parent));
  MASON_TRY_ASSIGN(auto fs, open_dir(dir.path() + "/" + std::string(k_fs_dir)));
  return apply(open_layer, fs.get(), merged_options());
}

util::Result<std::unique_ptr<Active>>
CopySnapshotter::prepare(const std::optional<std::string>& parent) {
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context(
        "prepare a snapshot over " + (parent ? sys::quote(*parent) : std::string("nothing"))));
  };
  RootParts parts = new_parts();
  parts.pin = m_store->pin(parent);
  parts.parent = parent;
  std::optional<SnapshotInfo> info;
  if (parent) {
    auto found = m_store->get(*parent);
    if (!found) return fail(std::move(found.error()));
    info = std::move(*found);
  }
  auto dir = m_store->make_temp("active");
  if (!dir) return fail(std::move(dir.error()));
  if (auto st = populate(*dir, info); !st) return fail(std::move(st.error()));
  parts.root = dir->path() + "/" + std::string(k_fs_dir);
  parts.dir = std::move(*dir);
  return std::make_unique<ActiveImpl>(std::move(parts));
}

util::Result<std::unique_ptr<View>> CopySnapshotter::view(const std::optional<std::string>& id) {
  if (!id) return empty_view();
  RootParts parts = new_parts();
  parts.pin = m_store->pin(id);
  auto info = m_store->get(*id);
  if (!info) return std::unexpected(std::move(info.error()).with_context("view"));
  parts.root = fs_path(*info);
  return std::make_unique<ViewImpl>(std::move(parts));
}

util::Result<archive::LayerInfo>
CopySnapshotter::write_diff_layer(const SnapshotInfo& info, const SnapshotInfo& parent,
                                  const archive::LayerOptions& options, archive::Sink& out) {
  MASON_TRY_ASSIGN(auto lower, open_dir(fs_path(parent)));
  MASON_TRY_ASSIGN(auto upper, open_dir(fs_path(info)));
  std::optional<timespec> copied_at;
  struct stat st {};
  const std::string stamp = info.name + "/" + std::string(k_copied_file);
  if (::fstatat(m_store->fd(), stamp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    copied_at = st.st_ctim;
  MASON_TRY_ASSIGN(auto layer, archive::LayerWriter::open(out, options.compress));
  archive::TarWriter tar(layer);
  MASON_TRY(write_diff(lower.get(), upper.get(), options.tar, copied_at, tar));
  MASON_TRY(tar.finish());
  return layer.finish();
}

util::Result<archive::LayerInfo> CopySnapshotter::diff(const std::string& id,
                                                       const archive::LayerOptions& options,
                                                       archive::Sink& out) {
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("diff snapshot " + sys::quote(id)));
  };
  auto info = m_store->get(id);
  if (!info) return fail(std::move(info.error()));
  archive::LayerOptions opts = options;
  opts.tar.form = archive::TreeForm::plain;
  if (!info->parent) {
    // Everything is new: the whole tree, as write_layer gives it.
    auto layer = archive::write_layer(fs_path(*info), opts, out);
    return layer ? layer : fail(std::move(layer.error()));
  }
  auto parent = m_store->get(*info->parent);
  if (!parent) return fail(std::move(parent.error()));
  auto layer = write_diff_layer(*info, *parent, opts, out);
  return layer ? layer : fail(std::move(layer.error()));
}

} // namespace

std::unique_ptr<Snapshotter> make_copy_snapshotter(std::shared_ptr<Store> store) {
  return std::make_unique<CopySnapshotter>(std::move(store));
}

} // namespace mason::snapshot::detail
