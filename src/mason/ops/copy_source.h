// The source side of a copy: a root (build context, stage or image
// snapshot, or a scratch directory) seen the way BuildKit sees it.
//
// For the build context, entries the .dockerignore excludes are not there
// at all (BuildKit never transfers them): resolution, wildcard expansion
// and tree walks skip them, except that an excluded directory with a
// re-included entry below it ("dir" then "!dir/keep") is there, holding
// only what is re-included. Everything is read relative to the root's
// descriptor; symlinks are followed only inside the root.
//
// Ownership: borrows the root descriptor and the matcher. Thread-safety:
// const methods only, no shared state.
#pragma once

#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "mason/frontend/dockerignore.h"
#include "mason/ops/copy_paths.h"
#include "mason/util/error.h"

namespace mason::ops {

class SourceTree {
public:
  using IgnoreState = frontend::IgnoreMatcher::DirState;

  // `ignore` may be null or empty (nothing hidden).
  SourceTree(int root_fd, const frontend::IgnoreMatcher* ignore);
  SourceTree(const SourceTree&) = delete; // the hidden-entry hook points to *this
  SourceTree& operator=(const SourceTree&) = delete;

  int root_fd() const { return m_root; }

  // fs.RootPath of `path` (absolute or relative to the root): symlinks
  // followed inside the root; hidden entries count as missing.
  util::Result<std::string> resolve(std::string_view path) const;
  // lstat of a resolved path; nullopt when missing or hidden.
  util::Result<std::optional<struct stat>> stat(const std::string& path) const;
  // The entry exists without following any symlink on the way (--parents).
  util::Result<bool> exists_no_follow(const std::string& path) const;

  // fsutil's ResolveWildcards for a normalized source ("/a/*/b*"): the
  // part before the first wildcard component is resolved (following
  // links; missing is not_found), the tree below it is walked in name
  // order without following links, and each entry whose relative path
  // matches the rest is returned (as a root-relative path; a matching
  // directory is not entered). Nothing matching is an empty list.
  util::Result<std::vector<std::string>> expand(const std::string& source) const;

  // Walking: the ignore state of a directory's children, and whether a
  // child (lstat'ed, in directory `parent_fd`) is part of the tree.
  IgnoreState ignore_state(const std::string& dir_path) const;
  util::Result<bool> visible_child(int parent_fd, const std::string& name, const std::string& path,
                                   const struct stat& st, const IgnoreState& parent,
                                   IgnoreState* state_out) const;

private:
  bool filtering() const { return m_ignore != nullptr && !m_ignore->empty(); }
  util::Result<bool> hidden(const std::string& path, const struct stat& st) const;
  util::Result<bool> has_visible_entry(int dir_fd, const std::string& path,
                                       const IgnoreState& state) const;
  util::Status walk(int dir_fd, const std::string& dir_path, const std::string& rel,
                    const IgnoreState& state, const std::string& pattern, std::size_t depth,
                    std::vector<std::string>& out) const;

  int m_root;
  const frontend::IgnoreMatcher* m_ignore;
  HiddenFn m_hidden;
};

} // namespace mason::ops
