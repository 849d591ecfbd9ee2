// xattrs by (directory fd, name) through /proc/self/fd, or by open fd.
//
// Listing: ask for the size, fetch, retry on ERANGE (the set may grow in
// between); same for each value.
#include "mason/sys/xattr.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/xattr.h>

#include "mason/sys/errors.h"

namespace mason::sys {

namespace {

std::string proc_path(int dir_fd, std::string_view name) {
  if (dir_fd == AT_FDCWD) return std::string(name);
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + std::string(name);
}

bool unsupported(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

// Calls `get(buffer, size)` (a getxattr-like call) until the buffer fits.
template <class Get>
util::Result<std::optional<std::string>> fetch(Get get, const std::string& what) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t need = get(nullptr, 0);
    if (need < 0) {
      if (errno == ENODATA || unsupported(errno)) return std::optional<std::string>();
      return errno_error(what, errno);
    }
    std::string buf(static_cast<std::size_t>(need), '\0');
    const ssize_t got = need == 0 ? 0 : get(buf.data(), buf.size());
    if (got >= 0) {
      buf.resize(static_cast<std::size_t>(got));
      return std::optional<std::string>(std::move(buf));
    }
    if (errno == ENODATA) return std::optional<std::string>();
    if (errno != ERANGE) return errno_error(what, errno);
  }
  return errno_error(what, ERANGE);
}

template <class List, class Get>
util::Result<std::vector<Xattr>> list_with(List list, Get get, const std::string& what) {
  MASON_TRY_ASSIGN(auto names, fetch(list, "list xattrs of " + what));
  std::vector<Xattr> out;
  if (!names) return out;
  const std::string& blob = *names;
  for (std::size_t pos = 0; pos < blob.size();) {
    const auto end = blob.find('\0', pos);
    std::string key = blob.substr(pos, end - pos);
    pos = end == std::string::npos ? blob.size() : end + 1;
    if (key.empty()) continue;
    MASON_TRY_ASSIGN(auto value,
                     fetch([&](char* b, std::size_t n) { return get(key.c_str(), b, n); },
                           "get xattr " + key + " of " + what));
    if (value) out.push_back({std::move(key), std::move(*value)});
  }
  std::sort(out.begin(), out.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

} // namespace

util::Result<std::vector<Xattr>> list_xattrs_at(int dir_fd, std::string_view name) {
  const std::string path = proc_path(dir_fd, name);
  return list_with(
      [&](char* b, std::size_t n) { return ::llistxattr(path.c_str(), b, n); },
      [&](const char* k, char* b, std::size_t n) { return ::lgetxattr(path.c_str(), k, b, n); },
      quote(name));
}

util::Result<std::vector<Xattr>> list_xattrs(int fd) {
  return list_with([&](char* b, std::size_t n) { return ::flistxattr(fd, b, n); },
                   [&](const char* k, char* b, std::size_t n) { return ::fgetxattr(fd, k, b, n); },
                   "fd " + std::to_string(fd));
}

util::Result<std::optional<std::string>> get_xattr_at(int dir_fd, std::string_view name,
                                                      const std::string& key) {
  const std::string path = proc_path(dir_fd, name);
  return fetch([&](char* b, std::size_t n) { return ::lgetxattr(path.c_str(), key.c_str(), b, n); },
               "get xattr " + key + " of " + quote(name));
}

util::Status set_xattr_at(int dir_fd, std::string_view name, const std::string& key,
                          std::string_view value) {
  const std::string path = proc_path(dir_fd, name);
  if (::lsetxattr(path.c_str(), key.c_str(), value.data(), value.size(), 0) != 0)
    return errno_error("set xattr " + key + " on " + quote(name), errno);
  return {};
}

util::Status set_xattr(int fd, const std::string& key, std::string_view value) {
  if (::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) != 0)
    return errno_error("set xattr " + key, errno);
  return {};
}

} // namespace mason::sys
