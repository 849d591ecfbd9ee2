// The key encoding: fixed bytes for fixed fields, injective across field
// boundaries, and sensitive to every value and to order.
#include <gtest/gtest.h>

#include "mason/cache/key.h"

namespace mason::cache {
namespace {

TEST(CacheKey, BytesAreTheDocumentedEncoding) {
  KeyBuilder k(true);
  k.add("op", "run").add("n", std::int64_t{12}).add("flag", true);
  k.add_list("args", {"a", ""});
  EXPECT_EQ(k.text(), "mason-cache-v1\nop=3:run\nn=2:12\nflag=1:1\nargs=1:2\nargs=1:a\nargs=0:\n");
}

TEST(CacheKey, SameFieldsSameKey) {
  EXPECT_EQ(KeyBuilder().add("a", "1").finish(), KeyBuilder().add("a", "1").finish());
  EXPECT_TRUE(KeyBuilder().add("a", "1").finish().starts_with("sha256:"));
  EXPECT_EQ(KeyBuilder().finish().size(), 7u + 64u);
}

TEST(CacheKey, BoundariesCannotBeForged) {
  // A value that contains what looks like the next field is still one value.
  const auto one = KeyBuilder().add("a", "x\nb=1:y").finish();
  const auto two = KeyBuilder().add("a", "x").add("b", "y").finish();
  EXPECT_NE(one, two);
  EXPECT_NE(KeyBuilder().add_list("l", {"a,b"}).finish(),
            KeyBuilder().add_list("l", {"a", "b"}).finish());
  EXPECT_NE(KeyBuilder().add_list("l", {}).add("l", "0").finish(),
            KeyBuilder().add_list("l", {"0"}).finish());
}

TEST(CacheKey, OrderAndValuesMatter) {
  EXPECT_NE(KeyBuilder().add("a", "1").add("b", "2").finish(),
            KeyBuilder().add("b", "2").add("a", "1").finish());
  EXPECT_NE(KeyBuilder().add("a", "1").finish(), KeyBuilder().add("a", "2").finish());
  EXPECT_NE(KeyBuilder().add("a", "1").finish(), KeyBuilder().add("A", "1").finish());
  EXPECT_NE(KeyBuilder().add("a", false).finish(), KeyBuilder().add("a", true).finish());
}

} // namespace
} // namespace mason::cache
