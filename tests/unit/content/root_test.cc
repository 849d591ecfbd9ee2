#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "mason/content/root.h"

using namespace mason::content;

TEST(Root, FlagWinsOverEverything) {
  RootEnv env{"/flag", "/env", "/xdg", "/home/u"};
  EXPECT_EQ(resolve_root(env).value(), "/flag");
}

TEST(Root, MasonRootWhenNoFlag) {
  RootEnv env{"", "/env", "/xdg", "/home/u"};
  EXPECT_EQ(resolve_root(env).value(), "/env");
}

TEST(Root, RelativeFlagAndMasonRootAreKeptAsGiven) {
  EXPECT_EQ(resolve_root({"rel/dir", "", "", "/home/u"}).value(), "rel/dir");
  EXPECT_EQ(resolve_root({"", "rel", "", "/home/u"}).value(), "rel");
}

TEST(Root, XdgDataHome) {
  RootEnv env{"", "", "/xdg/data", "/home/u"};
  EXPECT_EQ(resolve_root(env).value(), "/xdg/data/mason");
}

TEST(Root, RelativeXdgDataHomeIsIgnored) {
  RootEnv env{"", "", "relative/data", "/home/u"};
  EXPECT_EQ(resolve_root(env).value(), "/home/u/.local/share/mason");
}

TEST(Root, HomeFallback) {
  RootEnv env{"", "", "", "/home/u"};
  EXPECT_EQ(resolve_root(env).value(), "/home/u/.local/share/mason");
}

TEST(Root, NothingSetIsAnError) {
  auto root = resolve_root(RootEnv{});
  ASSERT_FALSE(root.has_value());
  EXPECT_EQ(root.error().code(), mason::util::ErrorCode::invalid_argument);
  EXPECT_NE(root.error().message().find("MASON_ROOT"), std::string::npos);
}

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

} // namespace

TEST(Root, EnvironmentIsRead) {
  RootEnv env;
  {
    EnvVar mason_root("MASON_ROOT", "/from/env");
    EnvVar xdg("XDG_DATA_HOME", "/xdg");
    env = root_env_from_process("/flag");
  }
  EXPECT_EQ(env.flag, "/flag");
  EXPECT_EQ(env.mason_root, "/from/env");
  EXPECT_EQ(env.xdg_data_home, "/xdg");
  EXPECT_FALSE(env.home.empty());
  EnvVar no_mason_root("MASON_ROOT", nullptr);
  EnvVar no_xdg("XDG_DATA_HOME", nullptr);
  EXPECT_EQ(resolve_root(root_env_from_process("")).value(),
            std::filesystem::path(env.home) / ".local/share/mason");
}
