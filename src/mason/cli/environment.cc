#include "mason/cli/environment.h"

#include <cstdlib>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace mason::cli {

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

std::string passwd_home() {
  const long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr || found->pw_dir == nullptr)
    return {};
  return found->pw_dir;
}

std::string home() {
  std::string dir = env_or_empty("HOME");
  return dir.empty() ? passwd_home() : dir;
}

} // namespace

std::optional<std::string> env_value(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

content::RootEnv root_env(std::string flag) {
  content::RootEnv env;
  env.flag = std::move(flag);
  env.mason_root = env_or_empty("MASON_ROOT");
  env.xdg_data_home = env_or_empty("XDG_DATA_HOME");
  env.home = home();
  return env;
}

util::Result<std::string> docker_config_dir() {
  if (auto dir = env_or_empty("DOCKER_CONFIG"); !dir.empty()) return dir;
  if (auto dir = home(); !dir.empty()) return dir + "/.docker";
  return util::make_error(util::ErrorCode::not_found,
                          "find the docker configuration directory: neither DOCKER_CONFIG nor "
                          "HOME is set and the user has no home directory");
}

std::string no_proxy() {
  for (const char* name : {"no_proxy", "NO_PROXY"})
    if (auto v = env_or_empty(name); !v.empty()) return v;
  return {};
}

std::string search_path() { return env_or_empty("PATH"); }

} // namespace mason::cli
