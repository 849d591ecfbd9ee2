// Store root resolution: the first set source wins (flag, MASON_ROOT,
// XDG_DATA_HOME, HOME), with the XDG rule that relative values are ignored.
#include "mason/content/root.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace mason::content {

util::Result<std::filesystem::path> resolve_root(const RootEnv& env) {
  if (!env.flag.empty()) return std::filesystem::path(env.flag);
  if (!env.mason_root.empty()) return std::filesystem::path(env.mason_root);
  const std::filesystem::path xdg(env.xdg_data_home);
  if (xdg.is_absolute()) return xdg / "mason";
  const std::filesystem::path home(env.home);
  if (home.is_absolute()) return home / ".local" / "share" / "mason";
  return util::make_error(util::ErrorCode::invalid_argument,
                          "cannot locate the mason store: pass --root, or set MASON_ROOT, "
                          "XDG_DATA_HOME or HOME");
}

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

std::string passwd_home() {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr || found->pw_dir == nullptr)
    return {};
  return found->pw_dir;
}

} // namespace

RootEnv root_env_from_process(std::string flag) {
  RootEnv env;
  env.flag = std::move(flag);
  env.mason_root = env_or_empty("MASON_ROOT");
  env.xdg_data_home = env_or_empty("XDG_DATA_HOME");
  env.home = env_or_empty("HOME");
  if (env.home.empty()) env.home = passwd_home();
  return env;
}

} // namespace mason::content
