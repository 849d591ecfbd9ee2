// Safe path resolution inside a root directory.
//
// Every path here is relative to a root directory descriptor and can never
// lead outside it: whatever `..` components, absolute symlinks or symlink
// chains the tree contains, resolution stays below the root, as if the root
// were "/" of a chroot. How:
//
//  1. clean_path() normalises the text lexically: a leading "/" is dropped
//     (absolute names are relative to the root), "." and empty components
//     are dropped, ".." removes the previous component, and a ".." that
//     would climb above the root is an error (invalid_argument).
//  2. The parent directory is opened with openat2(RESOLVE_IN_ROOT): the
//     kernel resolves symlinks in the parent part with the root as "/", and
//     ".." at the root stays at the root.
//  3. The final component is then acted on with *at calls on that parent
//     descriptor and AT_SYMLINK_NOFOLLOW / O_NOFOLLOW: a symlink in the
//     final component is the object itself, never followed.
//
// Needs Linux >= 5.6 (openat2); without it every call fails with
// `unsupported` (there is no unsafe fallback). Thread-safety: no shared
// state; a RootedPath is a value owning one descriptor.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>
#include <vector>

#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"
#include "mason/util/error.h"

namespace mason::sys {

// Lexical normalisation (step 1 above). Returns "" for the root itself,
// else "a/b/c" (no leading or trailing "/", no "." or ".." components).
// Errors: invalid_argument if the path climbs above the root or contains a
// NUL byte.
util::Result<std::string> clean_path(std::string_view path);

// What to do when directories on the way to a path are missing.
enum class Parents {
  must_exist, // fail with not_found
  create,     // mkdir them (mode 0755, owned by the caller), inside the root
};

// openat2(root_fd, clean_path(path), flags, RESOLVE_IN_ROOT). A symlink in
// the final component is followed (inside the root) unless flags has
// O_NOFOLLOW. O_CLOEXEC is always added.
util::Result<UniqueFd> open_in_root(int root_fd, std::string_view path, int flags, mode_t mode = 0);

// An O_PATH descriptor of the directory `path` (the root itself for "" or
// "/"), creating missing directories when asked. A dangling symlink on the
// way is an error (not_found), not something to create.
util::Result<UniqueFd> open_dir_in_root(int root_fd, std::string_view path,
                                        Parents parents = Parents::must_exist);

// One entry inside a root: its parent directory, open (O_PATH), and its
// final name. Every method acts on the entry itself (no symlink following).
class RootedPath {
public:
  // Errors: invalid_argument for a path that escapes or names the root
  // itself; not_found (or the errno's code) if the parent cannot be opened.
  static util::Result<RootedPath> resolve(int root_fd, std::string_view path,
                                          Parents parents = Parents::must_exist);

  int dir_fd() const { return m_dir.get(); }
  const std::string& name() const { return m_name; } // one component
  const std::string& path() const { return m_path; } // the cleaned path, for messages

  // nullopt if nothing exists at the path.
  util::Result<std::optional<struct stat>> lstat() const;
  // openat(parent, name, flags | O_NOFOLLOW | O_CLOEXEC, mode).
  util::Result<UniqueFd> open(int flags, mode_t mode = 0) const;
  util::Status mkdir(mode_t mode) const;
  util::Status symlink(std::string_view target) const;
  util::Status mknod(mode_t mode, dev_t dev) const;
  // Creates this path as a new hard link to `existing` (a symlink is
  // linked itself, not its target).
  util::Status link_to(const RootedPath& existing) const;
  util::Status unlink() const;     // a non-directory
  util::Status remove_all() const; // rm -rf; missing is success
  util::Status chown(uid_t uid, gid_t gid) const;
  // A symlink has no mode on Linux: chmod of a symlink succeeds, doing nothing.
  util::Status chmod(mode_t mode) const;
  util::Status set_times(const timespec& atime, const timespec& mtime) const;
  util::Status set_xattr(const std::string& key, std::string_view value) const;
  util::Result<std::vector<Xattr>> xattrs() const;
  util::Result<std::string> readlink() const;

private:
  RootedPath(UniqueFd dir, std::string name, std::string path)
      : m_dir(std::move(dir)), m_name(std::move(name)), m_path(std::move(path)) {}
  UniqueFd m_dir;
  std::string m_name;
  std::string m_path;
};

// One-shot forms: resolve `path` (parents must exist) and act on it.
util::Status mkdir_in_root(int root_fd, std::string_view path, mode_t mode);
util::Status symlink_in_root(int root_fd, std::string_view path, std::string_view target);
util::Status link_in_root(int root_fd, std::string_view existing, std::string_view new_path);
util::Status mknod_in_root(int root_fd, std::string_view path, mode_t mode, dev_t dev);
util::Status unlink_in_root(int root_fd, std::string_view path);
util::Status remove_all_in_root(int root_fd, std::string_view path);
util::Status chown_in_root(int root_fd, std::string_view path, uid_t uid, gid_t gid);
util::Status chmod_in_root(int root_fd, std::string_view path, mode_t mode);
util::Status utimens_in_root(int root_fd, std::string_view path, const timespec& atime,
                             const timespec& mtime);
util::Status setxattr_in_root(int root_fd, std::string_view path, const std::string& key,
                              std::string_view value);

} // namespace mason::sys
