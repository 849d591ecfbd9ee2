// Media type classification, conversion (BuildKit's util/compression tables)
// and detection of objects without a mediaType (OCI image-spec, manifest.md
// and image-index.md: "mediaType ... SHOULD be used").
#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/image/media_type.h"

namespace mason::image {
namespace {

namespace mt = media_type;

TEST(MediaType, Kinds) {
  EXPECT_TRUE(is_manifest(mt::oci_manifest));
  EXPECT_TRUE(is_manifest(mt::docker_manifest));
  EXPECT_FALSE(is_manifest(mt::oci_index));
  EXPECT_TRUE(is_index(mt::oci_index));
  EXPECT_TRUE(is_index(mt::docker_manifest_list));
  EXPECT_FALSE(is_index(mt::docker_manifest));
  EXPECT_TRUE(is_config(mt::oci_config));
  EXPECT_TRUE(is_config(mt::docker_config));
  EXPECT_FALSE(is_config(mt::oci_layer));
  EXPECT_TRUE(is_schema1(mt::docker_manifest_v1_signed));
  EXPECT_FALSE(is_manifest(mt::docker_manifest_v1));
  // Exact comparison: parameters and case variants are different strings.
  EXPECT_FALSE(is_manifest("application/vnd.oci.image.manifest.v1+json; charset=utf-8"));
}

struct LayerRow {
  std::string_view media_type;
  Compression compression;
  std::string_view oci;
  std::string_view docker;
};

void PrintTo(const LayerRow& row, std::ostream* os) { *os << row.media_type; }

class LayerTable : public testing::TestWithParam<LayerRow> {};

TEST_P(LayerTable, CompressionAndEquivalents) {
  const auto& row = GetParam();
  EXPECT_TRUE(is_layer(row.media_type));
  EXPECT_EQ(layer_compression(row.media_type), row.compression);
  EXPECT_EQ(to_oci(row.media_type), row.oci);
  EXPECT_EQ(to_docker(row.media_type), row.docker);
}

const LayerRow k_layers[] = {
    {mt::oci_layer, Compression::none, mt::oci_layer, mt::docker_layer},
    {mt::oci_layer_gzip, Compression::gzip, mt::oci_layer_gzip, mt::docker_layer_gzip},
    {mt::oci_layer_zstd, Compression::zstd, mt::oci_layer_zstd, mt::docker_layer_zstd},
    {mt::docker_layer_gzip, Compression::gzip, mt::oci_layer_gzip, mt::docker_layer_gzip},
    {mt::docker_layer, Compression::none, mt::oci_layer, mt::docker_layer},
    {mt::docker_layer_foreign_gzip, Compression::gzip, mt::oci_layer_nondistributable_gzip,
     mt::docker_layer_foreign_gzip},
    {mt::oci_layer_nondistributable, Compression::none, mt::oci_layer_nondistributable,
     mt::docker_layer_foreign},
};

INSTANTIATE_TEST_SUITE_P(OciAndDocker, LayerTable, testing::ValuesIn(k_layers));

TEST(MediaType, NonLayers) {
  EXPECT_FALSE(is_layer(mt::oci_config));
  EXPECT_FALSE(is_layer("application/vnd.oci.image.layer.v1.tar+gzip+encrypted"));
  EXPECT_EQ(layer_compression(mt::oci_manifest), std::nullopt);
}

TEST(MediaType, ManifestAndConfigEquivalents) {
  EXPECT_EQ(to_oci(mt::docker_manifest), mt::oci_manifest);
  EXPECT_EQ(to_oci(mt::docker_manifest_list), mt::oci_index);
  EXPECT_EQ(to_oci(mt::docker_config), mt::oci_config);
  EXPECT_EQ(to_docker(mt::oci_manifest), mt::docker_manifest);
  EXPECT_EQ(to_docker(mt::oci_index), mt::docker_manifest_list);
  EXPECT_EQ(to_docker(mt::oci_config), mt::docker_config);
  EXPECT_EQ(to_docker("application/x-unknown"), "application/x-unknown");
}

TEST(MediaType, LayerTypeForCompression) {
  EXPECT_EQ(oci_layer_type(Compression::gzip), mt::oci_layer_gzip);
  EXPECT_EQ(oci_layer_type(Compression::none), mt::oci_layer);
  EXPECT_EQ(docker_layer_type(Compression::gzip), mt::docker_layer_gzip);
  EXPECT_EQ(docker_layer_type(Compression::zstd), mt::docker_layer_zstd);
  EXPECT_EQ(to_string(Compression::zstd), "zstd");
}

TEST(MediaType, Syntax) {
  EXPECT_TRUE(is_valid_media_type("application/vnd.oci.image.manifest.v1+json"));
  EXPECT_TRUE(is_valid_media_type("text/plain"));
  EXPECT_FALSE(is_valid_media_type("text"));
  EXPECT_FALSE(is_valid_media_type("/json"));
  EXPECT_FALSE(is_valid_media_type("text/"));
  EXPECT_FALSE(is_valid_media_type("text/plain; charset=utf-8"));
  EXPECT_FALSE(is_valid_media_type("a/b/c"));
}

std::string detected(std::string_view raw) {
  auto r = detect_media_type(raw);
  return r ? *r : "error: " + r.error().to_string();
}

TEST(DetectMediaType, DeclaredTypeWins) {
  EXPECT_EQ(
      detected(
          R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]})"),
      mt::docker_manifest_list);
}

TEST(DetectMediaType, ByFields) {
  EXPECT_EQ(detected(R"({"schemaVersion":2,"manifests":[]})"), mt::oci_index);
  EXPECT_EQ(detected(R"({"schemaVersion":2,"config":{},"layers":[]})"), mt::oci_manifest);
  EXPECT_EQ(detected(R"({"schemaVersion":2,"layers":[]})"), mt::oci_manifest);
  // An image config has a `config` field as well: not a manifest.
  EXPECT_THAT(detected(R"({"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]}})"),
              testing::HasSubstr("not a manifest or an index"));
}

TEST(DetectMediaType, RefusesAmbiguousAndUnknownObjects) {
  EXPECT_THAT(detected(R"({"schemaVersion":2,"manifests":[],"layers":[]})"),
              testing::HasSubstr("ambiguous object"));
  EXPECT_THAT(detected(R"({"architecture":"amd64","os":"linux"})"),
              testing::HasSubstr("not a manifest or an index"));
  EXPECT_THAT(detected("[]"), testing::HasSubstr("expected a JSON object"));
}

TEST(DetectMediaType, Schema1IsUnsupported) {
  auto r = detect_media_type(R"({"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), util::ErrorCode::unsupported);
  EXPECT_THAT(r.error().to_string(), testing::StartsWith("schema 1 manifests are not supported"));
  auto signed1 = detect_media_type(
      R"({"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"})");
  ASSERT_FALSE(signed1.has_value());
  EXPECT_EQ(signed1.error().code(), util::ErrorCode::unsupported);
}

} // namespace
} // namespace mason::image
