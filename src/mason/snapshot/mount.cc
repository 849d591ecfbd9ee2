// Overlay mounts through a helper thread with its own working directory.
//
// mount(2) resolves relative lowerdir/upperdir/workdir paths against the
// calling thread's working directory. A thread that calls
// unshare(CLONE_FS) gets a private copy of the fs context (cwd, root,
// umask), so it can fchdir into the state directory without affecting any
// other thread. The thread lives for one mount call.
#include "mason/snapshot/mount.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sys/mount.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

#include "mason/sys/errors.h"
#include "mason/util/strings.h"

namespace mason::snapshot::detail {

namespace {

constexpr std::string_view k_fixed_options = "index=off,redirect_dir=off,metacopy=off";
// A busy mount (a process of the step still exiting) gets about a second.
constexpr int k_busy_retries = 50;
constexpr std::chrono::milliseconds k_busy_wait{20};

// mount(2) of an overlay from a thread whose cwd is `dir_fd`; the errno or 0.
int mount_from(int dir_fd, const std::string& target, const std::string& data,
               unsigned long flags) {
  int err = 0;
  try {
    std::thread helper([&] {
      if (::unshare(CLONE_FS) != 0 || ::fchdir(dir_fd) != 0) {
        err = errno;
        return;
      }
      if (::mount("overlay", target.c_str(), "overlay", flags, data.c_str()) != 0) err = errno;
    });
    helper.join();
  } catch (const std::system_error& e) {
    err = e.code().value() != 0 ? e.code().value() : EAGAIN;
  }
  return err;
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

// Undoes the octal escapes of /proc/self/mountinfo (\040 = space, ...).
std::string unescape_mount_path(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && is_octal(text[i + 1]) && is_octal(text[i + 2]) &&
        is_octal(text[i + 3])) {
      out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                               (text[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += text[i];
  }
  return out;
}

// The mount points listed in /proc/self/mountinfo (the fifth field).
std::vector<std::string> mount_points() {
  constexpr std::size_t k_mount_point_field = 4;
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto fields = util::split(line, ' ');
    if (fields.size() > k_mount_point_field)
      out.push_back(unescape_mount_path(fields[k_mount_point_field]));
  }
  return out;
}

} // namespace

std::string overlay_options(const OverlaySpec& spec) {
  std::string data(k_fixed_options);
  data += ",lowerdir=";
  for (std::size_t i = 0; i < spec.lowers.size(); ++i) {
    if (i > 0) data += ':';
    data += spec.lowers[i];
  }
  if (!spec.upper.empty()) data += ",upperdir=" + spec.upper + ",workdir=" + spec.work;
  return data;
}

ScopedMount::ScopedMount(ScopedMount&& other) noexcept
    : m_target(std::exchange(other.m_target, {})) {}

ScopedMount& ScopedMount::operator=(ScopedMount&& other) noexcept {
  if (this != &other) {
    static_cast<void>(unmount());
    m_target = std::exchange(other.m_target, {});
  }
  return *this;
}

ScopedMount::~ScopedMount() { static_cast<void>(unmount()); }

util::Result<ScopedMount> ScopedMount::overlay(int state_fd, const std::string& target,
                                               const OverlaySpec& spec) {
  const std::string data = overlay_options(spec);
  const std::string what = "mount overlay at " + sys::quote(target) + " (" +
                           std::to_string(spec.lowers.size()) + " lowers, " +
                           std::to_string(data.size()) + " bytes of options)";
  const std::size_t min_lowers = spec.upper.empty() ? 2 : 1;
  if (data.size() > k_mount_data_max || spec.lowers.size() > k_overlay_max_lowers ||
      spec.lowers.size() < min_lowers)
    return util::make_error(util::ErrorCode::invalid_argument, what + ": outside overlay's limits");
  const unsigned long flags = spec.upper.empty() ? MS_RDONLY : 0;
  if (const int err = mount_from(state_fd, target, data, flags); err != 0)
    return sys::errno_error(what, err);
  return ScopedMount(target);
}

util::Status ScopedMount::unmount(UnmountMode mode) {
  if (m_target.empty()) return {};
  for (int attempt = 0;; ++attempt) {
    if (::umount2(m_target.c_str(), UMOUNT_NOFOLLOW) == 0 || errno == EINVAL) break;
    const int err = errno;
    if (err == EBUSY && mode == UnmountMode::lazy &&
        ::umount2(m_target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
      break;
    if (err != EBUSY || mode == UnmountMode::lazy || attempt == k_busy_retries)
      return sys::errno_error("unmount " + sys::quote(m_target), err);
    std::this_thread::sleep_for(k_busy_wait);
  }
  m_target.clear();
  return {};
}

util::Status unmount_all_below(const std::string& path) {
  std::vector<std::string> found;
  for (auto& point : mount_points())
    if (point == path || point.starts_with(path + "/")) found.push_back(std::move(point));
  std::sort(found.begin(), found.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& point : found)
    if (::umount2(point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL)
      return sys::errno_error("unmount " + sys::quote(point), errno);
  return {};
}

} // namespace mason::snapshot::detail
