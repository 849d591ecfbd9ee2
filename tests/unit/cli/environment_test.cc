// The CLI reads the environment (the libraries take values): the store
// root's inputs, docker's configuration directory, the proxy bypass list.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "mason/cli/environment.h"

namespace mason::cli {
namespace {

// Sets (or unsets, for nullptr) a variable and restores it on destruction.
class EnvVar {
public:
  EnvVar(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~EnvVar() {
    if (m_old)
      ::setenv(m_name, m_old->c_str(), 1);
    else
      ::unsetenv(m_name);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

private:
  const char* m_name;
  std::optional<std::string> m_old;
};

TEST(Environment, RootInputs) {
  content::RootEnv env;
  {
    EnvVar mason_root("MASON_ROOT", "/from/env");
    EnvVar xdg("XDG_DATA_HOME", "/xdg");
    env = root_env("/flag");
  }
  EXPECT_EQ(env.flag, "/flag");
  EXPECT_EQ(env.mason_root, "/from/env");
  EXPECT_EQ(env.xdg_data_home, "/xdg");
  EXPECT_FALSE(env.home.empty());
  EnvVar no_mason_root("MASON_ROOT", nullptr);
  EnvVar no_xdg("XDG_DATA_HOME", nullptr);
  EXPECT_EQ(content::resolve_root(root_env("")).value(),
            std::filesystem::path(env.home) / ".local/share/mason");
  EnvVar no_home("HOME", nullptr); // the passwd entry's home
  EXPECT_EQ(root_env("").home, env.home);
}

TEST(Environment, DockerConfigDir) {
  {
    EnvVar config("DOCKER_CONFIG", "/cfg");
    EXPECT_EQ(docker_config_dir().value(), "/cfg");
  }
  EnvVar no_config("DOCKER_CONFIG", "");
  EnvVar home("HOME", "/home/someone");
  EXPECT_EQ(docker_config_dir().value(), "/home/someone/.docker");
}

TEST(Environment, NoProxyLowerCaseFirst) {
  EnvVar lower("no_proxy", nullptr);
  EnvVar upper("NO_PROXY", nullptr);
  EXPECT_EQ(no_proxy(), "");
  ::setenv("NO_PROXY", "b.example", 1);
  EXPECT_EQ(no_proxy(), "b.example");
  ::setenv("no_proxy", "a.example", 1);
  EXPECT_EQ(no_proxy(), "a.example");
}

TEST(Environment, ValueDistinguishesEmptyFromUnset) {
  EnvVar set("MASON_TEST_VALUE", "");
  EXPECT_EQ(env_value("MASON_TEST_VALUE"), std::optional<std::string>(""));
  EnvVar unset("MASON_TEST_UNSET", nullptr);
  EXPECT_EQ(env_value("MASON_TEST_UNSET"), std::nullopt);
}

} // namespace
} // namespace mason::cli
