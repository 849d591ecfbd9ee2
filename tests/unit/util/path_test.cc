// util/path.h: Go's path.Clean / Join / Base, the cases of Go's own
// path_test.go tables that matter to mount targets and copy destinations.
#include <gtest/gtest.h>

#include "mason/util/path.h"

namespace mason::util {
namespace {

TEST(PathClean, MatchesGo) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "."},
      {".", "."},
      {"abc", "abc"},
      {"abc/", "abc"},
      {"/abc/", "/abc"},
      {"a//b", "a/b"},
      {"a/./b", "a/b"},
      {"a/b/..", "a"},
      {"a/..", "."},
      {"..", ".."},
      {"../..", "../.."},
      {"a/../..", ".."},
      {"/..", "/"},
      {"/../a", "/a"},
      {"/", "/"},
      {"//", "/"},
      {"abc/../../x", "../x"},
      {"/a/b/c/./../../g", "/a/g"},
      {"./", "."},
      {"a/b/./", "a/b"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(path_clean(in), want) << in;
}

TEST(PathClean, RootedNeverClimbsAboveRoot) {
  EXPECT_EQ(path_clean_rooted(""), "/");
  EXPECT_EQ(path_clean_rooted("../../etc"), "/etc");
  EXPECT_EQ(path_clean_rooted("a/b/"), "/a/b");
}

TEST(PathJoin, CleansTheResult) {
  EXPECT_EQ(path_join("/app", "node_modules"), "/app/node_modules");
  EXPECT_EQ(path_join("/app", "."), "/app");
  EXPECT_EQ(path_join("/app", ""), "/app");
  EXPECT_EQ(path_join("/app/", "../src/./x/"), "/src/x");
  EXPECT_EQ(path_join("/", "../../x"), "/x");
  EXPECT_EQ(path_join("", ""), "");
  EXPECT_EQ(path_join("", "a/"), "a");
}

TEST(PathBase, LastElement) {
  EXPECT_EQ(path_base(""), ".");
  EXPECT_EQ(path_base("/"), "/");
  EXPECT_EQ(path_base("///"), "/");
  EXPECT_EQ(path_base("/run/secrets/token"), "token");
  EXPECT_EQ(path_base("a/b/"), "b");
  EXPECT_EQ(path_base("token"), "token");
}

} // namespace
} // namespace mason::util
