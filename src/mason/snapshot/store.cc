// The state directory (see store.h for the layout).
//
// Owner tokens: each open Store makes "<pid>.<random>" and holds an flock
// on tmp/<token>.lock for its lifetime; the file is created unnamed
// (O_TMPFILE), locked, then linked into place, so no one ever sees it
// unlocked while its owner lives. Cleaning at open: every tmp/ entry
// belongs to the token before its first '-' (or ".lock"); a token whose
// lock file is missing or can be locked belongs to a dead owner, and its
// entries are unmounted below, removed, and its lock file last.
#include "mason/snapshot/store.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/snapshot/mount.h"
#include "mason/snapshot/names.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"

namespace mason::snapshot::detail {

namespace {

constexpr std::size_t k_max_chain = 100000; // far above any real chain: a loop guard
constexpr std::size_t k_max_small_file = 4096;
constexpr int k_link_attempts = 16;
constexpr std::string_view k_lock_suffix = ".lock";

std::string str(std::string_view s) { return std::string(s); }

util::Status mkdir_if_missing(int dir_fd, std::string_view name, mode_t mode) {
  if (::mkdirat(dir_fd, str(name).c_str(), mode) == 0 || errno == EEXIST) return {};
  return sys::errno_error("create directory " + sys::quote(name), errno);
}

// mkdir -p of a path given by the user (absolute or relative to the cwd).
util::Status make_state_dir(const std::string& path) {
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return sys::errno_error("create directory " + sys::quote(prefix), errno);
  }
  return {};
}

std::string token_of(std::string_view entry) {
  if (entry.ends_with(k_lock_suffix))
    return str(entry.substr(0, entry.size() - k_lock_suffix.size()));
  return str(entry.substr(0, entry.find('-')));
}

// The flock'ed lock file of a new owner token, linked as tmp/<token>.lock.
util::Result<sys::UniqueFd> create_lock(int tmp_fd, const std::string& token) {
  const std::string name = token + str(k_lock_suffix);
  sys::UniqueFd fd(::openat(tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd && ::flock(fd.get(), LOCK_EX) == 0) {
    const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    if (::linkat(AT_FDCWD, proc.c_str(), tmp_fd, name.c_str(), AT_SYMLINK_FOLLOW) == 0) return fd;
  }
  // No O_TMPFILE here: create, then lock. A cleaner may take the lock in
  // between and unlink the file (it saw a dead owner): then again.
  for (int attempt = 0; attempt < k_link_attempts; ++attempt) {
    fd.reset(::openat(tmp_fd, name.c_str(), O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return sys::errno_error("create lock file tmp/" + name, errno);
    if (::flock(fd.get(), LOCK_EX) != 0) return sys::errno_error("lock tmp/" + name, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && st.st_nlink > 0) return fd;
  }
  return util::make_error(util::ErrorCode::unavailable,
                          "lock file tmp/" + name + " keeps vanishing");
}

// True if the owner of `token` is alive (its lock file is locked). When it
// is dead, `held` receives the lock, kept until its entries are gone.
bool owner_alive(int tmp_fd, const std::string& token, sys::UniqueFd& held) {
  const std::string name = token + str(k_lock_suffix);
  held.reset(::openat(tmp_fd, name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!held) return false;
  if (::flock(held.get(), LOCK_EX | LOCK_NB) == 0) return false;
  held.reset();
  return true;
}

// Removes the entries of a dead owner's token (mounts below them first).
void clean_token(int tmp_fd, const std::string& tmp_path, const std::string& token,
                 const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (token_of(name) != token || name.ends_with(k_lock_suffix)) continue;
    // Never remove through a mount that is still there.
    if (!unmount_all_below(tmp_path + "/" + name)) continue;
    static_cast<void>(sys::remove_all_at(tmp_fd, name));
  }
  static_cast<void>(::unlinkat(tmp_fd, (token + str(k_lock_suffix)).c_str(), 0));
}

void clean_stale(int tmp_fd, const std::string& tmp_path, const std::string& own) {
  auto names = sys::read_dir_names(tmp_fd);
  if (!names) return;
  std::set<std::string> tokens;
  for (const auto& name : *names) tokens.insert(token_of(name));
  for (const auto& token : tokens) {
    sys::UniqueFd held;
    if (token == own || owner_alive(tmp_fd, token, held)) continue;
    clean_token(tmp_fd, tmp_path, token, *names);
  }
}

util::Result<std::optional<std::string>> read_parent(int state_fd, const std::string& name) {
  sys::UniqueFd dir(
      ::openat(state_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return std::optional<std::string>();
  return read_small_file(dir.get(), str(k_parent_file));
}

} // namespace

util::Result<std::optional<std::string>> read_small_file(int dir_fd, const std::string& name) {
  sys::UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::optional<std::string>();
  if (!fd) return sys::errno_error("open " + sys::quote(name), errno);
  std::string data(k_max_small_file, '\0');
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd.get(), data.data() + used, data.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("read " + sys::quote(name), errno);
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used == data.size())
      return util::make_error(util::ErrorCode::corruption, sys::quote(name) + " is too large");
  }
  data.resize(used);
  return std::optional<std::string>(std::move(data));
}

util::Status write_small_file(int dir_fd, const std::string& name, std::string_view data) {
  sys::UniqueFd fd(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return sys::errno_error("create " + sys::quote(name), errno);
  while (!data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("write " + sys::quote(name), errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return fd.close();
}

Store::Store(std::string path, sys::UniqueFd fd, std::string token, sys::UniqueFd lock)
    : m_path(std::move(path)), m_fd(std::move(fd)), m_token(std::move(token)),
      m_lock(std::move(lock)) {}

Store::~Store() {
  sys::UniqueFd tmp(
      ::openat(m_fd.get(), str(k_tmp_dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tmp) return;
  auto names = sys::read_dir_names(tmp.get());
  if (!names) return;
  const std::string lock = m_token + str(k_lock_suffix);
  for (const auto& name : *names)
    if (token_of(name) == m_token && name != lock) return; // a cleaner will see it is dead
  static_cast<void>(::unlinkat(tmp.get(), lock.c_str(), 0));
}

util::Result<std::shared_ptr<Store>> Store::open(const std::string& state_dir) {
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("open snapshot dir " + sys::quote(state_dir)));
  };
  if (auto st = make_state_dir(state_dir); !st) return fail(std::move(st.error()));
  char resolved[PATH_MAX];
  if (::realpath(state_dir.c_str(), resolved) == nullptr)
    return fail(sys::errno_error("resolve path", errno).error());
  sys::UniqueFd fd(::open(resolved, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail(sys::errno_error("open", errno).error());
  for (const auto name : {k_tmp_dir, k_link_dir, k_flat_dir})
    if (auto st = mkdir_if_missing(fd.get(), name, 0700); !st) return fail(std::move(st.error()));
  if (auto st = mkdir_if_missing(fd.get(), k_empty_dir, 0755); !st)
    return fail(std::move(st.error()));
  sys::UniqueFd tmp(::openat(fd.get(), str(k_tmp_dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tmp) return fail(sys::errno_error("open tmp", errno).error());
  std::string token = std::to_string(::getpid()) + "." + random_chars(8);
  auto lock = create_lock(tmp.get(), token);
  if (!lock) return fail(std::move(lock.error()));
  const std::string path(resolved);
  clean_stale(tmp.get(), path + "/" + str(k_tmp_dir), token);
  return std::make_shared<Store>(path, std::move(fd), std::move(token), std::move(*lock));
}

util::Result<sys::TempDir> Store::make_temp(std::string_view what) const {
  return sys::TempDir::create_in(m_path + "/" + str(k_tmp_dir), m_token + "-" + str(what) + "-");
}

std::string Store::relative(const sys::TempDir& dir) {
  const auto slash = dir.path().rfind('/');
  return str(k_tmp_dir) + "/" + dir.path().substr(slash + 1);
}

util::Result<std::optional<SnapshotInfo>> Store::read_info(const std::string& id) const {
  MASON_TRY_ASSIGN(auto name, dir_name_of(id));
  sys::UniqueFd dir(
      ::openat(m_fd.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir && (errno == ENOENT || errno == ENOTDIR)) return std::optional<SnapshotInfo>();
  if (!dir) return sys::errno_error("open snapshot " + sys::quote(id), errno);
  SnapshotInfo info{id, name, std::nullopt, "", false};
  auto parent = read_small_file(dir.get(), str(k_parent_file));
  auto link = read_small_file(dir.get(), str(k_link_file));
  auto layer = sys::lstat_at(dir.get(), k_unpacked_file);
  if (!parent || !link || !layer) {
    util::Error e = !parent ? parent.error() : !link ? link.error() : layer.error();
    return std::unexpected(std::move(e).with_context("read snapshot " + sys::quote(id)));
  }
  info.parent = *parent;
  info.link = link->value_or("");
  info.unpacked = layer->has_value();
  return std::optional<SnapshotInfo>(std::move(info));
}

util::Result<std::vector<SnapshotInfo>> Store::list() {
  MASON_TRY_ASSIGN(auto names, sys::read_dir_names(m_fd.get()));
  std::vector<SnapshotInfo> out;
  for (const auto& name : names) {
    auto id = id_of_dir_name(name);
    if (!id) continue;
    MASON_TRY_ASSIGN(auto info, find(*id));
    if (info) out.push_back(std::move(*info));
  }
  return out;
}

util::Result<std::optional<SnapshotInfo>> Store::find(const std::string& id) {
  {
    std::lock_guard lock(m_cache_mutex);
    if (auto it = m_cache.find(id); it != m_cache.end())
      return std::optional<SnapshotInfo>(it->second);
  }
  auto info = read_info(id);
  if (!info || !*info) return info;
  std::lock_guard lock(m_cache_mutex);
  m_cache.emplace(id, **info);
  return info;
}

util::Result<SnapshotInfo> Store::get(const std::string& id) {
  MASON_TRY_ASSIGN(auto info, find(id));
  if (!info) return util::make_error(util::ErrorCode::not_found, "no snapshot " + sys::quote(id));
  return std::move(*info);
}

util::Result<std::vector<SnapshotInfo>> Store::chain(const std::string& top) {
  std::vector<SnapshotInfo> out;
  std::optional<std::string> id = top;
  while (id) {
    if (out.size() >= k_max_chain)
      return util::make_error(util::ErrorCode::corruption,
                              "snapshot chain of " + sys::quote(top) + " loops");
    MASON_TRY_ASSIGN(auto info, get(*id));
    id = info.parent;
    out.push_back(std::move(info));
  }
  return out;
}

util::Status Store::write_info(const sys::TempDir& dir, const SnapshotInfo& info) {
  if (info.parent)
    if (auto st = write_small_file(dir.fd(), str(k_parent_file), *info.parent); !st) return st;
  if (!info.link.empty())
    if (auto st = write_small_file(dir.fd(), str(k_link_file), info.link); !st) return st;
  if (info.unpacked) return write_small_file(dir.fd(), str(k_unpacked_file), "");
  return {};
}

util::Result<bool> Store::publish(const sys::TempDir& dir, const std::string& dest) const {
  const std::string from = relative(dir);
  if (::renameat2(m_fd.get(), from.c_str(), m_fd.get(), dest.c_str(), RENAME_NOREPLACE) == 0)
    return true;
  if (errno == EEXIST || errno == ENOTEMPTY) return false;
  if (errno == EINVAL) { // no RENAME_NOREPLACE here: a non-empty target still refuses
    if (::renameat(m_fd.get(), from.c_str(), m_fd.get(), dest.c_str()) == 0) return true;
    if (errno == EEXIST || errno == ENOTEMPTY) return false;
  }
  return sys::errno_error("rename " + sys::quote(from) + " to " + sys::quote(dest), errno);
}

util::Result<std::string> Store::make_link(const std::string& name) const {
  const std::string target = "../" + name + "/" + str(k_fs_dir);
  for (int attempt = 0; attempt < k_link_attempts; ++attempt) {
    const std::string link = random_chars(k_link_chars);
    const std::string path = str(k_link_dir) + "/" + link;
    if (::symlinkat(target.c_str(), m_fd.get(), path.c_str()) == 0) return link;
    if (errno != EEXIST) return sys::errno_error("create link " + sys::quote(path), errno);
  }
  return util::make_error(util::ErrorCode::internal, "no free short link name in l/");
}

void Store::drop_link(const std::string& link) const {
  if (link.empty()) return;
  static_cast<void>(::unlinkat(m_fd.get(), (str(k_link_dir) + "/" + link).c_str(), 0));
}

Store::Pin& Store::Pin::operator=(Pin&& other) noexcept {
  if (this != &other) {
    release();
    m_store = std::move(other.m_store);
    m_id = std::move(other.m_id);
  }
  return *this;
}

void Store::Pin::release() {
  if (!m_store) return;
  std::lock_guard lock(m_store->m_pin_mutex);
  if (--m_store->m_pins[m_id] == 0) m_store->m_pins.erase(m_id);
  m_store.reset();
}

Store::Pin Store::pin(const std::optional<std::string>& id) {
  if (!id) return {};
  std::lock_guard lock(m_pin_mutex);
  ++m_pins[*id];
  return Pin(shared_from_this(), *id);
}

Store::KeyLock::KeyLock(Store& store, std::string key, std::shared_ptr<std::mutex> mutex)
    : m_store(&store), m_key(std::move(key)), m_mutex(std::move(mutex)), m_lock(*m_mutex) {}

Store::KeyLock::~KeyLock() {
  if (!m_mutex) return;
  m_lock.unlock();
  std::lock_guard lock(m_store->m_keys_mutex);
  // The map's reference and ours: nobody else waits for this key.
  if (m_mutex.use_count() == 2) m_store->m_keys.erase(m_key);
}

Store::KeyLock Store::lock_key(const std::string& key) {
  std::shared_ptr<std::mutex> mutex;
  {
    std::lock_guard lock(m_keys_mutex);
    auto& slot = m_keys[key];
    if (!slot) slot = std::make_shared<std::mutex>();
    mutex = slot;
  }
  return KeyLock(*this, key, std::move(mutex));
}

util::Result<std::optional<std::string>> Store::child_of(const std::string& id) const {
  MASON_TRY_ASSIGN(auto names, sys::read_dir_names(m_fd.get()));
  for (const auto& name : names) {
    MASON_TRY_ASSIGN(auto parent, read_parent(m_fd.get(), name));
    if (parent && *parent == id) return std::optional<std::string>(name);
  }
  return std::optional<std::string>();
}

util::Status Store::remove_locked(const SnapshotInfo& info, bool layers, std::string& moved) {
  if (info.unpacked && !layers)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "it is an unpacked image layer (shared, kept)");
  if (m_pins.contains(info.id))
    return util::make_error(util::ErrorCode::unavailable,
                            "it is in use (the parent of an active snapshot, or viewed)");
  MASON_TRY_ASSIGN(auto child, child_of(info.id));
  if (child)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "it is the parent of snapshot dir " + sys::quote(*child));
  moved = str(k_tmp_dir) + "/" + m_token + "-removed-" + random_chars(8);
  if (::renameat(m_fd.get(), info.name.c_str(), m_fd.get(), moved.c_str()) != 0)
    return sys::errno_error("rename to " + sys::quote(moved), errno);
  std::lock_guard lock(m_cache_mutex);
  m_cache.erase(info.id);
  return {};
}

util::Status Store::remove(const std::string& id, bool layers) {
  const auto fail = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("remove snapshot " + sys::quote(id)));
  };
  auto info = get(id);
  if (!info) return fail(std::move(info.error()));
  std::string moved;
  {
    std::lock_guard lock(m_pin_mutex);
    if (auto st = remove_locked(*info, layers, moved); !st) return fail(std::move(st.error()));
  }
  drop_link(info->link);
  if (!info->link.empty())
    static_cast<void>(sys::remove_all_at(m_fd.get(), str(k_flat_dir) + "/" + info->link));
  if (auto st = sys::remove_all_at(m_fd.get(), moved); !st) return fail(std::move(st.error()));
  return {};
}

} // namespace mason::snapshot::detail
