// UniqueFd: the owner of one file descriptor.
//
// Ownership: a UniqueFd closes the descriptor it holds when destroyed or
// reset; moving transfers ownership. Not copyable. Thread-safety: like an
// int; one object must not be used from two threads at once.
#pragma once

#include <utility>

#include "mason/util/error.h"

namespace mason::util {

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

  // Gives up ownership without closing; returns the descriptor (or -1).
  int release() { return std::exchange(m_fd, -1); }
  // Closes the held descriptor (close errors are ignored: use close() where
  // a failed close can mean lost data) and takes `fd`.
  void reset(int fd = -1);
  // Closes and reports the error of close(2), if any. Leaves the object empty.
  Status close();
  // A second owner of the same open file description (F_DUPFD_CLOEXEC).
  Result<UniqueFd> dup() const;

private:
  int m_fd = -1;
};

} // namespace mason::util
