// Plain streams over descriptors and memory.
#include "mason/archive/stream.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace mason::archive {

util::Result<std::size_t> read_full(Source& in, MutableBytes data) {
  std::size_t done = 0;
  while (done < data.size()) {
    MASON_TRY_ASSIGN(auto n, in.read(data.subspan(done)));
    if (n == 0) break;
    done += n;
  }
  return done;
}

util::Status FdSink::write(ConstBytes data) {
  while (!data.empty()) {
    const ssize_t n = ::write(m_fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::errno_error("write", errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

util::Result<std::size_t> FdSource::read(MutableBytes data) {
  for (;;) {
    const ssize_t n = ::read(m_fd, data.data(), data.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return util::errno_error("read", errno);
  }
}

util::Result<std::size_t> MemorySource::read(MutableBytes data) {
  const std::size_t n = std::min(data.size(), m_data.size());
  if (n > 0) std::memcpy(data.data(), m_data.data(), n);
  m_data.remove_prefix(n);
  return n;
}

} // namespace mason::archive
