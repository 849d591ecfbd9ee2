// Tree diff by double walk (see tree_diff.h for the rules).
//
// Pass 1 (Comparer) walks both trees and records each changed path with
// its kind, and every multiply linked inode of upper with all its paths.
// Pass 2 adds the other paths of every inode one of whose paths changed.
// Pass 3 sorts the changes in walk order (component by component) and
// writes them, each after whatever ancestor directories the stack of
// written directories does not hold yet.
#include "mason/snapshot/tree_diff.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include "mason/archive/entry_writer.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"

namespace mason::snapshot::detail {

namespace {

constexpr int k_dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr std::size_t k_compare_chunk = 1 << 16;

struct Change {
  std::string path;
  bool deleted = false;
  std::int64_t mtime = 0; // whiteouts: the parent's mtime in upper
};

// Walk order: "a" < "a/b" < "a.b" (a '/' sorts before every other byte).
bool walk_order(const std::string& a, const std::string& b) {
  const auto key = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&](char x, char y) { return key(x) < key(y); });
}

bool same_time(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

bool before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

bool same_meta(const struct stat& a, const struct stat& b) {
  if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid ||
      !same_time(a.st_mtim, b.st_mtim))
    return false;
  if (S_ISDIR(a.st_mode)) return true;
  if (S_ISCHR(a.st_mode) || S_ISBLK(a.st_mode)) return a.st_rdev == b.st_rdev;
  return a.st_size == b.st_size;
}

class Comparer {
public:
  Comparer(const archive::TarOptions& options, const std::optional<timespec>& copied_at)
      : m_opt(options), m_copied_at(copied_at) {}

  util::Status walk(int lower, int upper, const std::string& prefix);
  std::vector<Change> take_changes();

private:
  util::Status added(int upper, const std::string& name, const std::string& rel,
                     const struct stat& st);
  util::Status both(int lower, int upper, const std::string& name, const std::string& rel);
  util::Result<bool> differs(int lower, int upper, const std::string& name, const struct stat& l,
                             const struct stat& u);
  util::Result<bool> same_content(int lower, int upper, const std::string& name);
  util::Result<bool> same_xattrs(int lower, int upper, const std::string& name);
  util::Result<bool> same_link(int lower, int upper, const std::string& name);
  void note(const std::string& rel, const struct stat& st);
  void deleted(int upper, const std::string& rel);

  const archive::TarOptions& m_opt;
  std::optional<timespec> m_copied_at;
  std::vector<Change> m_changes;
  std::map<std::pair<dev_t, ino_t>, std::vector<std::string>> m_inodes;
  std::vector<char> m_a, m_b;
};

void Comparer::note(const std::string& rel, const struct stat& st) {
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) m_inodes[{st.st_dev, st.st_ino}].push_back(rel);
}

void Comparer::deleted(int upper, const std::string& rel) {
  struct stat st {};
  const std::int64_t mtime = ::fstat(upper, &st) == 0 ? st.st_mtim.tv_sec : 0;
  m_changes.push_back({rel, true, mtime});
}

util::Status Comparer::added(int upper, const std::string& name, const std::string& rel,
                             const struct stat& st) {
  m_changes.push_back({rel, false, 0});
  note(rel, st);
  if (!S_ISDIR(st.st_mode)) return {};
  sys::UniqueFd sub(::openat(upper, name.c_str(), k_dir_flags));
  if (!sub) return sys::errno_error("open " + sys::quote(rel), errno);
  auto names = sys::read_dir_names(sub.get());
  if (!names) return std::unexpected(std::move(names.error()).with_context(sys::quote(rel)));
  for (const auto& child : *names) {
    MASON_TRY_ASSIGN(auto cst, sys::lstat_at(sub.get(), child));
    if (cst)
      if (auto s = added(sub.get(), child, rel + "/" + child, *cst); !s) return s;
  }
  return {};
}

util::Result<bool> Comparer::same_content(int lower, int upper, const std::string& name) {
  sys::UniqueFd a(::openat(lower, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  sys::UniqueFd b(::openat(upper, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!a || !b) return sys::errno_error("open " + sys::quote(name) + " to compare", errno);
  m_a.resize(k_compare_chunk);
  m_b.resize(k_compare_chunk);
  for (;;) {
    const ssize_t n = ::read(a.get(), m_a.data(), m_a.size());
    if (n < 0) return sys::errno_error("read " + sys::quote(name), errno);
    std::size_t got = 0;
    while (got < static_cast<std::size_t>(n)) {
      const ssize_t m = ::read(b.get(), m_b.data() + got, static_cast<std::size_t>(n) - got);
      if (m < 0) return sys::errno_error("read " + sys::quote(name), errno);
      if (m == 0) return false;
      got += static_cast<std::size_t>(m);
    }
    if (std::memcmp(m_a.data(), m_b.data(), got) != 0) return false;
    if (n == 0) return ::read(b.get(), m_b.data(), 1) == 0;
  }
}

util::Result<bool> Comparer::same_xattrs(int lower, int upper, const std::string& name) {
  if (m_opt.xattrs == archive::XattrSelection::none) return true;
  MASON_TRY_ASSIGN(auto a, sys::list_xattrs_at(lower, name));
  MASON_TRY_ASSIGN(auto b, sys::list_xattrs_at(upper, name));
  const auto ignored = [](const sys::Xattr& x) {
    return x.name.starts_with("trusted.overlay.") || x.name == "security.selinux";
  };
  std::erase_if(a, ignored);
  std::erase_if(b, ignored);
  return a == b;
}

util::Result<bool> Comparer::same_link(int lower, int upper, const std::string& name) {
  std::string a(PATH_MAX + 1, '\0'), b(PATH_MAX + 1, '\0');
  const ssize_t n = ::readlinkat(lower, name.c_str(), a.data(), a.size());
  const ssize_t m = ::readlinkat(upper, name.c_str(), b.data(), b.size());
  if (n < 0 || m < 0) return sys::errno_error("readlink " + sys::quote(name), errno);
  return n == m && std::memcmp(a.data(), b.data(), static_cast<std::size_t>(n)) == 0;
}

util::Result<bool> Comparer::differs(int lower, int upper, const std::string& name,
                                     const struct stat& l, const struct stat& u) {
  if (!same_meta(l, u)) return true;
  auto xattrs = same_xattrs(lower, upper, name);
  if (!xattrs || !*xattrs) return xattrs ? util::Result<bool>(true) : xattrs;
  if (S_ISLNK(u.st_mode)) {
    auto link = same_link(lower, upper, name);
    return link ? util::Result<bool>(!*link) : link;
  }
  if (!S_ISREG(u.st_mode) || u.st_size == 0) return false;
  if (m_copied_at && before(u.st_ctim, *m_copied_at)) return false;
  auto content = same_content(lower, upper, name);
  return content ? util::Result<bool>(!*content) : content;
}

util::Status Comparer::both(int lower, int upper, const std::string& name, const std::string& rel) {
  auto l = sys::lstat_at(lower, name);
  auto u = sys::lstat_at(upper, name);
  if (!l || !u) return std::unexpected(std::move(!l ? l.error() : u.error()));
  if (!*l || !*u) return {}; // vanished since the listing
  const struct stat& ls = **l;
  const struct stat& us = **u;
  if ((ls.st_mode & S_IFMT) != (us.st_mode & S_IFMT)) return added(upper, name, rel, us);
  note(rel, us);
  if (!S_ISDIR(us.st_mode)) {
    auto changed = differs(lower, upper, name, ls, us);
    if (!changed) return std::unexpected(std::move(changed.error()).with_context(sys::quote(rel)));
    if (*changed) m_changes.push_back({rel, false, 0});
    return {};
  }
  MASON_TRY_ASSIGN(auto xattrs, same_xattrs(lower, upper, name));
  if (!same_meta(ls, us) || !xattrs) m_changes.push_back({rel, false, 0});
  sys::UniqueFd sub_l(::openat(lower, name.c_str(), k_dir_flags));
  sys::UniqueFd sub_u(::openat(upper, name.c_str(), k_dir_flags));
  if (!sub_l || !sub_u) return sys::errno_error("open " + sys::quote(rel), errno);
  return walk(sub_l.get(), sub_u.get(), rel + "/");
}

util::Status Comparer::walk(int lower, int upper, const std::string& prefix) {
  MASON_TRY_ASSIGN(auto ln, sys::read_dir_names(lower));
  MASON_TRY_ASSIGN(auto un, sys::read_dir_names(upper));
  std::size_t i = 0, j = 0;
  while (i < ln.size() || j < un.size()) {
    const bool take_l = j == un.size() || (i < ln.size() && (ln)[i] < (un)[j]);
    const bool take_u = i == ln.size() || (j < un.size() && (un)[j] < (ln)[i]);
    if (take_l) {
      deleted(upper, prefix + (ln)[i++]);
      continue;
    }
    const std::string& name = (un)[j++];
    util::Status s;
    if (take_u) {
      MASON_TRY_ASSIGN(auto st, sys::lstat_at(upper, name));
      if (st) s = added(upper, name, prefix + name, *st);
    } else {
      ++i;
      s = both(lower, upper, name, prefix + name);
    }
    if (!s) return s;
  }
  return {};
}

std::vector<Change> Comparer::take_changes() {
  std::unordered_set<std::string> written;
  for (const auto& c : m_changes)
    if (!c.deleted) written.insert(c.path);
  for (const auto& [inode, paths] : m_inodes) {
    const bool any = std::any_of(paths.begin(), paths.end(),
                                 [&](const std::string& p) { return written.contains(p); });
    if (!any) continue;
    for (const auto& p : paths)
      if (written.insert(p).second) m_changes.push_back({p, false, 0});
  }
  std::sort(m_changes.begin(), m_changes.end(),
            [](const Change& a, const Change& b) { return walk_order(a.path, b.path); });
  return std::move(m_changes);
}

// Pass 3: writes the sorted changes with their ancestor directories.
class DiffEmitter {
public:
  DiffEmitter(int upper_root, const archive::TarOptions& options, archive::TarWriter& out)
      : m_root(upper_root), m_writer(options, out) {}

  util::Status emit(const Change& c);
  const archive::TreeStats& stats() const { return m_writer.stats(); }

private:
  util::Status ancestors(const std::string& path);
  util::Status write_path(const std::string& path);
  util::Result<int> parent_fd(const std::string& parent);

  int m_root;
  archive::EntryWriter m_writer;
  std::vector<std::string> m_open; // written directories, each inside the previous
  std::string m_parent;
  sys::UniqueFd m_parent_fd;
};

util::Result<int> DiffEmitter::parent_fd(const std::string& parent) {
  if (m_parent_fd && parent == m_parent) return m_parent_fd.get();
  MASON_TRY_ASSIGN(auto fd, sys::open_dir_in_root(m_root, parent));
  m_parent = parent;
  m_parent_fd = std::move(fd);
  return m_parent_fd.get();
}

util::Status DiffEmitter::write_path(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
  const std::string name = path.substr(slash + 1);
  MASON_TRY_ASSIGN(auto dir, parent_fd(parent));
  MASON_TRY_ASSIGN(auto st, sys::lstat_at(dir, name));
  if (!st)
    return util::make_error(util::ErrorCode::unavailable,
                            sys::quote(path) + " vanished while the diff was written");
  if (auto s = m_writer.write(dir, name, path, *st); !s) return s;
  if (S_ISDIR(st->st_mode)) m_open.push_back(path);
  return {};
}

util::Status DiffEmitter::ancestors(const std::string& path) {
  const auto inside = [&](const std::string& dir) {
    return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
  };
  while (!m_open.empty() && !inside(m_open.back())) m_open.pop_back();
  for (auto slash = path.find('/', m_open.empty() ? 0 : m_open.back().size() + 1);
       slash != std::string::npos; slash = path.find('/', slash + 1))
    if (auto s = write_path(path.substr(0, slash)); !s) return s;
  return {};
}

util::Status DiffEmitter::emit(const Change& c) {
  if (auto s = ancestors(c.path); !s) return s;
  if (c.deleted) return m_writer.write_whiteout(c.path, c.mtime);
  return write_path(c.path);
}

} // namespace

util::Result<archive::TreeStats> write_diff(int lower_fd, int upper_fd,
                                            const archive::TarOptions& options,
                                            const std::optional<timespec>& copied_at,
                                            archive::TarWriter& out) {
  sys::UniqueFd lower(::openat(lower_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  sys::UniqueFd upper(::openat(upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!lower || !upper) return sys::errno_error("open trees to compare", errno);
  Comparer comparer(options, copied_at);
  if (auto s = comparer.walk(lower.get(), upper.get(), ""); !s)
    return std::unexpected(std::move(s.error()).with_context("compare trees"));
  DiffEmitter emitter(upper.get(), options, out);
  for (const auto& change : comparer.take_changes()) MASON_TRY(emitter.emit(change));
  return emitter.stats();
}

} // namespace mason::snapshot::detail
