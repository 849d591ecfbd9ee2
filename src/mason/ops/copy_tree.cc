// One source copied into the destination root (see copy_tree.h), as
// fsutil's copier: a depth-first walk in name order. Each entry is decided
// (include/exclude patterns, relative to the copied source), created, and
// then given its metadata. Directories are frames on a stack: an excluded
// or not-yet-included directory is created only when something below it
// is copied (then with its source metadata), so "--parents a/*/c" does not
// create a/b for every b. Everything is done with *at calls on
// descriptors opened one component at a time with O_NOFOLLOW, starting
// from the two roots.
#include "mason/ops/copy_tree.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/sys/xattr.h"
#include "mason/util/strings.h"

namespace mason::ops {

struct TreeCopier::Entry {
  int src_parent_fd = -1; // directory holding the source entry
  std::string src_name;   // "." for the source root
  std::string src_path;   // root-relative, for messages
  std::string components; // relative to the copied source ("" for it)
  struct stat st {};
  std::string dst_name;           // "." for the destination root
  SourceTree::IgnoreState ignore; // for the entry's children
  frontend::IgnoreMatcher::DirState include_parent, exclude_parent;
};

struct TreeCopier::Decision {
  bool skip = false;     // out, and nothing below it can be in
  bool include = true;   // copied (else only walked)
  bool excluded = false; // matched by --exclude
  frontend::IgnoreMatcher::DirState include_state, exclude_state;
};

struct TreeCopier::Frame {
  const Entry* entry = nullptr; // outlives the frame (both live in copy_entry)
  std::string dst_name;
  std::string dst_path;
  sys::UniqueFd dst_dir; // open once it exists in the destination
  bool copied = false;
};

namespace {

constexpr std::size_t k_copy_chunk = std::size_t{1} << 30;

std::string quoted_dst(const std::string& path) { return sys::quote("/" + path); }

bool copy_range_unsupported(int err) {
  return err == ENOSYS || err == EXDEV || err == EPERM || err == EIO || err == EOPNOTSUPP ||
         err == EINVAL;
}

util::Status copy_with_read(int in, int out, std::uint64_t& total) {
  std::vector<char> buf(1 << 16);
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("read", errno);
    if (n == 0) return {};
    for (ssize_t off = 0; off < n;) {
      const ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return sys::errno_error("write", errno);
      off += w;
    }
    total += static_cast<std::uint64_t>(n);
  }
}

} // namespace

util::Result<std::uint64_t> copy_data(int in, int out) {
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, k_copy_chunk, 0);
    if (n == 0) return total;
    if (n > 0) {
      total += static_cast<std::uint64_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (total != 0 || !copy_range_unsupported(errno)) return sys::errno_error("copy", errno);
    MASON_TRY(copy_with_read(in, out, total));
    return total;
  }
}

namespace {

// Literal leading components of a pattern, or nullopt when the pattern
// could match anywhere (an exception, or regexp syntax after a wildcard).
std::optional<std::vector<std::string_view>> literal_prefix(std::string_view pattern) {
  if (pattern.empty() || pattern.front() == '!') return std::nullopt;
  const bool wild = pattern.find_first_of("*?[\\") != std::string_view::npos;
  if (wild && pattern.find_first_of("|{}^$()+") != std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> out;
  for (const auto part : util::split(pattern, '/')) {
    if (part.find_first_of("*?[\\") != std::string_view::npos) break;
    out.push_back(part);
  }
  return out;
}

} // namespace

TreeCopier::TreeCopier(const SourceTree& source, int dest_root_fd, const CopyPolicy& policy,
                       CopyStats& stats)
    : m_source(source), m_dest_root(dest_root_fd), m_policy(policy), m_stats(stats) {}

TreeCopier::~TreeCopier() = default;

util::Status TreeCopier::copy(const std::string& source_path, const std::string& source_name,
                              const std::string& dest) {
  MASON_TRY_ASSIGN(auto st, m_source.stat(source_path));
  if (!st)
    return util::make_error(util::ErrorCode::not_found,
                            sys::quote("/" + source_path) + ": not found", ENOENT);
  MASON_TRY_ASSIGN(auto target, prepare_target(*st, source_name, dest));
  MASON_TRY_ASSIGN(auto src, node_ref(m_source.root_fd(), source_path));
  MASON_TRY_ASSIGN(auto dst, node_ref(m_dest_root, target));
  m_base_fd = dst.parent.get();
  m_base_path = target.empty() ? std::string() : parent_path(target);
  m_links.clear();
  Entry top;
  top.src_parent_fd = src.parent.get();
  top.src_name = src.name;
  top.src_path = source_path;
  top.st = *st;
  top.dst_name = dst.name;
  top.ignore = m_source.ignore_state(source_path);
  return copy_entry(top, false);
}

util::Result<std::string> TreeCopier::prepare_target(const struct stat& source_st,
                                                     const std::string& source_name,
                                                     const std::string& dest) {
  const mode_t dir_mode = m_policy.mode.created_dir_mode();
  const std::string holder = dest_is_dir(dest) ? dest : dest.substr(0, dest.rfind('/') + 1);
  MASON_TRY_ASSIGN(auto ensure, resolve_in_root(m_dest_root, holder));
  MASON_TRY(mkdir_all(m_dest_root, ensure, dir_mode, m_policy.chown));
  auto target = resolve_in_root(m_dest_root, dest);
  if (!target) return std::unexpected(std::move(target.error()));
  MASON_TRY_ASSIGN(auto dst_st, lstat_path(m_dest_root, *target));
  const bool src_dir = S_ISDIR(source_st.st_mode);
  if (!src_dir && dst_st && S_ISDIR(dst_st->st_mode)) *target = join_path(*target, source_name);
  const std::string dir = src_dir && !dst_st ? *target : parent_path(*target);
  MASON_TRY(mkdir_all(m_dest_root, dir, dir_mode, m_policy.chown));
  return target;
}

int TreeCopier::dest_parent_fd() const {
  return m_stack.empty() ? m_base_fd : m_stack.back().dst_dir.get();
}

std::string TreeCopier::dest_parent_path() const {
  return m_stack.empty() ? m_base_path : m_stack.back().dst_path;
}

TreeCopier::Decision TreeCopier::decide(const Entry& e) const {
  Decision d;
  if (e.components.empty()) return d;
  const auto* inc = m_policy.include;
  const auto* exc = m_policy.exclude;
  if (inc != nullptr)
    d.include = inc->excluded_given_parent(e.components, e.include_parent, &d.include_state);
  if (exc != nullptr &&
      exc->excluded_given_parent(e.components, e.exclude_parent, &d.exclude_state)) {
    d.include = false;
    d.excluded = true;
  }
  d.skip = !d.include && inc == nullptr && !(exc != nullptr && exc->has_exceptions());
  return d;
}

std::string TreeCopier::dest_path_of(const Entry& e) const {
  return e.dst_name == "." ? dest_parent_path() : join_path(dest_parent_path(), e.dst_name);
}

util::Status TreeCopier::copy_entry(const Entry& e, bool overwrite) {
  const Decision d = decide(e);
  const bool is_dir = S_ISDIR(e.st.st_mode);
  if (d.skip || (!d.include && !is_dir)) return {};
  std::optional<struct stat> target_st;
  if (d.include) {
    MASON_TRY_ASSIGN(auto t, prepare_slot(e, overwrite));
    target_st = t;
  }
  if (is_dir) return copy_dir_entry(e, d, overwrite, target_st.has_value());
  const std::string dst_path = dest_path_of(e);
  auto st = S_ISREG(e.st.st_mode) ? copy_file(e, dest_parent_fd(), dst_path)
                                  : copy_special(e, dest_parent_fd(), dst_path);
  if (!st) return st;
  return apply_metadata(e, dest_parent_fd(), e.dst_name, dst_path);
}

// Creates the pending parents of an entry about to be copied and makes
// room for it: a non-directory replaces any non-directory (never a
// directory). Returns what was at the target before.
util::Result<std::optional<struct stat>> TreeCopier::prepare_slot(const Entry& e, bool overwrite) {
  MASON_TRY(create_pending_parents(overwrite));
  auto target = sys::lstat_at(dest_parent_fd(), e.dst_name);
  if (!target || !*target || S_ISDIR(e.st.st_mode)) return target;
  const std::string dst_path = dest_path_of(e);
  if (S_ISDIR((*target)->st_mode))
    return util::make_error(util::ErrorCode::invalid_argument,
                            "cannot replace to directory " + quoted_dst(dst_path) + " with file");
  if (::unlinkat(dest_parent_fd(), e.dst_name.c_str(), 0) != 0)
    return sys::errno_error("remove " + quoted_dst(dst_path), errno);
  return target;
}

// A directory's metadata is applied after its contents: when it was
// included (below the top) or created (the top); the top directory that
// already existed only gets the source's times.
util::Status TreeCopier::copy_dir_entry(const Entry& e, const Decision& d, bool overwrite,
                                        bool existed) {
  MASON_TRY_ASSIGN(auto created, copy_directory(e, d, overwrite));
  if (overwrite ? d.include : created)
    return apply_metadata(e, dest_parent_fd(), e.dst_name, dest_path_of(e));
  if (overwrite || !existed) return {};
  const timespec times[2] = {e.st.st_atim, e.st.st_mtim};
  if (::utimensat(dest_parent_fd(), e.dst_name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return sys::errno_error("set times of " + quoted_dst(dest_path_of(e)), errno);
  return {};
}

util::Result<bool> TreeCopier::copy_directory(const Entry& e, const Decision& d, bool overwrite) {
  bool created = false;
  Frame frame;
  frame.entry = &e;
  frame.dst_name = e.dst_name;
  frame.dst_path = dest_path_of(e);
  if (d.include) {
    auto c = copy_directory_only(dest_parent_fd(), e.dst_name, frame.dst_path, e.st, overwrite);
    if (!c) return c;
    created = *c;
    frame.dst_dir.reset(::openat(dest_parent_fd(), e.dst_name.c_str(),
                                 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!frame.dst_dir) return sys::errno_error("open " + quoted_dst(frame.dst_path), errno);
    frame.copied = true;
  }
  m_stack.push_back(std::move(frame));
  struct Pop {
    std::vector<Frame>& stack;
    ~Pop() { stack.pop_back(); }
  } pop{m_stack};
  const auto* exc = m_policy.exclude;
  if (d.excluded && exc != nullptr &&
      !(exc->has_exceptions() && exc->may_reinclude_under(e.components)))
    return created;
  if (!d.include && m_policy.include != nullptr && !below_include_prefix(e.components))
    return created;
  sys::UniqueFd src(::openat(e.src_parent_fd, e.src_name.c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!src) return sys::errno_error("open " + sys::quote("/" + e.src_path), errno);
  MASON_TRY(copy_children(e, d, src.get()));
  return created;
}

util::Status TreeCopier::copy_children(const Entry& e, const Decision& d, int src_dir_fd) {
  auto names = sys::read_dir_names(src_dir_fd);
  if (!names)
    return std::unexpected(
        std::move(names.error()).with_context("read " + sys::quote("/" + e.src_path)));
  for (const auto& name : *names) {
    MASON_TRY_ASSIGN(auto st, sys::lstat_at(src_dir_fd, name));
    if (!st) continue;
    Entry child;
    child.src_parent_fd = src_dir_fd;
    child.src_name = name;
    child.src_path = join_path(e.src_path, name);
    child.components = join_path(e.components, name);
    child.st = *st;
    child.dst_name = name;
    auto visible =
        m_source.visible_child(src_dir_fd, name, child.src_path, child.st, e.ignore, &child.ignore);
    if (!visible) return std::unexpected(std::move(visible.error()));
    if (!*visible) continue;
    child.include_parent = d.include_state;
    child.exclude_parent = d.exclude_state;
    if (auto r = copy_entry(child, true); !r) return r;
  }
  return {};
}

util::Status TreeCopier::create_pending_parents(bool overwrite) {
  for (std::size_t i = 0; i < m_stack.size(); ++i) {
    Frame& f = m_stack[i];
    if (f.copied) continue;
    const int parent = i == 0 ? m_base_fd : m_stack[i - 1].dst_dir.get();
    MASON_TRY_ASSIGN(auto created,
                     copy_directory_only(parent, f.dst_name, f.dst_path, f.entry->st, overwrite));
    if (created)
      if (auto st = apply_metadata(*f.entry, parent, f.dst_name, f.dst_path); !st) return st;
    f.dst_dir.reset(
        ::openat(parent, f.dst_name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!f.dst_dir) return sys::errno_error("open " + quoted_dst(f.dst_path), errno);
    f.copied = true;
  }
  return {};
}

util::Result<bool> TreeCopier::copy_directory_only(int parent_fd, const std::string& name,
                                                   const std::string& path, const struct stat& st,
                                                   bool overwrite) {
  MASON_TRY_ASSIGN(auto existing, sys::lstat_at(parent_fd, name));
  if (!existing) {
    if (::mkdirat(parent_fd, name.c_str(), st.st_mode & 07777) != 0)
      return sys::errno_error("mkdir " + quoted_dst(path), errno);
    ++m_stats.directories;
    return true;
  }
  if (!S_ISDIR(existing->st_mode))
    return util::make_error(util::ErrorCode::invalid_argument,
                            "cannot copy to non-directory: " + quoted_dst(path));
  if (overwrite && ::fchmodat(parent_fd, name.c_str(), st.st_mode & 07777, 0) != 0)
    return sys::errno_error("chmod " + quoted_dst(path), errno);
  return false;
}

util::Status TreeCopier::copy_file(const Entry& e, int parent_fd, const std::string& dst_path) {
  if (e.st.st_nlink > 1) {
    const auto key = std::make_pair(e.st.st_dev, e.st.st_ino);
    if (const auto it = m_links.find(key); it != m_links.end()) {
      if (auto st = sys::link_in_root(m_dest_root, it->second, dst_path); !st) return st;
      ++m_stats.files;
      return {};
    }
    m_links.emplace(key, dst_path);
  }
  sys::UniqueFd in(
      ::openat(e.src_parent_fd, e.src_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in) return sys::errno_error("open " + sys::quote("/" + e.src_path), errno);
  sys::UniqueFd out(::openat(parent_fd, e.dst_name.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return sys::errno_error("create " + quoted_dst(dst_path), errno);
  auto n = copy_data(in.get(), out.get());
  if (!n)
    return std::unexpected(std::move(n.error()).with_context(
        "copy " + sys::quote("/" + e.src_path) + " to " + quoted_dst(dst_path)));
  ++m_stats.files;
  m_stats.bytes += *n;
  return out.close();
}

util::Status TreeCopier::copy_special(const Entry& e, int parent_fd, const std::string& dst_path) {
  if (S_ISLNK(e.st.st_mode)) {
    std::string target(static_cast<std::size_t>(e.st.st_size) + 1, '\0');
    const ssize_t n =
        ::readlinkat(e.src_parent_fd, e.src_name.c_str(), target.data(), target.size());
    if (n < 0) return sys::errno_error("readlink " + sys::quote("/" + e.src_path), errno);
    target.resize(static_cast<std::size_t>(n));
    if (::symlinkat(target.c_str(), parent_fd, e.dst_name.c_str()) != 0)
      return sys::errno_error("symlink " + quoted_dst(dst_path), errno);
  } else {
    // fsutil's copyDevice: mode &^ S_IFSOCK (a socket becomes a regular
    // file, and a block device's type bits become a character device's).
    const mode_t mode = e.st.st_mode & ~static_cast<mode_t>(S_IFSOCK);
    const dev_t dev = S_ISCHR(e.st.st_mode) || S_ISBLK(e.st.st_mode) ? e.st.st_rdev : 0;
    if (::mknodat(parent_fd, e.dst_name.c_str(), mode, dev) != 0)
      return sys::errno_error("mknod " + quoted_dst(dst_path), errno);
  }
  ++m_stats.files;
  return {};
}

util::Status TreeCopier::apply_metadata(const Entry& e, int parent_fd, const std::string& name,
                                        const std::string& dst_path) {
  const bool is_link = S_ISLNK(e.st.st_mode);
  if (m_policy.set_owners) {
    Owner owner{e.st.st_uid, e.st.st_gid};
    if (m_policy.chown)
      owner = *m_policy.chown;
    else if (m_policy.source_owner_is_root)
      owner = {};
    if (::fchownat(parent_fd, name.c_str(), owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0)
      return sys::errno_error("chown " + quoted_dst(dst_path), errno);
  }
  if (!is_link) {
    const mode_t mode = m_policy.mode.apply(e.st.st_mode, S_ISDIR(e.st.st_mode));
    if (::fchmodat(parent_fd, name.c_str(), mode, 0) != 0)
      return sys::errno_error("chmod " + quoted_dst(dst_path), errno);
  }
  const timespec times[2] = {e.st.st_atim, e.st.st_mtim};
  if (::utimensat(parent_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return sys::errno_error("set times of " + quoted_dst(dst_path), errno);
  // xattrs: best effort, as BuildKit's handler only logs failures.
  auto xattrs = sys::list_xattrs_at(e.src_parent_fd, e.src_name);
  if (xattrs)
    for (const auto& x : *xattrs)
      static_cast<void>(sys::set_xattr_at(parent_fd, name, x.name, x.value));
  return {};
}

bool TreeCopier::below_include_prefix(const std::string& components) const {
  if (components.empty()) return true;
  const auto dir = util::split(components, '/');
  for (const auto& pattern : m_policy.include_patterns) {
    const auto prefix = literal_prefix(pattern);
    if (!prefix) return true;
    const std::size_t n = std::min(prefix->size(), dir.size());
    bool same = true;
    for (std::size_t i = 0; i < n && same; ++i) same = (*prefix)[i] == dir[i];
    if (same) return true;
  }
  return false;
}

} // namespace mason::ops
