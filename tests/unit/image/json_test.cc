// Strict JSON reading, Go-compatible writing and the Descriptor / Platform
// codecs (mason/image/json.h). Expected output is what Go's encoding/json
// writes (encode.go: HTML-safe escaping, \b and \f since Go 1.22,
// MarshalIndent's layout); descriptor rules are the OCI image-spec's
// (descriptor.md).
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/image/json.h"

namespace mason::image {
namespace {

using ::testing::HasSubstr;

const std::string k_hex_a(64, 'a');
const std::string k_digest_a = "sha256:" + k_hex_a;

std::string error_of(const util::Result<nlohmann::json>& r) {
  return r ? std::string() : r.error().to_string();
}

std::string descriptor_error(std::string_view text) {
  auto json = parse_json_object(text);
  if (!json) return "bad test JSON: " + json.error().to_string();
  auto d = descriptor_from_json(*json, "config");
  if (d) return {};
  EXPECT_EQ(d.error().code(), util::ErrorCode::invalid_argument);
  return d.error().to_string();
}

Descriptor descriptor_of(std::string_view text) {
  auto json = parse_json_object(text);
  EXPECT_TRUE(json.has_value());
  auto d = descriptor_from_json(*json);
  EXPECT_TRUE(d.has_value()) << d.error().to_string();
  return d.value_or(Descriptor{});
}

TEST(ParseJsonObject, AcceptsAnObject) {
  auto json = parse_json_object(R"({"a":1,"b":[true,null]})");
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ((*json)["a"], 1);
}

TEST(ParseJsonObject, RefusesInvalidJsonWithPosition) {
  const auto message = error_of(parse_json_object(R"({"a":)"));
  EXPECT_THAT(message, HasSubstr("invalid JSON: parse error at line 1, column 6"));
  EXPECT_THAT(message, testing::Not(HasSubstr("json.exception")));
}

TEST(ParseJsonObject, RefusesDuplicateKeysAtAnyDepth) {
  EXPECT_EQ(error_of(parse_json_object(R"({"a":1,"a":2})")), "duplicate key \"a\"");
  EXPECT_EQ(error_of(parse_json_object(R"({"x":{"b":1,"c":[{"d":1,"d":1}]}})")),
            "duplicate key \"d\"");
  // The same key in sibling objects is fine.
  EXPECT_TRUE(parse_json_object(R"({"x":{"a":1},"y":{"a":1}})").has_value());
}

TEST(ParseJsonObject, RefusesNonObjects) {
  EXPECT_EQ(error_of(parse_json_object("[1]")), "expected a JSON object, got array");
  EXPECT_EQ(error_of(parse_json_object("\"s\"")), "expected a JSON object, got string");
}

TEST(ParseJsonObject, RefusesInvalidUtf8AndTrailingGarbage) {
  EXPECT_THAT(error_of(parse_json_object("{\"a\":\"\xff\"}")), HasSubstr("invalid JSON"));
  EXPECT_THAT(error_of(parse_json_object("{} {}")), HasSubstr("invalid JSON"));
}

TEST(WriteJson, EscapesStringsAsGoDoes) {
  nlohmann::ordered_json j = {{"k", "a<b>&c \"q\" \\ \n\r\t\b\f \x01 \x7f \xc3\xa9 \xe2\x80\xa8"}};
  EXPECT_EQ(write_json(j), R"({"k":"a\u003cb\u003e\u0026c \"q\" \\ \n\r\t\b\f \u0001 )"
                           "\x7f \xc3\xa9 "
                           R"(\u2028"})");
}

TEST(WriteJson, InvalidUtf8BecomesReplacementCharacter) {
  std::string out;
  append_json_string(out, "a\xff"
                          "b");
  EXPECT_EQ(out, R"("a\ufffdb")");
}

TEST(WriteJson, KeepsInsertionOrderAndCompactForm) {
  nlohmann::ordered_json j;
  j["z"] = 1;
  j["a"] = nlohmann::ordered_json::array({-2, true, nullptr});
  j["m"] = nlohmann::ordered_json::object();
  EXPECT_EQ(write_json(j), R"({"z":1,"a":[-2,true,null],"m":{}})");
}

TEST(WriteJson, IndentsLikeMarshalIndent) {
  nlohmann::ordered_json j;
  j["a"] = 1;
  j["b"] = nlohmann::ordered_json::array({1, 2});
  j["c"] = nlohmann::ordered_json::object({{"d", "e"}});
  j["e"] = nlohmann::ordered_json::array();
  EXPECT_EQ(write_json(j, JsonLayout::indented),
            "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": {\n    \"d\": \"e\"\n  "
            "},\n  \"e\": []\n}");
}

TEST(DescriptorJson, ReadsAllFields) {
  const auto d = descriptor_of(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                               R"("digest":")" +
                               k_digest_a +
                               R"(","size":7,"urls":["https://x"],"annotations":{"k":"v"},)"
                               R"("platform":{"architecture":"arm","os":"linux","variant":"v7",)"
                               R"("os.features":["f"],"os.version":"1"},"artifactType":"a/b",)"
                               R"("future":{"ignored":true}})");
  EXPECT_EQ(d.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(d.digest.str(), k_digest_a);
  EXPECT_EQ(d.size, 7);
  EXPECT_EQ(d.urls, std::vector<std::string>{"https://x"});
  EXPECT_EQ(d.annotations.at("k"), "v");
  ASSERT_TRUE(d.platform.has_value());
  EXPECT_EQ(d.platform->variant, "v7");
  EXPECT_EQ(d.platform->os_version, "1");
  EXPECT_EQ(d.artifact_type, "a/b");
}

TEST(DescriptorJson, WritesOciFieldOrderAndOmitsEmptyFields) {
  Descriptor d;
  d.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  d.digest = Digest::sha256_hex(k_hex_a);
  d.size = 3;
  EXPECT_EQ(write_json(to_json(d)),
            R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                k_digest_a + R"(","size":3})");
  d.artifact_type = "x/y";
  d.platform = Platform{"linux", "arm64", "", "", {}};
  d.annotations = {{"b", "2"}, {"a", "1"}};
  EXPECT_EQ(write_json(to_json(d)),
            R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                k_digest_a +
                R"(","size":3,"annotations":{"a":"1","b":"2"},)"
                R"("platform":{"architecture":"arm64","os":"linux"},"artifactType":"x/y"})");
}

TEST(DescriptorJson, EmbeddedDataRoundTrips) {
  Descriptor d;
  d.media_type = "application/vnd.oci.empty.v1+json";
  d.data = "{}";
  d.size = 2;
  d.digest = Digest::sha256_of("{}");
  const auto text = write_json(to_json(d));
  EXPECT_THAT(text, HasSubstr(R"("data":"e30=")"));
  EXPECT_EQ(descriptor_of(text), d);
}

TEST(DescriptorJson, EmbeddedDataMustMatch) {
  const auto empty = Digest::sha256_of("{}").str();
  EXPECT_EQ(
      descriptor_error(R"({"mediaType":"a/b","digest":")" + empty + R"(","size":2,"data":"e30"})"),
      R"(field "config.data": invalid base64)");
  EXPECT_EQ(
      descriptor_error(R"({"mediaType":"a/b","digest":")" + empty + R"(","size":3,"data":"e30="})"),
      R"(field "config.data": 2 bytes, but size is 3)");
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","digest":")" + k_digest_a +
                             R"(","size":2,"data":"e30="})"),
            R"(field "config.data": content does not match digest )" + k_digest_a);
}

TEST(DescriptorJson, MissingFieldsAreNamed) {
  EXPECT_EQ(descriptor_error(R"({"digest":")" + k_digest_a + R"(","size":1})"),
            R"(missing required field "config.mediaType")");
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","size":1})"),
            R"(missing required field "config.digest")");
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","digest":")" + k_digest_a + R"("})"),
            R"(missing required field "config.size")");
}

TEST(DescriptorJson, NullCountsAsAbsent) {
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","digest":null,"size":1})"),
            R"(missing required field "config.digest")");
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","digest":")" + k_digest_a +
                             R"(","size":1,"urls":null,"annotations":null,"platform":null})"),
            "");
}

TEST(DescriptorJson, WrongTypesAreNamed) {
  const auto base = R"("mediaType":"a/b","digest":")" + k_digest_a + R"(")";
  EXPECT_EQ(descriptor_error(R"({)" + base + R"(,"size":"1"})"),
            R"(field "config.size": expected integer, got string)");
  EXPECT_EQ(descriptor_error(R"({)" + base + R"(,"size":1.5})"),
            R"(field "config.size": expected integer, got number)");
  EXPECT_EQ(descriptor_error(R"({"mediaType":7,"digest":")" + k_digest_a + R"(","size":1})"),
            R"(field "config.mediaType": expected string, got integer)");
  EXPECT_EQ(descriptor_error(R"({)" + base + R"(,"size":1,"urls":["a",2]})"),
            R"(field "config.urls[1]": expected string, got integer)");
  EXPECT_EQ(descriptor_error(R"({)" + base + R"(,"size":1,"annotations":{"k":true}})"),
            R"(field "config.annotations.k": expected string, got boolean)");
  EXPECT_EQ(descriptor_error(R"({)" + base + R"(,"size":1,"platform":"linux"})"),
            R"(field "config.platform": expected object, got string)");
  EXPECT_EQ(descriptor_error(R"({)" + base + R"(,"size":1,"platform":{"os":"linux"}})"),
            R"(missing required field "config.platform.architecture")");
}

TEST(DescriptorJson, BadDigestsAreNamed) {
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","digest":"x","size":1})"),
            R"(field "config.digest": invalid digest "x": missing algorithm)");
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","digest":"sha256:abc","size":1})"),
            R"(field "config.digest": invalid digest "sha256:abc": wrong length)");
  EXPECT_EQ(descriptor_error(R"({"mediaType":"a/b","digest":"sha256:)" + std::string(64, 'A') +
                             R"(","size":1})"),
            R"(field "config.digest": invalid digest "sha256:)" + std::string(64, 'A') +
                R"(": not lower-case hex)");
}

TEST(DescriptorJson, SizeMustBeANonNegativeInt64) {
  const auto base = R"({"mediaType":"a/b","digest":")" + k_digest_a + R"(","size":)";
  EXPECT_EQ(descriptor_error(base + "-1}"),
            R"(field "config.size": invalid size -1: must not be negative)");
  EXPECT_EQ(descriptor_error(base + "9223372036854775808}"),
            R"(field "config.size": integer 9223372036854775808 out of range)");
  EXPECT_EQ(descriptor_error(base + "9223372036854775807}"), "");
  EXPECT_EQ(descriptor_error(base + "0}"), "");
}

TEST(DescriptorJson, MediaTypeSyntaxIsChecked) {
  EXPECT_EQ(
      descriptor_error(R"({"mediaType":"nonsense","digest":")" + k_digest_a + R"(","size":1})"),
      R"(field "config.mediaType": invalid media type "nonsense")");
}

TEST(PlatformJson, RoundTripsInOciOrder) {
  const std::string text =
      R"({"architecture":"amd64","os":"windows","os.version":"10.0.17763.1","os.features":["win32k"],"variant":"v2"})";
  auto json = parse_json_object(text);
  ASSERT_TRUE(json.has_value());
  auto p = platform_from_json(*json);
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_EQ(p->os_features, std::vector<std::string>{"win32k"});
  EXPECT_EQ(write_json(to_json(*p)), text);
}

} // namespace
} // namespace mason::image
