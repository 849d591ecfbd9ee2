#include "mason/sys/file.h"

#include <sys/stat.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "mason/sys/errors.h"
#include "mason/sys/unique_fd.h"

namespace mason::sys {

util::Result<std::string> read_file(const std::string& path, std::size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error("read " + quote(path), errno);
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("read " + quote(path), errno);
    }
    if (n == 0) return data;
    if (data.size() + static_cast<std::size_t>(n) > limit)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "read " + quote(path) + ": larger than " + std::to_string(limit) +
                                  " bytes");
    data.append(buf, static_cast<std::size_t>(n));
  }
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace mason::sys
