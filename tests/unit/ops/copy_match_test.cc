// Source wildcards: what makes a name a pattern, and fsutil's wildcard
// split (the matching itself: tests/unit/util/glob_test.cc).
#include <gtest/gtest.h>

#include "mason/ops/copy_match.h"

namespace mason::ops {
namespace {

TEST(ContainsWildcards, EscapesAndClasses) {
  EXPECT_TRUE(contains_wildcards("a*"));
  EXPECT_TRUE(contains_wildcards("a?"));
  EXPECT_TRUE(contains_wildcards("[ab]"));
  EXPECT_FALSE(contains_wildcards("a\\*b"));
  EXPECT_FALSE(contains_wildcards("plain/path.txt"));
  EXPECT_FALSE(contains_wildcards("a]b{c}"));
}

TEST(SplitWildcards, BaseAndPattern) {
  auto s = split_wildcards("/a/b/*.txt");
  EXPECT_EQ(s.base, "/a/b");
  EXPECT_EQ(s.pattern, "*.txt");
  s = split_wildcards("/*");
  EXPECT_EQ(s.base, "/");
  EXPECT_EQ(s.pattern, "*");
  s = split_wildcards("/sub/*/dir2/foo");
  EXPECT_EQ(s.base, "/sub");
  EXPECT_EQ(s.pattern, "*/dir2/foo");
  s = split_wildcards("/a/b");
  EXPECT_EQ(s.base, "/a/b");
  EXPECT_EQ(s.pattern, "");
}

TEST(MaxMatchDepth, CountsComponents) {
  EXPECT_EQ(max_match_depth("*.txt"), 1u);
  EXPECT_EQ(max_match_depth("*/dir2/foo"), 3u);
  EXPECT_EQ(max_match_depth("a[/]b"), 0u);
  EXPECT_EQ(max_match_depth("a\\[b"), 1u);
}

} // namespace
} // namespace mason::ops
