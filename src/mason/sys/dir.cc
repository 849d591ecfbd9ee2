// Directory listing and rm -rf on descriptors.
//
// remove_all_at: unlink the name; if it is a directory, open it with
// O_NOFOLLOW|O_DIRECTORY (so a symlink swapped in is never entered), give
// ourselves rwx on it if it lacks them (read-only trees of our own, e.g.
// extracted layers when rootless), remove its children depth first, then
// rmdir it. One descriptor is held per level.
#include "mason/sys/dir.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <set>
#include <unistd.h>

#include "mason/sys/errors.h"
#include "mason/sys/unique_fd.h"

namespace mason::sys {

namespace {

struct DirCloser {
  void operator()(DIR* dir) const { static_cast<void>(::closedir(dir)); }
};

util::Status remove_all_named(int dir_fd, const std::string& name, const std::string& shown);

util::Status remove_children_named(int dir_fd, const std::string& shown) {
  MASON_TRY_ASSIGN(auto names, read_dir_names(dir_fd));
  for (const auto& child : names) {
    auto st = remove_all_named(dir_fd, child, shown.empty() ? child : shown + "/" + child);
    if (!st) return st;
  }
  return {};
}

util::Status remove_all_named(int dir_fd, const std::string& name, const std::string& shown) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR) return errno_error("remove " + quote(shown), errno);
  constexpr int k_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd sub(::openat(dir_fd, name.c_str(), k_flags));
  if (!sub && errno == EACCES) {
    // Our own read-only directory (rootless): make it ours to empty.
    if (::fchmodat(dir_fd, name.c_str(), 0700, AT_SYMLINK_NOFOLLOW) == 0)
      sub.reset(::openat(dir_fd, name.c_str(), k_flags));
  }
  if (!sub) {
    if (errno == ENOENT) return {};
    return errno_error("open " + quote(shown), errno);
  }
  struct stat st {};
  if (::fstat(sub.get(), &st) == 0 && (st.st_mode & 0700) != 0700)
    static_cast<void>(::fchmod(sub.get(), st.st_mode | 0700));
  if (auto s = remove_children_named(sub.get(), shown); !s) return s;
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return errno_error("rmdir " + quote(shown), errno);
  return {};
}

} // namespace

util::Result<std::vector<std::string>> read_dir_names(int dir_fd) {
  // fdopendir takes ownership and needs a readable descriptor: reopen ".".
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open directory", errno);
  std::unique_ptr<DIR, DirCloser> dir(::fdopendir(fd));
  if (!dir) {
    const int err = errno;
    static_cast<void>(::close(fd));
    return errno_error("opendir", err);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  if (errno != 0) return errno_error("readdir", errno);
  std::sort(names.begin(), names.end());
  return names;
}

util::Result<std::optional<struct stat>> lstat_at(int dir_fd, std::string_view name) {
  struct stat st {};
  const std::string n(name);
  if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
  if (errno == ENOENT) return std::optional<struct stat>();
  return errno_error("lstat " + quote(name), errno);
}

util::Status remove_all_at(int dir_fd, std::string_view name) {
  const std::string n(name);
  return remove_all_named(dir_fd, n, n);
}

util::Status remove_children(int dir_fd) { return remove_children_named(dir_fd, ""); }

namespace {

struct UsageWalk {
  dev_t dev = 0;
  std::set<std::pair<dev_t, ino_t>> linked;
  TreeUsage usage;

  util::Status add(int dir_fd, const std::string& name, const std::string& path) {
    MASON_TRY_ASSIGN(auto st, lstat_at(dir_fd, name));
    if (!st) return {};
    const struct stat& s = *st;
    if (usage.entries == 0) dev = s.st_dev;
    if (s.st_dev != dev) return {}; // another file system mounted here
    if (!S_ISDIR(s.st_mode) && s.st_nlink > 1 && !linked.emplace(s.st_dev, s.st_ino).second)
      return {};
    ++usage.entries;
    usage.bytes += static_cast<std::int64_t>(s.st_blocks) * 512;
    if (S_ISREG(s.st_mode) || S_ISLNK(s.st_mode)) usage.apparent += s.st_size;
    if (!S_ISDIR(s.st_mode)) return {};
    UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) {
      if (errno == ENOENT) return {};
      return errno_error("open " + path, errno);
    }
    MASON_TRY_ASSIGN(auto names, read_dir_names(sub.get()));
    for (const auto& child : names)
      if (auto r = add(sub.get(), child, path + "/" + child); !r) return r;
    return {};
  }
};

} // namespace

util::Result<TreeUsage> tree_usage(int dir_fd, std::string_view name) {
  UsageWalk walk;
  const std::string n(name);
  MASON_TRY(walk.add(dir_fd, n, n));
  return walk.usage;
}

} // namespace mason::sys
