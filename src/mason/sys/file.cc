#include "mason/sys/file.h"

#include <sys/stat.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

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

util::Result<AtomicFile> AtomicFile::create(std::string path, mode_t mode, Durability durability) {
  std::string temp = path + ".XXXXXX";
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) return errno_error("create " + quote(temp), errno);
  AtomicFile file(std::move(path), std::move(temp), std::move(fd), durability);
  if (::fchmod(file.fd(), mode) != 0) return errno_error("chmod " + quote(file.m_temp), errno);
  return file;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : m_path(std::move(other.m_path)), m_temp(std::exchange(other.m_temp, {})),
      m_fd(std::move(other.m_fd)), m_durability(other.m_durability) {}

AtomicFile::~AtomicFile() {
  if (!m_temp.empty()) (void)::unlink(m_temp.c_str());
}

util::Status AtomicFile::write(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(m_fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("write " + quote(m_temp), errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

util::Status AtomicFile::commit() {
  const bool synced = m_durability == Durability::synced;
  if (synced && ::fsync(m_fd.get()) != 0) return errno_error("fsync " + quote(m_temp), errno);
  if (auto closed = m_fd.close(); !closed) return closed;
  if (::rename(m_temp.c_str(), m_path.c_str()) != 0)
    return errno_error("rename " + quote(m_temp) + " to " + quote(m_path), errno);
  m_temp.clear();
  if (synced) {
    const auto slash = m_path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : m_path.substr(0, slash + 1);
    const UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd) (void)::fsync(dir_fd.get()); // durability only: the rename is done
  }
  return {};
}

util::Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode,
                               Durability durability) {
  MASON_TRY_ASSIGN(auto file, AtomicFile::create(path, mode, durability));
  MASON_TRY(file.write(data));
  return file.commit();
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace mason::sys
