// What `mason build` and `mason run` share about the sandbox they set up.
#pragma once

#include <sched.h>
#include <string_view>
#include <sys/mount.h>

namespace mason::engine {

// BuildKit's default PATH for Linux (system.DefaultPathEnv): added to an
// image's environment when it has none.
inline constexpr std::string_view k_default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Moves the process into a private mount namespace, so overlay and bind
// mounts made later die with it even if it is killed. Must run before any
// thread starts (unshare(CLONE_NEWNS) fails otherwise; mounts then stay in
// the host namespace and are undone by their owners).
inline void enter_private_mount_namespace() {
  if (::unshare(CLONE_NEWNS) == 0) ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
}

} // namespace mason::engine
