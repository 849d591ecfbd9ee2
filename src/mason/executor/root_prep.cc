// Working directory creation and mount-stub cleanup (BuildKit's
// executor/stubs.go with recursive removal, re-stated on descriptors).
//
// record: for each destination, walk from the full path towards the root
// while the path is missing; every missing path is a stub candidate. The
// set is sorted deepest first so a parent comes after all its children.
// remove: for each candidate, open its parent inside the root, check the
// entry with fstatat(AT_SYMLINK_NOFOLLOW), and unlinkat it only when it is
// an empty regular file or a directory (AT_REMOVEDIR fails on a non-empty
// one, so emptiness needs no listing).
#include "mason/executor/root_prep.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"

namespace mason::executor {

namespace {

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// True if nothing exists at `path` (a missing or non-directory parent
// counts as missing: the runtime would create that too).
bool is_missing(int root_fd, const std::string& path) {
  auto entry = sys::RootedPath::resolve(root_fd, path);
  if (!entry) return entry.error().code() == util::ErrorCode::not_found;
  auto st = entry->lstat();
  return st && !st->has_value();
}

std::size_t depth(const std::string& path) {
  return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

util::Status make_dir(int root_fd, const std::string& path, std::uint32_t uid, std::uint32_t gid) {
  MASON_TRY_ASSIGN(auto entry, sys::RootedPath::resolve(root_fd, path));
  if (auto st = entry.mkdir(0755); !st) return st;
  if (auto st = entry.chmod(0755); !st) return st; // whatever the umask
  return entry.chown(uid, gid);
}

// Removes `name` in `dir_fd` if it is an empty file or directory,
// restoring the directory's times afterwards.
bool remove_if_empty(int dir_fd, const std::string& name) {
  struct stat entry {};
  if (::fstatat(dir_fd, name.c_str(), &entry, AT_SYMLINK_NOFOLLOW) != 0) return false;
  const bool dir = S_ISDIR(entry.st_mode);
  if (!dir && !(S_ISREG(entry.st_mode) && entry.st_size == 0)) return false;
  struct stat parent {};
  if (::fstat(dir_fd, &parent) != 0) return false;
  if (::unlinkat(dir_fd, name.c_str(), dir ? AT_REMOVEDIR : 0) != 0) return false;
  const timespec times[2] = {parent.st_atim, parent.st_mtim};
  static_cast<void>(::futimens(dir_fd, times));
  return true;
}

} // namespace

util::Status make_workdir(int root_fd, const std::string& path, std::uint32_t uid,
                          std::uint32_t gid) {
  MASON_TRY_ASSIGN(auto clean, sys::clean_path(path));
  for (std::size_t end = 0; end != std::string::npos && !clean.empty();) {
    end = clean.find('/', end + 1);
    const std::string prefix = clean.substr(0, end);
    if (sys::open_dir_in_root(root_fd, prefix)) continue;
    if (!is_missing(root_fd, prefix))
      return util::make_error(util::ErrorCode::invalid_argument,
                              "working directory " + sys::quote(path) + ": " +
                                  sys::quote("/" + prefix) + " is not a directory");
    if (auto st = make_dir(root_fd, prefix, uid, gid); !st)
      return std::unexpected(std::move(st.error().with_context("create working directory")));
  }
  return {};
}

MountStubs MountStubs::record(int root_fd, const std::vector<std::string>& destinations) {
  MountStubs stubs;
  for (const auto& destination : destinations) {
    auto clean = sys::clean_path(destination);
    if (!clean) continue;
    for (std::string p = *clean; !p.empty() && is_missing(root_fd, p); p = parent_of(p))
      stubs.m_paths.push_back(p);
  }
  auto& paths = stubs.m_paths;
  std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
    return depth(a) != depth(b) ? depth(a) > depth(b) : a > b;
  });
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return stubs;
}

int MountStubs::remove(int root_fd) const {
  int removed = 0;
  for (const auto& path : m_paths) {
    auto parent = sys::open_in_root(root_fd, parent_of(path), O_RDONLY | O_DIRECTORY);
    if (parent && remove_if_empty(parent->get(), name_of(path))) ++removed;
  }
  return removed;
}

} // namespace mason::executor
