// Go's filepath.Match table (path/filepath/match_test.go; a malformed
// pattern is "no match" here) and the syntax check .dockerignore uses.
#include <gtest/gtest.h>

#include "mason/util/glob.h"

namespace mason::util {
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

TEST(GlobSyntax, ReasonsForMalformedPatterns) {
  EXPECT_EQ(glob_syntax_error("a*b?[c-d]\\*"), std::nullopt);
  EXPECT_EQ(glob_syntax_error("**/x"), std::nullopt);
  EXPECT_EQ(glob_syntax_error("a\\"), "trailing backslash");
  EXPECT_EQ(glob_syntax_error("["), "unterminated character class");
  EXPECT_EQ(glob_syntax_error("[a"), "unterminated character class");
  EXPECT_EQ(glob_syntax_error("[]"), "empty character class");
  EXPECT_EQ(glob_syntax_error("[-a]"), "unescaped '-' in character class");
  EXPECT_EQ(glob_syntax_error("[a-]"), "character range without an upper bound");
  EXPECT_EQ(glob_syntax_error("[\xff]"), "invalid UTF-8 in character class");
  // Every chunk is checked, also those after a star.
  EXPECT_EQ(glob_syntax_error("ok*[x"), "unterminated character class");
}

} // namespace
} // namespace mason::util
