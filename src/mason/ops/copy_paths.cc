// Path spelling and in-root resolution for COPY/ADD.
//
// resolve_in_root keeps a queue of components still to walk and the list
// already resolved (each a real directory, held open). A symlink is read
// and its target's components are put in front of the queue, after
// restarting at the root if the target is absolute; ".." drops the last
// resolved component (never above the root). Once a component is missing,
// the rest is appended lexically, as fs.RootPath does.
#include "mason/ops/copy_paths.h"

#include <cerrno>
#include <deque>
#include <fcntl.h>
#include <unistd.h>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/util/path.h"
#include "mason/util/strings.h"

namespace mason::ops {

namespace {

constexpr int k_max_links = 255;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

util::Result<sys::UniqueFd> dup_fd(int fd) {
  sys::UniqueFd out(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!out) return sys::errno_error("dup root descriptor", errno);
  return out;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out = join_path(out, p);
  return out;
}

// The walk behind resolve_in_root.
class Resolver {
public:
  Resolver(int root_fd, const HiddenFn& hidden) : m_root(root_fd), m_hidden(hidden) {}

  util::Result<std::string> run(std::string_view path) {
    push_front(path);
    MASON_TRY_ASSIGN(auto cur, dup_fd(m_root));
    m_cur = std::move(cur);
    while (!m_pending.empty()) {
      std::string c = std::move(m_pending.front());
      m_pending.pop_front();
      MASON_TRY(step(c));
    }
    return joined(m_done);
  }

private:
  void push_front(std::string_view path) {
    const auto parts = util::split(path, '/');
    for (auto it = parts.rbegin(); it != parts.rend(); ++it)
      if (!it->empty() && *it != ".") m_pending.emplace_front(*it);
  }

  util::Status step(const std::string& c) {
    if (c == "..") return up();
    if (m_missing) {
      m_done.push_back(c);
      return {};
    }
    if (m_at_file)
      return util::make_error(
          util::ErrorCode::not_found,
          "resolve " + sys::quote(join_path(joined(m_done), c)) + ": not a directory", ENOTDIR);
    MASON_TRY_ASSIGN(auto st, sys::lstat_at(m_cur.get(), c));
    const std::string path = join_path(joined(m_done), c);
    if (st && m_hidden) {
      MASON_TRY_ASSIGN(auto hidden, m_hidden(path, *st));
      if (hidden) st.reset();
    }
    if (!st) {
      m_missing = true;
      m_done.push_back(c);
      return {};
    }
    if (S_ISLNK(st->st_mode)) return follow(c, path);
    return enter(c, *st);
  }

  util::Status enter(const std::string& c, const struct stat& st) {
    m_done.push_back(c);
    if (!S_ISDIR(st.st_mode)) {
      m_at_file = true;
      return {};
    }
    sys::UniqueFd next(
        ::openat(m_cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return sys::errno_error("open " + sys::quote(joined(m_done)), errno);
    m_cur = std::move(next);
    return {};
  }

  util::Status follow(const std::string& c, const std::string& path) {
    if (++m_links > k_max_links)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "resolve " + sys::quote(path) + ": too many levels of symbolic links",
                              ELOOP);
    std::string target(4096, '\0');
    const ssize_t n = ::readlinkat(m_cur.get(), c.c_str(), target.data(), target.size());
    if (n < 0) return sys::errno_error("readlink " + sys::quote(path), errno);
    target.resize(static_cast<std::size_t>(n));
    push_front(target);
    if (!target.empty() && target.front() == '/') {
      m_done.clear();
      return reopen();
    }
    return {};
  }

  util::Status up() {
    if (!m_done.empty()) m_done.pop_back();
    if (m_missing) return {};
    m_at_file = false;
    return reopen();
  }

  util::Status reopen() {
    m_at_file = false;
    MASON_TRY_ASSIGN(auto fd, sys::open_dir_in_root(m_root, joined(m_done)));
    m_cur = std::move(fd);
    return {};
  }

  int m_root;
  const HiddenFn& m_hidden;
  std::deque<std::string> m_pending;
  std::vector<std::string> m_done;
  sys::UniqueFd m_cur;
  bool m_missing = false;
  bool m_at_file = false;
  int m_links = 0;
};

} // namespace

std::string normalize_dest(std::string_view dest, std::string_view workdir) {
  std::string p(dest);
  if (p.empty() || p.front() != '/') {
    if (p.empty() || p == ".") p = "./";
    p = util::path_clean_rooted("/" + std::string(workdir)) + "/" + p;
  }
  std::string out = util::path_clean_rooted(p);
  if (ends_with(p, "/") && !ends_with(out, "/")) {
    out += '/';
  } else if (ends_with(p, "/.")) {
    if (out != "/") out += '/';
    out += '.';
  }
  return out;
}

bool dest_is_dir(std::string_view normalized_dest) {
  return ends_with(normalized_dest, "/") || ends_with(normalized_dest, "/.");
}

std::string normalize_source(std::string_view src) {
  return util::path_clean_rooted("/" + std::string(src));
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  return std::string(dir) + "/" + std::string(name);
}

std::string parent_path(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path.empty() || path == "/") return "/";
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

util::Result<std::string> resolve_in_root(int root_fd, std::string_view path,
                                          const HiddenFn& hidden) {
  return Resolver(root_fd, hidden).run(path);
}

util::Result<std::optional<struct stat>> lstat_path(int root_fd, const std::string& path) {
  if (path.empty()) {
    struct stat st {};
    if (::fstat(root_fd, &st) != 0) return sys::errno_error("stat root", errno);
    return std::optional<struct stat>(st);
  }
  auto dir = sys::open_dir_in_root(root_fd, parent_path(path));
  if (!dir) {
    const int err = dir.error().sys_errno();
    if (err == ENOENT || err == ENOTDIR) return std::optional<struct stat>();
    return std::unexpected(std::move(dir.error()));
  }
  return sys::lstat_at(dir->get(), base_name(path));
}

util::Result<sys::UniqueFd> mkdir_all(int root_fd, const std::string& path, mode_t mode,
                                      const std::optional<Owner>& owner) {
  auto cur = dup_fd(root_fd);
  if (!cur) return cur;
  std::string done;
  for (const auto part : util::split(path, '/')) {
    if (part.empty()) continue;
    const std::string name(part);
    done = join_path(done, name);
    sys::UniqueFd next(
        ::openat(cur->get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next && errno == ENOENT) {
      if (::mkdirat(cur->get(), name.c_str(), mode) != 0 && errno != EEXIST)
        return sys::errno_error("mkdir " + sys::quote(done), errno);
      if (::fchmodat(cur->get(), name.c_str(), mode, 0) != 0)
        return sys::errno_error("chmod " + sys::quote(done), errno);
      if (owner &&
          ::fchownat(cur->get(), name.c_str(), owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW) != 0)
        return sys::errno_error("chown " + sys::quote(done), errno);
      next.reset(::openat(cur->get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!next) {
      const int err = (errno == ELOOP) ? ENOTDIR : errno;
      return sys::errno_error("mkdir " + sys::quote(done), err);
    }
    *cur = std::move(next);
  }
  return cur;
}

util::Result<NodeRef> node_ref(int root_fd, const std::string& path) {
  if (path.empty()) {
    MASON_TRY_ASSIGN(auto fd, dup_fd(root_fd));
    return NodeRef{std::move(fd), "."};
  }
  MASON_TRY_ASSIGN(auto dir, sys::open_dir_in_root(root_fd, parent_path(path)));
  return NodeRef{std::move(dir), base_name(path)};
}

} // namespace mason::ops
