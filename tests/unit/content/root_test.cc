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
