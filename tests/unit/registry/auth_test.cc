#include "mason/registry/auth.h"
#include "mason/util/base64.h"

#include <gtest/gtest.h>

namespace mason::registry {
namespace {

TEST(Challenges, Basic) {
  auto c = parse_challenges(R"(Basic realm="Registry Realm")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry Realm");
}

TEST(Challenges, BearerWithQuotedParams) {
  auto c = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/busybox:pull,push");
}

TEST(Challenges, SeveralInOneHeaderAndEscapes) {
  auto c = parse_challenges(R"(Bearer realm="a\"b", error=invalid_token, Basic Realm=x)");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].params["realm"], "a\"b");
  EXPECT_EQ(c[0].params["error"], "invalid_token");
  EXPECT_EQ(c[1].scheme, "basic");
  EXPECT_EQ(c[1].params["realm"], "x");
}

TEST(Challenges, GarbageIsSkipped) {
  EXPECT_TRUE(parse_challenges("").empty());
  auto c = parse_challenges(R"(;;; Bearer realm="r")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params["realm"], "r");
}

TEST(Auth, Helpers) {
  EXPECT_EQ(util::base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(query_escape("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
  EXPECT_EQ(pull_scope("library/x"), "repository:library/x:pull");
  EXPECT_EQ(push_scope("a"), "repository:a:pull,push");
}

} // namespace
} // namespace mason::registry
