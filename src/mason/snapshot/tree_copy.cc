// Tree copy: depth first over descriptors.
//
// For each name of a source directory: lstat; a non-directory already seen
// (by st_dev/st_ino) becomes a hard link to its first copy; otherwise the
// object is created in the destination directory with no-follow *at calls
// and gets owner, xattrs, mode and times in that order (chown clears
// setuid bits and file capabilities, so they come after it). Directories
// are created 0700, filled, and get their own metadata last.
#include "mason/snapshot/tree_copy.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/fs.h>
#include <map>
#include <string>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"

namespace mason::snapshot::detail {

namespace {

constexpr int k_dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::unexpected<util::Error> errno_at(const std::string& what, int err) {
  return sys::errno_error(what, err);
}

bool fallback_errno(int err) {
  return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == EBADF;
}

// [offset, offset + length) of `in` to the same offsets of `out`.
util::Status copy_range(int in, int out, off_t offset, off_t length) {
  off_t in_off = offset;
  off_t out_off = offset;
  bool in_kernel_copy = true;
  while (length > 0) {
    const auto want = static_cast<std::size_t>(length);
    ssize_t n = -1;
    if (in_kernel_copy) {
      n = ::copy_file_range(in, &in_off, out, &out_off, want, 0);
      if (n < 0 && fallback_errno(errno)) {
        in_kernel_copy = false;
        continue;
      }
    } else {
      if (::lseek(out, out_off, SEEK_SET) < 0) return errno_at("seek", errno);
      n = ::sendfile(out, in, &in_off, want);
      if (n > 0) out_off += n;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_at("copy data", errno);
    if (n == 0)
      return util::make_error(util::ErrorCode::unavailable, "file shrank while being copied");
    length -= n;
  }
  return {};
}

class TreeCopier {
public:
  TreeCopier(int dest_root, FileCopy files)
      : m_dest_root(dest_root), m_root(::geteuid() == 0), m_files(files) {}

  util::Status copy_children(int src, int dest, const std::string& prefix);
  util::Status copy_dir_meta(int src_parent, const std::string& name, int dest,
                             const struct stat& st, const std::string& rel);
  const CopyStats& stats() const { return m_stats; }

private:
  util::Status copy_entry(int src, int dest, const std::string& name, const std::string& rel,
                          const struct stat& st);
  util::Status copy_dir(int src, int dest, const std::string& name, const std::string& rel,
                        const struct stat& st);
  util::Status copy_file(int src, int dest, const std::string& name, const struct stat& st);
  util::Status copy_special(int src, int dest, const std::string& name, const struct stat& st);
  util::Result<bool> linked(const std::string& rel, const struct stat& st);
  template <class Set>
  util::Status copy_xattrs(int src, const std::string& name, Set set);
  util::Status meta_at(int src, int dest, const std::string& name, const struct stat& st);
  util::Status meta_fd(int src, const std::string& name, int fd, const struct stat& st);

  int m_dest_root;
  bool m_root;
  FileCopy m_files;
  CopyStats m_stats;
  std::map<std::pair<dev_t, ino_t>, std::string> m_links;
};

template <class Set>
util::Status TreeCopier::copy_xattrs(int src, const std::string& name, Set set) {
  MASON_TRY_ASSIGN(auto list, sys::list_xattrs_at(src, name));
  for (const auto& x : list) {
    if (x.name.starts_with("trusted.overlay.")) continue;
    auto st = set(x.name, x.value);
    if (st) continue;
    const int err = st.error().sys_errno();
    if (!m_root && (err == EPERM || err == EOPNOTSUPP || err == EACCES)) continue;
    return st;
  }
  return {};
}

util::Status TreeCopier::meta_fd(int src, const std::string& name, int fd, const struct stat& st) {
  if (m_root && ::fchown(fd, st.st_uid, st.st_gid) != 0) return errno_at("chown", errno);
  auto xattrs = copy_xattrs(src, name, [&](const std::string& k, const std::string& v) {
    return sys::set_xattr(fd, k, v);
  });
  if (!xattrs) return xattrs;
  if (::fchmod(fd, st.st_mode & 07777) != 0) return errno_at("chmod", errno);
  const timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(fd, times) != 0) return errno_at("set times", errno);
  return {};
}

util::Status TreeCopier::meta_at(int src, int dest, const std::string& name,
                                 const struct stat& st) {
  const char* n = name.c_str();
  if (m_root && ::fchownat(dest, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
    return errno_at("chown", errno);
  auto xattrs = copy_xattrs(src, name, [&](const std::string& k, const std::string& v) {
    return sys::set_xattr_at(dest, name, k, v);
  });
  if (!xattrs) return xattrs;
  // A symlink has no mode of its own; others were just made by us (no
  // symlink can be at `name`).
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dest, n, st.st_mode & 07777, 0) != 0)
    return errno_at("chmod", errno);
  const timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dest, n, times, AT_SYMLINK_NOFOLLOW) != 0) return errno_at("set times", errno);
  return {};
}

util::Status TreeCopier::copy_file(int src, int dest, const std::string& name,
                                   const struct stat& st) {
  sys::UniqueFd in(::openat(src, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in) return errno_at("open", errno);
  sys::UniqueFd out(
      ::openat(dest, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return errno_at("create", errno);
  if (auto s = copy_file_data(in.get(), out.get(), st.st_size); !s) return s;
  if (auto s = meta_fd(src, name, out.get(), st); !s) return s;
  m_stats.data_bytes += static_cast<std::uint64_t>(st.st_size);
  return out.close();
}

util::Status TreeCopier::copy_special(int src, int dest, const std::string& name,
                                      const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
    const ssize_t n = ::readlinkat(src, name.c_str(), target.data(), target.size());
    if (n < 0) return errno_at("readlink", errno);
    if (static_cast<std::size_t>(n) == target.size())
      return util::make_error(util::ErrorCode::unavailable, "symlink changed while being copied");
    target.resize(static_cast<std::size_t>(n));
    if (::symlinkat(target.c_str(), dest, name.c_str()) != 0) return errno_at("symlink", errno);
  } else if (::mknodat(dest, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) != 0) {
    return errno_at("mknod", errno);
  }
  return meta_at(src, dest, name, st);
}

util::Result<bool> TreeCopier::linked(const std::string& rel, const struct stat& st) {
  if (S_ISDIR(st.st_mode) || st.st_nlink < 2) return false;
  const auto [it, first] = m_links.try_emplace({st.st_dev, st.st_ino}, rel);
  if (first) return false;
  MASON_TRY(sys::link_in_root(m_dest_root, it->second, rel));
  ++m_stats.hardlinks;
  return true;
}

util::Status TreeCopier::copy_dir_meta(int src_parent, const std::string& name, int dest,
                                       const struct stat& st, const std::string& rel) {
  if (auto s = meta_fd(src_parent, name, dest, st); !s)
    return std::unexpected(std::move(s.error()).with_context("copy " + sys::quote(rel)));
  return {};
}

util::Status TreeCopier::copy_dir(int src, int dest, const std::string& name,
                                  const std::string& rel, const struct stat& st) {
  const auto here = [&](const std::string& what) {
    return std::unexpected(
        sys::errno_error(what, errno).error().with_context("copy " + sys::quote(rel)));
  };
  if (::mkdirat(dest, name.c_str(), 0700) != 0) return here("mkdir");
  sys::UniqueFd sub_src(::openat(src, name.c_str(), k_dir_flags));
  if (!sub_src) return here("open directory");
  sys::UniqueFd sub_dest(::openat(dest, name.c_str(), k_dir_flags));
  if (!sub_dest) return here("open new directory");
  if (auto s = copy_children(sub_src.get(), sub_dest.get(), rel + "/"); !s) return s;
  return copy_dir_meta(src, name, sub_dest.get(), st, rel);
}

util::Status TreeCopier::copy_entry(int src, int dest, const std::string& name,
                                    const std::string& rel, const struct stat& st) {
  ++m_stats.entries;
  if (S_ISDIR(st.st_mode)) return copy_dir(src, dest, name, rel, st);
  if (m_files == FileCopy::hard_link) { // the inode itself: data and metadata
    if (::linkat(src, name.c_str(), dest, name.c_str(), 0) != 0) return errno_at("link", errno);
    ++m_stats.hardlinks;
    return {};
  }
  MASON_TRY_ASSIGN(auto link, linked(rel, st));
  if (link) return {};
  if (S_ISREG(st.st_mode)) return copy_file(src, dest, name, st);
  return copy_special(src, dest, name, st);
}

util::Status TreeCopier::copy_children(int src, int dest, const std::string& prefix) {
  auto names = sys::read_dir_names(src);
  if (!names)
    return std::unexpected(std::move(names.error()).with_context("copy " + sys::quote(prefix)));
  for (const auto& name : *names) {
    const std::string rel = prefix + name;
    auto st = sys::lstat_at(src, name);
    if (!st) return std::unexpected(std::move(st.error()).with_context("copy " + sys::quote(rel)));
    if (!*st) continue; // vanished since the listing
    auto s = copy_entry(src, dest, name, rel, **st);
    // Directories add their context themselves, below.
    if (!s && !S_ISDIR((*st)->st_mode))
      return std::unexpected(std::move(s.error()).with_context("copy " + sys::quote(rel)));
    if (!s) return s;
  }
  return {};
}

} // namespace

util::Status copy_file_data(int in, int out, std::int64_t size) {
  if (size == 0) return {};
  if (::ioctl(out, FICLONE, in) == 0) return {};
  off_t pos = 0;
  while (pos < size) {
    off_t data = ::lseek(in, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break; // only a hole remains
    if (data < 0) data = pos;              // no SEEK_DATA here: copy all of it
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0 || hole > size) hole = size;
    if (hole > data)
      if (auto s = copy_range(in, out, data, hole - data); !s) return s;
    pos = hole > data ? hole : data + 1;
  }
  if (::ftruncate(out, size) != 0) return errno_at("truncate", errno);
  return {};
}

util::Result<CopyStats> copy_tree(int src_fd, int dest_fd, FileCopy files) {
  sys::UniqueFd src(::openat(src_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!src) return errno_at("open source tree", errno);
  sys::UniqueFd dest(::openat(dest_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dest) return errno_at("open destination tree", errno);
  TreeCopier copier(dest.get(), files);
  MASON_TRY(copier.copy_children(src.get(), dest.get(), ""));
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) return errno_at("stat source tree", errno);
  // The root's xattrs are read through its own directory entry "."
  MASON_TRY(copier.copy_dir_meta(src.get(), ".", dest.get(), st, "."));
  return copier.stats();
}

} // namespace mason::snapshot::detail
