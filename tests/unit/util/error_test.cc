#include <gtest/gtest.h>

#include "mason/util/error.h"
#include "mason/util/utf8.h"

using namespace mason::util;

TEST(Error, ContextChainReadsOutsideIn) {
  Error e(ErrorCode::not_found, "no such blob");
  e.with_context("open sha256:ab").with_context("pull debian");
  EXPECT_EQ(e.to_string(), "pull debian: open sha256:ab: no such blob");
}

TEST(Error, ErrnoIsAppended) {
  Error e(ErrorCode::not_found, "open x", 2);
  EXPECT_EQ(e.to_string(), "open x: No such file or directory");
}

TEST(Error, ResultCarriesError) {
  auto f = [](bool ok) -> Result<int> {
    if (ok) return 1;
    return make_error(ErrorCode::invalid_argument, "bad");
  };
  EXPECT_EQ(f(true).value(), 1);
  ASSERT_FALSE(f(false).has_value());
  EXPECT_EQ(f(false).error().code(), ErrorCode::invalid_argument);
}

TEST(Utf8, DecodesValidAndRecoversFromInvalid) {
  const std::string s = "a\xC3\xA9\xFF\xE2\x99\xA5";
  auto d = decode_rune(s, 1);
  EXPECT_TRUE(d.valid);
  EXPECT_EQ(d.rune, U'\u00e9');
  EXPECT_EQ(d.width, 2u);
  d = decode_rune(s, 3);
  EXPECT_FALSE(d.valid);
  EXPECT_EQ(d.width, 1u);
  d = decode_rune(s, 4);
  EXPECT_EQ(d.rune, U'\u2665');
  EXPECT_FALSE(decode_rune("\xED\xA0\x80", 0).valid); // encoded surrogate
  EXPECT_FALSE(decode_rune("\xC0\x80", 0).valid);     // overlong NUL
}

TEST(Utf8, TrimsUnicodeSpaceOnly) {
  EXPECT_EQ(trim_unicode_space("\xC2\xA0 x \t"), "x");
  EXPECT_EQ(trim_unicode_space("\xE3\x80\x80x"), "x");             // U+3000
  EXPECT_EQ(trim_unicode_space("\xE2\x80\x8Bx"), "\xE2\x80\x8Bx"); // U+200B is not space
}

TEST(Utf8, AppendRuneEncodes) {
  std::string out;
  append_rune(out, U'\U0001F600');
  append_rune(out, 0xD800);
  EXPECT_EQ(out, "\xF0\x9F\x98\x80\xEF\xBF\xBD");
}
