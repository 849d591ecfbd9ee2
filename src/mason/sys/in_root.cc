// Resolution inside a root: lexical clean, openat2(RESOLVE_IN_ROOT) for the
// parent, *at calls with no-follow for the final component.
//
// open_dir_in_root(create): try the whole path; on ENOENT walk it prefix by
// prefix, each prefix resolved again from the root (never from the previous
// directory, which RESOLVE_IN_ROOT would treat as a new root), mkdirat the
// missing component in its resolved parent, and reopen.
#include "mason/sys/in_root.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/util/path.h"

namespace mason::sys {

namespace {

constexpr int k_openat2_retries = 32;

// openat2 with RESOLVE_IN_ROOT; retries EAGAIN (a concurrent rename made
// the kernel give up on a safe ".." walk) and EINTR. Sets errno on failure.
int raw_open_in_root(int root_fd, const std::string& path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<__u64>(static_cast<unsigned>(flags | O_CLOEXEC));
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* p = path.empty() ? "." : path.c_str();
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root_fd, p, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if ((errno != EAGAIN && errno != EINTR) || attempt == k_openat2_retries) return -1;
  }
}

util::Status status_of(int rc, const std::string& what) {
  if (rc != 0) return errno_error(what, errno);
  return {};
}

util::Result<UniqueFd> create_dirs(int root_fd, const std::string& path) {
  UniqueFd cur(raw_open_in_root(root_fd, "", O_PATH | O_DIRECTORY, 0));
  if (!cur) return errno_error("open root", errno);
  std::size_t start = 0;
  while (start < path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string::npos ? path.size() : slash;
    const std::string prefix = path.substr(0, end);
    const std::string name = path.substr(start, end - start);
    UniqueFd next(raw_open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, 0));
    if (!next && errno == ENOENT) {
      if (::mkdirat(cur.get(), name.c_str(), 0755) == 0) {
        // Exact mode whatever the umask.
        static_cast<void>(::fchmodat(cur.get(), name.c_str(), 0755, 0));
      } else if (errno != EEXIST) {
        return errno_error("mkdir " + quote(prefix), errno);
      }
      next.reset(raw_open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, 0));
    }
    if (!next) return errno_error("open directory " + quote(prefix), errno);
    cur = std::move(next);
    start = end + 1;
  }
  return cur;
}

} // namespace

util::Result<std::string> clean_path(std::string_view path) {
  if (path.find('\0') != std::string_view::npos)
    return util::make_error(util::ErrorCode::invalid_argument, "path contains a NUL byte");
  std::string_view rest = path;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  auto clean = util::path_clean(rest); // relative: a climb above the root stays visible
  if (clean == ".." || clean.starts_with("../"))
    return util::make_error(util::ErrorCode::invalid_argument,
                            "path " + quote(path) + " escapes the root");
  return clean == "." ? std::string() : clean;
}

util::Result<UniqueFd> open_in_root(int root_fd, std::string_view path, int flags, mode_t mode) {
  MASON_TRY_ASSIGN(auto clean, clean_path(path));
  UniqueFd fd(raw_open_in_root(root_fd, clean, flags, mode));
  if (!fd) return errno_error("open " + quote(clean), errno);
  return fd;
}

util::Result<UniqueFd> open_dir_in_root(int root_fd, std::string_view path, Parents parents) {
  MASON_TRY_ASSIGN(auto clean, clean_path(path));
  UniqueFd fd(raw_open_in_root(root_fd, clean, O_PATH | O_DIRECTORY, 0));
  if (fd) return fd;
  if (errno != ENOENT || parents == Parents::must_exist)
    return errno_error("open directory " + quote(clean), errno);
  return create_dirs(root_fd, clean);
}

util::Result<RootedPath> RootedPath::resolve(int root_fd, std::string_view path, Parents parents) {
  MASON_TRY_ASSIGN(auto clean, clean_path(path));
  if (clean.empty())
    return util::make_error(util::ErrorCode::invalid_argument,
                            "path " + quote(path) + " names the root itself");
  const auto slash = clean.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : clean.substr(0, slash);
  std::string name = slash == std::string::npos ? clean : clean.substr(slash + 1);
  MASON_TRY_ASSIGN(auto dir, open_dir_in_root(root_fd, parent, parents));
  return RootedPath(std::move(dir), std::move(name), std::move(clean));
}

util::Result<std::optional<struct stat>> RootedPath::lstat() const {
  return lstat_at(dir_fd(), m_name);
}

util::Result<UniqueFd> RootedPath::open(int flags, mode_t mode) const {
  UniqueFd fd(::openat(dir_fd(), m_name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return errno_error("open " + quote(m_path), errno);
  return fd;
}

util::Status RootedPath::mkdir(mode_t mode) const {
  return status_of(::mkdirat(dir_fd(), m_name.c_str(), mode), "mkdir " + quote(m_path));
}

util::Status RootedPath::symlink(std::string_view target) const {
  const std::string t(target);
  return status_of(::symlinkat(t.c_str(), dir_fd(), m_name.c_str()),
                   "symlink " + quote(m_path) + " -> " + quote(target));
}

util::Status RootedPath::mknod(mode_t mode, dev_t dev) const {
  return status_of(::mknodat(dir_fd(), m_name.c_str(), mode, dev), "mknod " + quote(m_path));
}

util::Status RootedPath::link_to(const RootedPath& existing) const {
  return status_of(
      ::linkat(existing.dir_fd(), existing.m_name.c_str(), dir_fd(), m_name.c_str(), 0),
      "link " + quote(m_path) + " to " + quote(existing.m_path));
}

util::Status RootedPath::unlink() const {
  return status_of(::unlinkat(dir_fd(), m_name.c_str(), 0), "unlink " + quote(m_path));
}

util::Status RootedPath::remove_all() const {
  auto st = remove_all_at(dir_fd(), m_name);
  if (!st) return std::unexpected(std::move(st.error()).with_context("remove " + quote(m_path)));
  return {};
}

util::Status RootedPath::chown(uid_t uid, gid_t gid) const {
  return status_of(::fchownat(dir_fd(), m_name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW),
                   "chown " + quote(m_path));
}

util::Status RootedPath::chmod(mode_t mode) const {
  // glibc implements AT_SYMLINK_NOFOLLOW through an O_PATH descriptor and
  // refuses symlinks with EOPNOTSUPP, which is the no-op we document.
  if (::fchmodat(dir_fd(), m_name.c_str(), mode, AT_SYMLINK_NOFOLLOW) == 0) return {};
  if (errno == EOPNOTSUPP) {
    auto st = lstat();
    if (st && *st && S_ISLNK((*st)->st_mode)) return {};
    errno = EOPNOTSUPP;
  }
  return errno_error("chmod " + quote(m_path), errno);
}

util::Status RootedPath::set_times(const timespec& atime, const timespec& mtime) const {
  const timespec times[2] = {atime, mtime};
  return status_of(::utimensat(dir_fd(), m_name.c_str(), times, AT_SYMLINK_NOFOLLOW),
                   "set times of " + quote(m_path));
}

util::Status RootedPath::set_xattr(const std::string& key, std::string_view value) const {
  auto st = set_xattr_at(dir_fd(), m_name, key, value);
  if (!st) return std::unexpected(std::move(st.error()).with_context(quote(m_path)));
  return {};
}

util::Result<std::vector<Xattr>> RootedPath::xattrs() const {
  return list_xattrs_at(dir_fd(), m_name);
}

util::Result<std::string> RootedPath::readlink() const {
  std::string buf(256, '\0');
  for (;;) {
    const ssize_t n = ::readlinkat(dir_fd(), m_name.c_str(), buf.data(), buf.size());
    if (n < 0) return errno_error("readlink " + quote(m_path), errno);
    if (static_cast<std::size_t>(n) < buf.size()) {
      buf.resize(static_cast<std::size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

namespace {

template <class Op>
util::Status with_path(int root_fd, std::string_view path, Op op) {
  MASON_TRY_ASSIGN(auto p, RootedPath::resolve(root_fd, path));
  return op(p);
}

} // namespace

util::Status mkdir_in_root(int root_fd, std::string_view path, mode_t mode) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.mkdir(mode); });
}

util::Status symlink_in_root(int root_fd, std::string_view path, std::string_view target) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.symlink(target); });
}

util::Status link_in_root(int root_fd, std::string_view existing, std::string_view new_path) {
  MASON_TRY_ASSIGN(auto from, RootedPath::resolve(root_fd, existing));
  return with_path(root_fd, new_path, [&](const RootedPath& p) { return p.link_to(from); });
}

util::Status mknod_in_root(int root_fd, std::string_view path, mode_t mode, dev_t dev) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.mknod(mode, dev); });
}

util::Status unlink_in_root(int root_fd, std::string_view path) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.unlink(); });
}

util::Status remove_all_in_root(int root_fd, std::string_view path) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.remove_all(); });
}

util::Status chown_in_root(int root_fd, std::string_view path, uid_t uid, gid_t gid) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.chown(uid, gid); });
}

util::Status chmod_in_root(int root_fd, std::string_view path, mode_t mode) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.chmod(mode); });
}

util::Status utimens_in_root(int root_fd, std::string_view path, const timespec& atime,
                             const timespec& mtime) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.set_times(atime, mtime); });
}

util::Status setxattr_in_root(int root_fd, std::string_view path, const std::string& key,
                              std::string_view value) {
  return with_path(root_fd, path, [&](const RootedPath& p) { return p.set_xattr(key, value); });
}

} // namespace mason::sys
