// POSIX helpers: thin loops around the system calls (EINTR retries, short
// writes and reads) that turn errno into util::Error with a located message.
#include "mason/content/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "mason/util/sha256.h"

namespace mason::content::fs {

util::Result<UniqueFd> open_at(int dirfd, const std::string& name, int flags, mode_t mode) {
  int fd = -1;
  do {
    fd = ::openat(dirfd, name.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_error("open " + name, errno);
  return UniqueFd(fd);
}

util::Status ensure_dir(int dirfd, const std::string& name, mode_t mode) {
  if (::mkdirat(dirfd, name.c_str(), mode) == 0 || errno == EEXIST) return {};
  return errno_error("create directory " + name, errno);
}

util::Status write_all(int fd, const void* data, std::size_t size, std::string_view what) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("write " + std::string(what), errno);
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

util::Result<std::size_t> read_some(int fd, void* data, std::size_t size, std::string_view what) {
  for (;;) {
    const ssize_t n = ::read(fd, data, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return errno_error("read " + std::string(what), errno);
  }
}

util::Status sync(int fd, std::string_view what) {
  if (::fsync(fd) == 0) return {};
  return errno_error("fsync " + std::string(what), errno);
}

util::Result<std::vector<std::string>> list_dir(int dirfd, std::string_view what) {
  // fdopendir takes ownership of its fd, so give it a fresh one.
  auto fd = open_at(dirfd, ".", O_RDONLY | O_DIRECTORY);
  if (!fd) return errno_error("list " + std::string(what), fd.error().sys_errno());
  DIR* dir = ::fdopendir(fd->get());
  if (dir == nullptr) return errno_error("list " + std::string(what), errno);
  fd->release();
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return errno_error("list " + std::string(what), err);
  return names;
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      break; // no getrandom: fall back to a hash of time and pid below
    }
  }
  if (got < bytes) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    raw = util::Sha256::hex_of(std::to_string(now) + ":" + std::to_string(::getpid()));
    return raw.substr(0, 2 * bytes);
  }
  return util::to_hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
}

bool is_hex(std::string_view text, std::size_t length) {
  if (text.size() != length) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

util::Result<bool> lock(int fd, LockMode mode, LockWait wait, std::string_view what) {
  int op = mode == LockMode::shared ? LOCK_SH : LOCK_EX;
  if (wait == LockWait::try_only) op |= LOCK_NB;
  for (;;) {
    if (::flock(fd, op) == 0) return true;
    if (errno == EWOULDBLOCK && wait == LockWait::try_only) return false;
    if (errno != EINTR) return errno_error("lock " + std::string(what), errno);
  }
}

} // namespace mason::content::fs
