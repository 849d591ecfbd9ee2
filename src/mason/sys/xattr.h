// Extended attributes without following symlinks.
//
// The (dir_fd, name) forms act on the entry `name` inside the directory
// `dir_fd` itself, never on what a symlink points at. Linux before 6.13 has
// no *at xattr calls, so they use the l*xattr calls on
// "/proc/self/fd/<dir_fd>/<name>": the kernel enters the directory through
// its descriptor (the magic link) and looks `name` up there without
// following it. They need /proc; `name` must be one plain component.
// The fd forms act on an open (non-O_PATH) descriptor.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/util/error.h"

namespace mason::sys {

struct Xattr {
  std::string name;  // "security.capability"
  std::string value; // raw bytes
  bool operator==(const Xattr&) const = default;
};

// All xattrs, sorted by name. A file system without xattr support gives an
// empty list.
util::Result<std::vector<Xattr>> list_xattrs_at(int dir_fd, std::string_view name);
util::Result<std::vector<Xattr>> list_xattrs(int fd);

// nullopt if the attribute is not set (ENODATA) or not supported.
util::Result<std::optional<std::string>> get_xattr_at(int dir_fd, std::string_view name,
                                                      const std::string& key);

// Creates or replaces one attribute. Errors keep the errno: EPERM (e.g.
// trusted.* or security.* without privilege, user.* on a symlink),
// EOPNOTSUPP (no xattrs on this file system).
util::Status set_xattr_at(int dir_fd, std::string_view name, const std::string& key,
                          std::string_view value);
util::Status set_xattr(int fd, const std::string& key, std::string_view value);

} // namespace mason::sys
