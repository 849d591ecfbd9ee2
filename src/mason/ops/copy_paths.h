// Path handling for COPY/ADD: the destination and source spellings BuildKit
// derives from the instruction, symlink resolution inside a root (the
// equivalent of continuity's fs.RootPath, which fsutil and BuildKit use on
// both sides of a copy) and directory creation on the way to a target.
//
// Every function takes a root descriptor and never reaches outside it:
// resolution walks one component at a time with no-follow *at calls and
// restarts at the root for an absolute link target; ".." never climbs
// above the root. Thread-safety: no shared state.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>
#include <vector>

#include "mason/ops/user.h"
#include "mason/sys/unique_fd.h"
#include "mason/util/error.h"

namespace mason::ops {

// dispatchCopy's destination: relative to `workdir` unless absolute,
// cleaned, "" and "." meaning the workdir as a directory, and a trailing
// "/" or "/." kept (they make it a directory): "app/" -> "/work/app/".
std::string normalize_dest(std::string_view dest, std::string_view workdir);

// A destination names a directory when it ends in "/" or "/.".
bool dest_is_dir(std::string_view normalized_dest);

// A local source as BuildKit passes it to the copy: path.Join("/", src).
std::string normalize_source(std::string_view src);

// Clean root-relative forms used below: "" is the root, "a/b" a path.
std::string join_path(std::string_view dir, std::string_view name);
std::string parent_path(std::string_view path); // "" for a top-level name
std::string base_name(std::string_view path);   // filepath.Base ("/" for the root)

// Is an existing entry to be treated as missing? (The build context's
// .dockerignore: excluded entries are not part of the context.) `path` is
// clean and root-relative.
using HiddenFn = std::function<util::Result<bool>(const std::string& path, const struct stat& st)>;

// fs.RootPath: `path` with every symlink resolved inside the root (the
// last component too), as a clean root-relative path with no symlink in
// it. Missing components (and hidden ones) are kept as spelled, with the
// rest of the path appended. Errors: a non-directory in the middle of the
// path (ENOTDIR), more than 255 links (ELOOP), I/O errors.
util::Result<std::string> resolve_in_root(int root_fd, std::string_view path,
                                          const HiddenFn& hidden = {});

// lstat of a clean root-relative path whose parents are real directories;
// nullopt when it does not exist.
util::Result<std::optional<struct stat>> lstat_path(int root_fd, const std::string& path);

// os.MkdirAll on a clean root-relative path without symlinks: missing
// directories are created with exactly `mode` and, when given, chowned to
// `owner`. Returns the directory, open (O_PATH). Errors: a component
// exists and is not a directory (ENOTDIR), mkdir failures.
util::Result<sys::UniqueFd> mkdir_all(int root_fd, const std::string& path, mode_t mode,
                                      const std::optional<Owner>& owner);

// An entry addressed as (open parent directory, name): "." names the root
// itself, with the root's descriptor as parent.
struct NodeRef {
  sys::UniqueFd parent; // O_PATH directory
  std::string name;
};
// The parent of `path` must exist and be a directory (no symlinks).
util::Result<NodeRef> node_ref(int root_fd, const std::string& path);

} // namespace mason::ops
