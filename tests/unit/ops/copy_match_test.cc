// Wildcards: Go's filepath.Match table (path/filepath/match_test.go; a
// malformed pattern is "no match" here) and fsutil's wildcard split.
#include <gtest/gtest.h>

#include "mason/ops/copy_match.h"

namespace mason::ops {
namespace {

struct MatchCase {
  const char* pattern;
  const char* name;
  bool match;
};

TEST(GlobMatch, GoTable) {
  const MatchCase table[] = {
      {"abc", "abc", true},
      {"*", "abc", true},
      {"*c", "abc", true},
      {"a*", "a", true},
      {"a*", "abc", true},
      {"a*", "ab/c", false},
      {"a*/b", "abc/b", true},
      {"a*/b", "a/c/b", false},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false},
      {"a*b?c*x", "abxbbxdbxebxczzx", true},
      {"a*b?c*x", "abxbbxdbxebxczzy", false},
      {"ab[c]", "abc", true},
      {"ab[b-d]", "abc", true},
      {"ab[e-g]", "abc", false},
      {"ab[^c]", "abc", false},
      {"ab[^b-d]", "abc", false},
      {"ab[^e-g]", "abc", true},
      {"a\\*b", "a*b", true},
      {"a\\*b", "ab", false},
      {"a?b", "a\u263ab", true},
      {"a[^a]b", "a\u263ab", true},
      {"a???b", "a\u263ab", false},
      {"a[^a][^a][^a]b", "a\u263ab", false},
      {"[a-\u03b6]*", "\u03b1", true},
      {"*[a-\u03b6]", "A", false},
      {"a?b", "a/b", false},
      {"a*b", "a/b", false},
      {"[\\]a]", "]", true},
      {"[\\-]", "-", true},
      {"[x\\-]", "x", true},
      {"[x\\-]", "-", true},
      {"[x\\-]", "z", false},
      {"[\\-x]", "x", true},
      {"[\\-x]", "-", true},
      {"[\\-x]", "a", false},
      {"[]a]", "]", false},
      {"[-]", "-", false},
      {"[x-]", "x", false},
      {"[x-]", "-", false},
      {"[-x]", "x", false},
      {"\\", "a", false},
      {"[a-b-c]", "a", false},
      {"[", "a", false},
      {"[^", "a", false},
      {"[^bc", "a", false},
      {"a[", "a", false},
      {"a[", "ab", false},
      {"a[", "x", false},
      {"a/b[", "x", false},
      {"*x", "xxx", true},
      // A class can match '/', as in Go.
      {"a[/]b", "a/b", true},
      {"sub/*/dir2/foo", "sub/dir1/dir2/foo", true},
  };
  for (const auto& c : table)
    EXPECT_EQ(glob_match(c.pattern, c.name), c.match) << c.pattern << " vs " << c.name;
}

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
