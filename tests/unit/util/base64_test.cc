// util/base64.h: Go's StdEncoding, and the unpadded form config.json allows.
#include <gtest/gtest.h>

#include "mason/util/base64.h"

namespace mason::util {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"user:pass", "dXNlcjpwYXNz"}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
}

TEST(Base64, StrictByDefault) {
  EXPECT_EQ(base64_decode("Zm9v\r\nYmFy"), "foobar"); // line breaks are skipped, as Go
  EXPECT_FALSE(base64_decode("Zg"));                  // padding required
  EXPECT_FALSE(base64_decode("Zg="));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zg==Zg==")); // '=' only at the end
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z==="));
}

TEST(Base64, OptionalPadding) {
  EXPECT_EQ(base64_decode("Zg", Base64Padding::optional), "f");
  EXPECT_EQ(base64_decode("Zm8", Base64Padding::optional), "fo");
  EXPECT_EQ(base64_decode("Zm8=", Base64Padding::optional), "fo");
  EXPECT_FALSE(base64_decode("Z", Base64Padding::optional));
  EXPECT_FALSE(base64_decode("Zg=", Base64Padding::optional));
}

} // namespace
} // namespace mason::util
