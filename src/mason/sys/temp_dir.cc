// TempDir: mkdtemp, then rm -rf through descriptors on destruction.
#include "mason/sys/temp_dir.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"

namespace mason::sys {

util::Result<TempDir> TempDir::create(std::string_view prefix) { return create_in("/tmp", prefix); }

util::Result<TempDir> TempDir::create_in(const std::string& parent, std::string_view prefix) {
  std::string pattern = parent + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    return errno_error("create temporary directory in " + quote(parent), errno);
  UniqueFd fd(::open(pattern.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    static_cast<void>(::rmdir(pattern.c_str()));
    return errno_error("open " + quote(pattern), err);
  }
  return TempDir(std::move(pattern), std::move(fd));
}

TempDir::TempDir(TempDir&& other) noexcept
    : m_path(std::exchange(other.m_path, {})), m_fd(std::move(other.m_fd)) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    static_cast<void>(remove());
    m_path = std::exchange(other.m_path, {});
    m_fd = std::move(other.m_fd);
  }
  return *this;
}

TempDir::~TempDir() { static_cast<void>(remove()); }

util::Status TempDir::remove() {
  if (m_path.empty()) return {};
  const std::string path = std::exchange(m_path, {});
  m_fd.reset();
  // Remove by the parent's descriptor and the final name, so a symlink
  // planted at `path` meanwhile is unlinked rather than followed.
  const auto slash = path.rfind('/');
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd parent_fd(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) return errno_error("open " + quote(parent), errno);
  return remove_all_at(parent_fd.get(), path.substr(slash + 1));
}

} // namespace mason::sys
