// UniqueFd: close on destruction, dup with close-on-exec.
#include "mason/util/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace mason::util {

void UniqueFd::reset(int fd) {
  if (m_fd >= 0) static_cast<void>(::close(m_fd));
  m_fd = fd;
}

Status UniqueFd::close() {
  if (m_fd < 0) return {};
  // Linux releases the descriptor even when close fails (EINTR included),
  // so it must never be retried.
  const int rc = ::close(std::exchange(m_fd, -1));
  if (rc != 0) return util::errno_error("close", errno);
  return {};
}

Result<UniqueFd> UniqueFd::dup() const {
  const int fd = ::fcntl(m_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return util::errno_error("dup", errno);
  return UniqueFd(fd);
}

} // namespace mason::util
