// Applying a layer onto a directory.
//
// For each entry: clean its name lexically (escape = error); route
// whiteouts (".wh.*") to delete (merged form) or to mark (overlay form);
// otherwise open its parent inside the root (openat2 RESOLVE_IN_ROOT,
// creating missing directories), remove whatever non-mergeable thing sits
// at the name, create the object with no-follow *at calls, and set owner,
// mode, xattrs and times (regular files through their own descriptor).
// Every path created is remembered with its ancestors ("unpacked"), so
// whiteouts and opaque markers spare what this layer itself made.
// Directory modes and mtimes are set at the end, once nothing more is
// created inside them.
#include "mason/archive/layer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include "mason/archive/tar_reader.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/sys/xattr.h"

namespace mason::archive {

namespace {

constexpr std::size_t k_copy_chunk = 1 << 20;
constexpr std::size_t k_hole_block = 4096;

bool all_zero(const std::byte* p, std::size_t n) {
  static const std::array<std::byte, k_hole_block> zeros{};
  return n == k_hole_block && std::memcmp(p, zeros.data(), n) == 0;
}

class Applier {
public:
  Applier(int root_fd, const ApplyOptions& options, ApplyStats& stats)
      : m_root(root_fd), m_opt(options), m_stats(stats),
        m_chown(options.owners == OwnerPolicy::preserve ||
                (options.owners == OwnerPolicy::auto_detect && ::geteuid() == 0)) {}

  util::Status apply(const TarEntry& e, TarReader& tar);
  util::Status finish();

private:
  struct DirMeta {
    std::string path;
    mode_t mode;
    timespec mtime;
  };

  bool overlay() const { return m_opt.target == ApplyTarget::overlay_upper; }
  util::Status whiteout(const std::string& parent, const std::string& name);
  util::Status opaque(const std::string& dir);
  util::Status prune(int dir_fd, const std::string& dir_path);
  util::Status create(const sys::RootedPath& p, const TarEntry& e, TarReader& tar,
                      const sys::RootedPath* link, bool over_whiteout);
  util::Status create_file(const sys::RootedPath& p, const TarEntry& e, TarReader& tar);
  util::Status create_dir(const sys::RootedPath& p, const TarEntry& e, bool exists,
                          bool over_whiteout);
  util::Status create_link(const sys::RootedPath& p, const sys::RootedPath& target);
  util::Result<sys::RootedPath> link_target(const TarEntry& e, const std::string& name);
  util::Status write_data(int fd, const TarEntry& e, TarReader& tar);
  util::Status set_meta(const sys::RootedPath& p, const TarEntry& e);
  template <class Set>
  util::Status set_xattrs(const TarEntry& e, Set set);
  util::Status check_owner(const TarEntry& e) const;
  // false: skip the entry (policy); errors: refuse it.
  util::Result<bool> wanted_entry(const TarEntry& e) const;
  void mark(std::string path);

  int m_root;
  const ApplyOptions& m_opt;
  ApplyStats& m_stats;
  bool m_chown;
  std::unordered_set<std::string> m_unpacked;
  std::vector<DirMeta> m_dirs;
  std::vector<std::byte> m_buf;
};

void Applier::mark(std::string path) {
  while (!path.empty() && m_unpacked.insert(path).second) {
    const auto slash = path.rfind('/');
    path.resize(slash == std::string::npos ? 0 : slash);
  }
}

util::Result<bool> Applier::wanted_entry(const TarEntry& e) const {
  if (e.type == EntryType::unsupported)
    return util::make_error(util::ErrorCode::unsupported,
                            std::string("unsupported tar entry type '") + e.typeflag + "'");
  if (e.type == EntryType::char_device || e.type == EntryType::block_device) {
    if (m_opt.devices == DevicePolicy::skip) return false;
    if (m_opt.devices == DevicePolicy::reject)
      return util::make_error(util::ErrorCode::unsupported, "device nodes are not allowed here");
    if (overlay() && e.type == EntryType::char_device && e.dev_major == 0 && e.dev_minor == 0)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "a 0:0 character device would be an overlay whiteout");
  }
  MASON_TRY(check_owner(e));
  return true;
}

util::Status Applier::check_owner(const TarEntry& e) const {
  constexpr std::int64_t k_max_id = 0xfffffffe;
  if (m_chown && (e.uid < 0 || e.uid > k_max_id || e.gid < 0 || e.gid > k_max_id))
    return util::make_error(util::ErrorCode::invalid_argument, "uid/gid " + std::to_string(e.uid) +
                                                                   ":" + std::to_string(e.gid) +
                                                                   " out of range");
  return {};
}

template <class Set>
util::Status Applier::set_xattrs(const TarEntry& e, Set set) {
  for (const auto& [key, value] : e.xattrs) {
    const bool overlay_private =
        key.starts_with("trusted.overlay.") ||
        (overlay() && key.starts_with(overlay_xattr_prefix(m_opt.overlay_xattrs)));
    if (overlay_private || m_opt.xattrs == XattrPolicy::skip) {
      ++m_stats.skipped_xattrs;
      continue;
    }
    util::Status st = set(key, value);
    if (st) continue;
    const int err = st.error().sys_errno();
    if (m_opt.xattrs == XattrPolicy::best_effort &&
        (err == EOPNOTSUPP || err == EPERM || err == EACCES)) {
      ++m_stats.skipped_xattrs;
      continue;
    }
    return st;
  }
  return {};
}

util::Status pwrite_all(int fd, const std::byte* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("write", errno);
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

util::Status Applier::write_data(int fd, const TarEntry& e, TarReader& tar) {
  m_buf.resize(k_copy_chunk);
  std::uint64_t offset = 0;
  for (;;) {
    std::size_t filled = 0;
    while (filled < m_buf.size()) {
      MASON_TRY_ASSIGN(auto n, tar.read_data(std::span(m_buf).subspan(filled)));
      if (n == 0) break;
      filled += n;
    }
    // Buffers start at multiples of k_copy_chunk, so 4 KiB pieces are
    // block-aligned in the file: all-zero ones are left as holes.
    std::size_t i = 0;
    while (i < filled) {
      const auto piece = [&] { return std::min(k_hole_block, filled - i); };
      if (all_zero(m_buf.data() + i, piece())) {
        i += piece();
        continue;
      }
      const std::size_t start = i;
      while (i < filled && !all_zero(m_buf.data() + i, piece())) i += piece();
      if (auto st = pwrite_all(fd, m_buf.data() + start, i - start, offset + start); !st) return st;
    }
    offset += filled;
    if (filled < m_buf.size()) break;
  }
  if (::ftruncate(fd, static_cast<off_t>(e.size)) != 0) return sys::errno_error("truncate", errno);
  m_stats.data_bytes += static_cast<std::uint64_t>(e.size);
  return {};
}

util::Status Applier::create_file(const sys::RootedPath& p, const TarEntry& e, TarReader& tar) {
  MASON_TRY_ASSIGN(auto fd, p.open(O_WRONLY | O_CREAT | O_EXCL, 0600));
  if (auto st = write_data(fd.get(), e, tar); !st) return st;
  if (m_chown && ::fchown(fd.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0)
    return sys::errno_error("chown " + sys::quote(p.path()), errno);
  if (::fchmod(fd.get(), e.mode & 07777) != 0)
    return sys::errno_error("chmod " + sys::quote(p.path()), errno);
  const int raw = fd.get();
  if (auto st = set_xattrs(
          e, [&](const std::string& k, const std::string& v) { return sys::set_xattr(raw, k, v); });
      !st)
    return std::unexpected(std::move(st.error()).with_context(sys::quote(p.path())));
  const timespec times[2] = {{e.mtime, e.mtime_nsec}, {e.mtime, e.mtime_nsec}};
  if (::futimens(fd.get(), times) != 0)
    return sys::errno_error("set times of " + sys::quote(p.path()), errno);
  if (auto st = fd.close(); !st) return st;
  ++m_stats.regular_files;
  return {};
}

util::Status Applier::create_dir(const sys::RootedPath& p, const TarEntry& e, bool exists,
                                 bool over_whiteout) {
  if (!exists)
    if (auto st = p.mkdir(0700); !st) return st;
  MASON_TRY_ASSIGN(auto fd, p.open(O_RDONLY | O_DIRECTORY));
  if (m_chown && ::fchown(fd.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0)
    return sys::errno_error("chown " + sys::quote(p.path()), errno);
  const int raw = fd.get();
  if (auto st = set_xattrs(
          e, [&](const std::string& k, const std::string& v) { return sys::set_xattr(raw, k, v); });
      !st)
    return std::unexpected(std::move(st.error()).with_context(sys::quote(p.path())));
  if (overlay() && over_whiteout) {
    // The whiteout made earlier in this layer hid the lower directory;
    // the new one must keep hiding its contents.
    if (auto st = sys::set_xattr(raw, std::string(overlay_opaque_xattr(m_opt.overlay_xattrs)), "y");
        !st)
      return std::unexpected(std::move(st.error()).with_context(sys::quote(p.path())));
    ++m_stats.opaque_dirs;
  }
  m_dirs.push_back({p.path(), static_cast<mode_t>(e.mode & 07777), {e.mtime, e.mtime_nsec}});
  ++m_stats.directories;
  return {};
}

util::Status Applier::set_meta(const sys::RootedPath& p, const TarEntry& e) {
  if (m_chown)
    if (auto st = p.chown(static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)); !st) return st;
  if (e.type != EntryType::symlink)
    if (auto st = p.chmod(e.mode & 07777); !st) return st;
  if (auto st = set_xattrs(
          e, [&](const std::string& k, const std::string& v) { return p.set_xattr(k, v); });
      !st)
    return st;
  const timespec t{e.mtime, e.mtime_nsec};
  return p.set_times(t, t);
}

util::Status Applier::create_link(const sys::RootedPath& p, const sys::RootedPath& target) {
  if (auto st = p.link_to(target); !st) return st;
  ++m_stats.hardlinks;
  return {};
}

util::Result<sys::RootedPath> Applier::link_target(const TarEntry& e, const std::string& name) {
  auto path = sys::clean_path(e.linkname);
  if (!path) return std::unexpected(std::move(path.error()).with_context("hard link target"));
  if (*path == name)
    return util::make_error(util::ErrorCode::invalid_argument, "hard link to itself");
  const auto what = "hard link target " + sys::quote(*path);
  auto target = sys::RootedPath::resolve(m_root, *path);
  if (!target) return std::unexpected(std::move(target.error()).with_context(what));
  auto st = target->lstat();
  if (!st) return std::unexpected(std::move(st.error()).with_context(what));
  if (!*st)
    return util::make_error(util::ErrorCode::not_found,
                            what + " does not exist (it must be extracted before the link)");
  if (S_ISDIR((*st)->st_mode))
    return util::make_error(util::ErrorCode::invalid_argument, what + " is a directory");
  return target;
}

util::Status Applier::create(const sys::RootedPath& p, const TarEntry& e, TarReader& tar,
                             const sys::RootedPath* link, bool over_whiteout) {
  switch (e.type) {
  case EntryType::regular: return create_file(p, e, tar);
  case EntryType::directory: return create_dir(p, e, false, over_whiteout);
  case EntryType::hardlink: return create_link(p, *link);
  case EntryType::symlink:
    if (auto st = p.symlink(e.linkname); !st) return st;
    ++m_stats.symlinks;
    return set_meta(p, e);
  case EntryType::fifo:
    if (auto st = p.mknod(S_IFIFO | 0600, 0); !st) return st;
    ++m_stats.fifos;
    return set_meta(p, e);
  case EntryType::char_device:
  case EntryType::block_device: {
    const mode_t kind = e.type == EntryType::char_device ? S_IFCHR : S_IFBLK;
    if (auto st = p.mknod(kind | 0600, makedev(e.dev_major, e.dev_minor)); !st) return st;
    ++m_stats.devices;
    return set_meta(p, e);
  }
  case EntryType::unsupported: break;
  }
  return util::make_error(util::ErrorCode::internal, "unexpected entry type");
}

util::Status Applier::prune(int dir_fd, const std::string& dir_path) {
  MASON_TRY_ASSIGN(auto names, sys::read_dir_names(dir_fd));
  for (const auto& name : names) {
    const std::string child = dir_path.empty() ? name : dir_path + "/" + name;
    if (!m_unpacked.contains(child)) {
      if (auto st = sys::remove_all_at(dir_fd, name); !st) return st;
      continue;
    }
    MASON_TRY_ASSIGN(auto st, sys::lstat_at(dir_fd, name));
    if (!st || !S_ISDIR(st->st_mode)) continue;
    sys::UniqueFd sub(
        ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return sys::errno_error("open " + sys::quote(child), errno);
    if (auto s = prune(sub.get(), child); !s) return s;
  }
  return {};
}

util::Status Applier::opaque(const std::string& dir) {
  ++m_stats.opaque_dirs;
  auto fd = sys::open_dir_in_root(m_root, dir,
                                  overlay() ? sys::Parents::create : sys::Parents::must_exist);
  if (!fd) {
    // Merged form: no such directory below, nothing to hide.
    if (!overlay() && fd.error().code() == util::ErrorCode::not_found) return {};
    return std::unexpected(std::move(fd.error()));
  }
  if (auto st = prune(fd->get(), dir); !st) return st;
  if (!overlay()) return {};
  const std::string key(overlay_opaque_xattr(m_opt.overlay_xattrs));
  if (dir.empty()) {
    sys::UniqueFd root(::openat(fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) return sys::errno_error("open root", errno);
    return sys::set_xattr(root.get(), key, "y");
  }
  MASON_TRY_ASSIGN(auto p, sys::RootedPath::resolve(m_root, dir));
  return p.set_xattr(key, "y");
}

util::Status Applier::whiteout(const std::string& parent, const std::string& name) {
  if (name.empty() || name == "." || name == "..")
    return util::make_error(util::ErrorCode::invalid_argument, "invalid whiteout name");
  const std::string target = parent.empty() ? name : parent + "/" + name;
  if (m_unpacked.contains(target)) return {}; // this layer's own entry stays
  ++m_stats.whiteouts;
  auto p = sys::RootedPath::resolve(m_root, target,
                                    overlay() ? sys::Parents::create : sys::Parents::must_exist);
  if (!p) {
    if (!overlay() && p.error().code() == util::ErrorCode::not_found) return {};
    return std::unexpected(std::move(p.error()));
  }
  if (auto st = p->remove_all(); !st) return st;
  if (!overlay()) return {};
  if (auto st = p->mknod(S_IFCHR, makedev(0, 0)); !st) return st;
  mark(target);
  return {};
}

util::Status Applier::apply(const TarEntry& e, TarReader& tar) {
  ++m_stats.entries;
  MASON_TRY_ASSIGN(auto clean, sys::clean_path(e.name));
  if (clean.empty()) {
    if (e.type != EntryType::directory)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "a " + std::string(to_string(e.type)) + " cannot replace the root");
    ++m_stats.skipped_entries;
    return {};
  }
  const auto slash = clean.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : clean.substr(0, slash);
  const std::string base = slash == std::string::npos ? clean : clean.substr(slash + 1);
  if (base == k_whiteout_opaque) return opaque(parent);
  if (base.starts_with(k_whiteout_meta_prefix) || clean.starts_with(k_whiteout_meta_prefix)) {
    ++m_stats.skipped_entries; // AUFS metadata
    return {};
  }
  if (base.starts_with(k_whiteout_prefix))
    return whiteout(parent, base.substr(k_whiteout_prefix.size()));

  MASON_TRY_ASSIGN(auto wanted, wanted_entry(e));
  if (!wanted) {
    ++m_stats.skipped_entries;
    return {};
  }
  MASON_TRY_ASSIGN(auto p, sys::RootedPath::resolve(m_root, clean, sys::Parents::create));
  std::optional<sys::RootedPath> link;
  if (e.type == EntryType::hardlink) {
    // Check the target before anything at the name is removed.
    MASON_TRY_ASSIGN(auto target, link_target(e, clean));
    link.emplace(std::move(target));
  }
  MASON_TRY_ASSIGN(auto existing, p.lstat());
  bool over_whiteout = false;
  if (existing) {
    const auto& st = *existing;
    if (S_ISDIR(st.st_mode) && e.type == EntryType::directory) {
      if (auto s = create_dir(p, e, true, false); !s) return s;
      mark(clean);
      return {};
    }
    over_whiteout = overlay() && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
    if (auto s = p.remove_all(); !s) return s;
  }
  if (auto s = create(p, e, tar, link ? &*link : nullptr, over_whiteout); !s) return s;
  mark(clean);
  return {};
}

util::Status Applier::finish() {
  for (const auto& d : m_dirs) {
    auto p = sys::RootedPath::resolve(m_root, d.path);
    if (!p) continue; // removed or replaced later in the layer
    auto st = p->lstat();
    if (!st || !*st || !S_ISDIR((*st)->st_mode)) continue;
    if (auto s = p->chmod(d.mode); !s) return s;
    if (auto s = p->set_times(d.mtime, d.mtime); !s) return s;
  }
  return {};
}

} // namespace

util::Result<LayerInfo> write_layer(int root_fd, const LayerOptions& options, Sink& out) {
  auto layer = LayerWriter::open(out, options.compress);
  if (!layer) return std::unexpected(std::move(layer.error()));
  TarWriter tar(*layer);
  if (auto st = write_tree(root_fd, options.tar, tar); !st)
    return std::unexpected(std::move(st.error()).with_context("write layer"));
  if (auto st = tar.finish(); !st)
    return std::unexpected(std::move(st.error()).with_context("write layer"));
  return layer->finish();
}

util::Result<LayerInfo> write_layer(const std::string& root, const LayerOptions& options,
                                    Sink& out) {
  sys::UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys::errno_error("open " + sys::quote(root), errno);
  return write_layer(fd.get(), options, out);
}

util::Result<ApplyStats> apply_layer(Source& layer, int dest_root_fd, const ApplyOptions& options) {
  const auto fail = [](util::Error e) {
    return std::unexpected(std::move(e).with_context("apply layer"));
  };
  auto reader = LayerReader::open(layer, options.read);
  if (!reader) return fail(std::move(reader.error()));
  ApplyStats stats;
  stats.compression = reader->compression();
  Applier applier(dest_root_fd, options, stats);
  TarReader tar(*reader);
  for (;;) {
    auto entry = tar.next();
    if (!entry) return fail(std::move(entry.error()));
    if (!*entry) break;
    const TarEntry& e = **entry;
    if (auto st = applier.apply(e, tar); !st)
      return fail(std::move(st.error())
                      .with_context("entry " + sys::quote(e.name) + " at offset " +
                                    std::to_string(e.offset)));
  }
  if (auto st = tar.drain(); !st) return fail(std::move(st.error()));
  if (auto st = applier.finish(); !st) return fail(std::move(st.error()));
  stats.digest = reader->digest();
  stats.diff_id = reader->diff_id();
  stats.size = reader->size();
  stats.uncompressed_size = reader->uncompressed_size();
  return stats;
}

} // namespace mason::archive
