// Directory tree → tar entries.
//
// walk(dir): list the names (sorted), lstat each through the directory's
// descriptor, write its entry (converting overlay whiteouts and opaque
// markers in overlay_upper form), and recurse into subdirectories opened
// with O_NOFOLLOW. Hard links: a map (st_dev, st_ino) → first path.
#include "mason/archive/tree_writer.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"

namespace mason::archive {

namespace {

constexpr std::size_t k_read_chunk = 1 << 20;

class TreeWriter {
public:
  TreeWriter(const TarOptions& options, TarWriter& out) : m_opt(options), m_out(out) {}

  util::Status walk(int dir_fd, const std::string& prefix);
  const TreeStats& stats() const { return m_stats; }

private:
  util::Status write_one(int dir_fd, const std::string& name, const std::string& rel,
                         const struct stat& st);
  util::Status write_file_data(int dir_fd, const std::string& name, const std::string& rel,
                               std::int64_t size);
  util::Result<std::map<std::string, std::string>> xattrs_of(int dir_fd, const std::string& name,
                                                             const std::string& rel, bool& opaque);
  TarEntry base_entry(const std::string& rel, const struct stat& st) const;
  util::Status add(const TarEntry& e) {
    ++m_stats.entries;
    return m_out.add(e);
  }

  const TarOptions& m_opt;
  TarWriter& m_out;
  TreeStats m_stats;
  std::map<std::pair<dev_t, ino_t>, std::string> m_links;
  std::vector<std::byte> m_buf;
};

std::unexpected<util::Error> at_path(util::Error e, const std::string& rel) {
  return std::unexpected(std::move(e).with_context("archive \"" + rel + "\""));
}

TarEntry TreeWriter::base_entry(const std::string& rel, const struct stat& st) const {
  TarEntry e;
  e.name = rel;
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mtime = st.st_mtim.tv_sec;
  if (m_opt.clamp_mtime && e.mtime > *m_opt.clamp_mtime) e.mtime = *m_opt.clamp_mtime;
  return e;
}

util::Result<std::map<std::string, std::string>>
TreeWriter::xattrs_of(int dir_fd, const std::string& name, const std::string& rel, bool& opaque) {
  opaque = false;
  std::map<std::string, std::string> out;
  if (m_opt.xattrs == XattrSelection::none && m_opt.form == TreeForm::plain) return out;
  auto list = sys::list_xattrs_at(dir_fd, name);
  if (!list) return at_path(std::move(list.error()), rel);
  const bool overlay = m_opt.form == TreeForm::overlay_upper;
  const std::string ns(overlay_xattr_prefix(m_opt.overlay_xattrs));
  for (auto& x : *list) {
    if (overlay && x.name.starts_with(ns)) {
      const auto key = std::string_view(x.name).substr(ns.size());
      if (key == "opaque") opaque = x.value == "y";
      if (key == "redirect" || key == "metacopy")
        return at_path(util::Error(util::ErrorCode::unsupported,
                                   "overlay " + std::string(key) +
                                       " xattr found: upperdirs of redirect_dir or metacopy "
                                       "mounts cannot be archived"),
                       rel);
      continue;
    }
    if (x.name.starts_with("trusted.overlay.") || x.name == "security.selinux") continue;
    if (m_opt.xattrs == XattrSelection::all) out.emplace(std::move(x.name), std::move(x.value));
  }
  return out;
}

util::Status TreeWriter::write_file_data(int dir_fd, const std::string& name,
                                         const std::string& rel, std::int64_t size) {
  sys::UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return at_path(sys::errno_error("open", errno).error(), rel);
  m_buf.resize(k_read_chunk);
  auto left = static_cast<std::uint64_t>(size);
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, m_buf.size()));
    const ssize_t n = ::read(fd.get(), m_buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return at_path(sys::errno_error("read", errno).error(), rel);
    if (n == 0)
      return at_path(util::Error(util::ErrorCode::unavailable, "file shrank while being archived"),
                     rel);
    if (auto st = m_out.write_data(std::span(m_buf).first(static_cast<std::size_t>(n))); !st)
      return st;
    left -= static_cast<std::uint64_t>(n);
  }
  m_stats.data_bytes += static_cast<std::uint64_t>(size);
  return {};
}

util::Status TreeWriter::write_one(int dir_fd, const std::string& name, const std::string& rel,
                                   const struct stat& st) {
  const bool overlay = m_opt.form == TreeForm::overlay_upper;
  if (S_ISSOCK(st.st_mode)) {
    ++m_stats.skipped_sockets;
    return {};
  }
  if (overlay && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
    const auto slash = rel.rfind('/');
    TarEntry wh = base_entry(rel, st);
    wh.name = rel.substr(0, slash + 1) + std::string(k_whiteout_prefix) + name;
    wh.mode = 0600;
    ++m_stats.whiteouts;
    return add(wh);
  }
  bool opaque = false;
  auto xattrs = xattrs_of(dir_fd, name, rel, opaque);
  if (!xattrs) return std::unexpected(std::move(xattrs.error()));
  TarEntry e = base_entry(rel, st);
  e.xattrs = std::move(*xattrs);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    const auto [it, first] = m_links.try_emplace({st.st_dev, st.st_ino}, rel);
    if (!first) {
      e.type = EntryType::hardlink;
      e.linkname = it->second;
      ++m_stats.hardlinks;
      return add(e);
    }
  }
  if (S_ISREG(st.st_mode)) {
    e.type = EntryType::regular;
    e.size = st.st_size;
    if (auto s = add(e); !s) return s;
    ++m_stats.regular_files;
    return write_file_data(dir_fd, name, rel, st.st_size);
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
    for (;;) {
      const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) return at_path(sys::errno_error("readlink", errno).error(), rel);
      if (static_cast<std::size_t>(n) < target.size()) {
        target.resize(static_cast<std::size_t>(n));
        break;
      }
      target.resize(target.size() * 2);
    }
    e.type = EntryType::symlink;
    e.linkname = std::move(target);
    return add(e);
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    e.type = S_ISCHR(st.st_mode) ? EntryType::char_device : EntryType::block_device;
    e.dev_major = major(st.st_rdev);
    e.dev_minor = minor(st.st_rdev);
    return add(e);
  }
  if (S_ISFIFO(st.st_mode)) {
    e.type = EntryType::fifo;
    return add(e);
  }
  // A directory.
  e.type = EntryType::directory;
  e.name += '/';
  if (auto s = add(e); !s) return s;
  if (opaque) {
    TarEntry marker = base_entry(rel + "/" + std::string(k_whiteout_opaque), st);
    marker.mode = st.st_mode & 0777;
    ++m_stats.opaque_dirs;
    if (auto s = add(marker); !s) return s;
  }
  sys::UniqueFd sub(
      ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) return at_path(sys::errno_error("open directory", errno).error(), rel);
  return walk(sub.get(), rel + "/");
}

util::Status TreeWriter::walk(int dir_fd, const std::string& prefix) {
  auto names = sys::read_dir_names(dir_fd);
  if (!names) return at_path(std::move(names.error()), prefix.empty() ? "." : prefix);
  for (const auto& name : *names) {
    const std::string rel = prefix + name;
    auto st = sys::lstat_at(dir_fd, name);
    if (!st) return at_path(std::move(st.error()), rel);
    if (!*st) continue; // vanished since the listing
    if (auto s = write_one(dir_fd, name, rel, **st); !s) return s;
  }
  return {};
}

} // namespace

util::Result<TreeStats> write_tree(int root_fd, const TarOptions& options, TarWriter& out) {
  TreeWriter writer(options, out);
  sys::UniqueFd root(::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys::errno_error("open tree root", errno);
  if (auto st = writer.walk(root.get(), ""); !st) return std::unexpected(std::move(st.error()));
  return writer.stats();
}

} // namespace mason::archive
