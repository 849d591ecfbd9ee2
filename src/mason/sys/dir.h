// Directory helpers on descriptors: listing, recursive removal, lstat.
//
// Every function works on (directory fd, plain name) and never follows a
// symlink in the final component, so a tree can be listed or removed
// without ever leaving it. Thread-safety: free functions without shared
// state; concurrent changes to the same tree give the usual races (entries
// may appear or vanish) but never make a function act outside the tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

#include "mason/util/error.h"

namespace mason::sys {

// The names in directory `dir_fd` (without "." and ".."), sorted by byte
// value. `dir_fd` may be an O_PATH descriptor; it is not consumed.
util::Result<std::vector<std::string>> read_dir_names(int dir_fd);

// lstat of `name` in `dir_fd` (AT_SYMLINK_NOFOLLOW); nullopt if it does not
// exist (ENOENT). Other errors are returned.
util::Result<std::optional<struct stat>> lstat_at(int dir_fd, std::string_view name);

// Removes `name` in `dir_fd` and, for a directory, everything below it
// (rm -rf). Symlinks are removed, never followed; descends with
// O_NOFOLLOW. A missing `name` is success. Errors name the first path that
// could not be removed (relative to dir_fd).
util::Status remove_all_at(int dir_fd, std::string_view name);

// Removes everything inside directory `dir_fd`, keeping the directory.
util::Status remove_children(int dir_fd);

// What the tree at `name` in `dir_fd` takes: `bytes` on disk (st_blocks),
// `apparent` bytes (st_size of files and symlinks) and entries. Hard links
// count once; symlinks are not followed; the walk stays on one file
// system. A missing `name` is all zero.
struct TreeUsage {
  std::int64_t bytes = 0;
  std::int64_t apparent = 0;
  std::int64_t entries = 0;
};
util::Result<TreeUsage> tree_usage(int dir_fd, std::string_view name);

} // namespace mason::sys
