// The source tree of a copy (see copy_source.h). Hidden entries: an entry
// is out when the context's ignore matcher excludes it (walker semantics:
// each path decided from its parent's state), unless it is a directory
// below which some entry is in (found by a depth-first search, entered
// only where an exception could re-include something).
#include "mason/ops/copy_source.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "mason/ops/copy_match.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/util/glob.h"
#include "mason/util/strings.h"

namespace mason::ops {

namespace {

util::Result<sys::UniqueFd> open_child_dir(int parent_fd, const std::string& name,
                                           const std::string& path) {
  sys::UniqueFd fd(
      ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys::errno_error("open directory " + sys::quote(path), errno);
  return fd;
}

std::size_t depth_of(const std::string& rel) {
  std::size_t n = 1;
  for (const char c : rel)
    if (c == '/') ++n;
  return n;
}

std::string strip_root(std::string_view p) {
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  return std::string(p);
}

} // namespace

SourceTree::SourceTree(int root_fd, const frontend::IgnoreMatcher* ignore)
    : m_root(root_fd), m_ignore(ignore) {
  if (filtering())
    m_hidden = [this](const std::string& path, const struct stat& st) { return hidden(path, st); };
}

util::Result<std::string> SourceTree::resolve(std::string_view path) const {
  return resolve_in_root(m_root, path, m_hidden);
}

util::Result<std::optional<struct stat>> SourceTree::stat(const std::string& path) const {
  auto st = lstat_path(m_root, path);
  if (!st || !*st || !filtering()) return st;
  MASON_TRY_ASSIGN(auto out, hidden(path, **st));
  if (out) return std::optional<struct stat>();
  return st;
}

util::Result<bool> SourceTree::exists_no_follow(const std::string& path) const {
  std::string done;
  const auto parts = util::split(path, '/');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    done = join_path(done, parts[i]);
    MASON_TRY_ASSIGN(auto st, stat(done));
    if (!st) return false;
    if (i + 1 < parts.size() && !S_ISDIR(st->st_mode)) return false;
  }
  return true;
}

util::Result<std::vector<std::string>> SourceTree::expand(const std::string& source) const {
  const auto split = split_wildcards(source);
  if (split.pattern.empty()) return std::vector<std::string>{strip_root(source)};
  MASON_TRY_ASSIGN(auto base, resolve(split.base));
  MASON_TRY_ASSIGN(auto st, stat(base));
  if (!st)
    return util::make_error(util::ErrorCode::not_found,
                            "lstat " + sys::quote("/" + base) + ": no such file or directory",
                            ENOENT);
  std::vector<std::string> out;
  if (!S_ISDIR(st->st_mode)) return out;
  MASON_TRY_ASSIGN(auto fd, sys::open_in_root(m_root, base, O_RDONLY | O_DIRECTORY));
  if (auto w = walk(fd.get(), base, "", ignore_state(base), split.pattern,
                    max_match_depth(split.pattern), out);
      !w)
    return std::unexpected(std::move(w.error()));
  return out;
}

util::Status SourceTree::walk(int dir_fd, const std::string& dir_path, const std::string& rel,
                              const IgnoreState& state, const std::string& pattern,
                              std::size_t depth, std::vector<std::string>& out) const {
  MASON_TRY_ASSIGN(auto names, sys::read_dir_names(dir_fd));
  for (const auto& name : names) {
    const std::string child_rel = join_path(rel, name);
    const std::string child = join_path(dir_path, name);
    MASON_TRY_ASSIGN(auto st, sys::lstat_at(dir_fd, name));
    if (!st) continue;
    IgnoreState child_state;
    MASON_TRY_ASSIGN(auto visible, visible_child(dir_fd, name, child, *st, state, &child_state));
    if (!visible) continue;
    if (util::glob_match(pattern, child_rel)) {
      out.push_back(child);
      continue;
    }
    if (!S_ISDIR(st->st_mode) || (depth != 0 && depth_of(child_rel) + 1 > depth)) continue;
    MASON_TRY_ASSIGN(auto fd, open_child_dir(dir_fd, name, child));
    if (auto w = walk(fd.get(), child, child_rel, child_state, pattern, depth, out); !w) return w;
  }
  return {};
}

SourceTree::IgnoreState SourceTree::ignore_state(const std::string& dir_path) const {
  IgnoreState state;
  if (!filtering()) return state;
  std::string done;
  for (const auto part : util::split(dir_path, '/')) {
    if (part.empty()) continue;
    done = join_path(done, part);
    IgnoreState next;
    m_ignore->excluded_given_parent(done, state, &next);
    state = std::move(next);
  }
  return state;
}

util::Result<bool> SourceTree::visible_child(int parent_fd, const std::string& name,
                                             const std::string& path, const struct stat& st,
                                             const IgnoreState& parent,
                                             IgnoreState* state_out) const {
  if (!filtering()) return true;
  if (!m_ignore->excluded_given_parent(path, parent, state_out)) return true;
  if (!S_ISDIR(st.st_mode) || !m_ignore->may_reinclude_under(path)) return false;
  MASON_TRY_ASSIGN(auto fd, open_child_dir(parent_fd, name, path));
  return has_visible_entry(fd.get(), path, *state_out);
}

util::Result<bool> SourceTree::hidden(const std::string& path, const struct stat& st) const {
  if (!m_ignore->excluded(path)) return false;
  if (!S_ISDIR(st.st_mode) || !m_ignore->may_reinclude_under(path)) return true;
  MASON_TRY_ASSIGN(auto fd, sys::open_in_root(m_root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  MASON_TRY_ASSIGN(auto visible, has_visible_entry(fd.get(), path, ignore_state(path)));
  return !visible;
}

util::Result<bool> SourceTree::has_visible_entry(int dir_fd, const std::string& path,
                                                 const IgnoreState& state) const {
  MASON_TRY_ASSIGN(auto names, sys::read_dir_names(dir_fd));
  for (const auto& name : names) {
    MASON_TRY_ASSIGN(auto st, sys::lstat_at(dir_fd, name));
    if (!st) continue;
    IgnoreState child_state;
    auto visible = visible_child(dir_fd, name, join_path(path, name), *st, state, &child_state);
    if (!visible || *visible) return visible;
  }
  return false;
}

} // namespace mason::ops
