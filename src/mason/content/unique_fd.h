// Owner of one file descriptor. The content store's own small holder (it
// may not use mason_sys); every fd the store opens lives in one of these.
// Not thread-safe per instance; moving transfers ownership.
#pragma once

#include <unistd.h>

#include <utility>

namespace mason::content {

class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership; the caller closes the returned fd.
  int release() { return std::exchange(m_fd, -1); }
  // Closes the owned fd (errors from close are ignored: nothing is
  // written through a descriptor after its fsync) and takes `fd`.
  void reset(int fd = -1) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }

private:
  int m_fd = -1;
};

} // namespace mason::content
