// Manifests and indexes (mason/image/manifest.h): byte-exact storage of
// foreign objects, strict parsing with the object and field named in every
// error, serialisation of our own objects in Go's field order (image-spec
// specs-go/v1/manifest.go, index.go, descriptor.go) and BuildKit's
// MarshalIndent layout, and index entry selection for a platform
// (containerd platforms.Only ordering).
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/image/manifest.h"
#include "mason/image/media_type.h"
#include "mason/image/platform.h"

namespace mason::image {
namespace {

using ::testing::HasSubstr;

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

// As BuildKit writes it (json.MarshalIndent(mfst, "", "  ")).
const std::string k_buildkit_manifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": ")" + digest_of('c') + R"(",
    "size": 1520
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": ")" + digest_of('1') + R"(",
      "size": 3370706
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": ")" + digest_of('2') + R"(",
      "size": 93
    }
  ]
})";

// As the distribution registry serves Docker schema 2 (3-space indent,
// size before digest): only the raw bytes can reproduce its digest.
const std::string k_docker_manifest = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1469,
      "digest": ")" + digest_of('d') + R"("
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2811478,
         "digest": ")" + digest_of('e') +
                                      R"("
      }
   ]
})";

std::string manifest_error(std::string_view raw) {
  auto m = parse_manifest(raw);
  if (m) return {};
  return m.error().to_string();
}

std::string index_error(std::string_view raw) {
  auto i = parse_index(raw);
  if (i) return {};
  return i.error().to_string();
}

std::string context(std::string_view kind, std::string_view raw) {
  return "parse " + std::string(kind) + " " + Digest::sha256_of(raw).short_str() + ": ";
}

// A manifest with one field replaced (`"layers": <value>`, ...).
std::string manifest_with(std::string_view field, std::string_view value) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(k_buildkit_manifest);
  j[std::string(field)] = nlohmann::ordered_json::parse(value);
  return j.dump();
}

std::string manifest_without(std::string_view field) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(k_buildkit_manifest);
  j.erase(std::string(field));
  return j.dump();
}

TEST(Manifest, ParsesBuildkitManifest) {
  auto m = parse_manifest(k_buildkit_manifest);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->media_type, media_type::oci_manifest);
  EXPECT_EQ(m->config.media_type, media_type::oci_config);
  EXPECT_EQ(m->config.size, 1520);
  ASSERT_EQ(m->layers.size(), 2U);
  EXPECT_EQ(m->layers[1].digest.str(), digest_of('2'));
  EXPECT_EQ(m->raw, k_buildkit_manifest);
  EXPECT_EQ(m->digest, Digest::sha256_of(k_buildkit_manifest));
}

TEST(Manifest, SerializesLikeBuildkit) {
  auto m = parse_manifest(k_buildkit_manifest);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->serialize(JsonLayout::indented), k_buildkit_manifest);
}

TEST(Manifest, DockerSchema2KeepsItsBytes) {
  auto m = parse_manifest(k_docker_manifest);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->media_type, media_type::docker_manifest);
  EXPECT_EQ(m->raw, k_docker_manifest);
  EXPECT_EQ(m->digest, Digest::sha256_of(k_docker_manifest));
  // Re-serialising would change the digest; descriptor() uses the raw bytes.
  EXPECT_NE(m->serialize(JsonLayout::indented), k_docker_manifest);
  const auto d = m->descriptor();
  EXPECT_EQ(d.media_type, media_type::docker_manifest);
  EXPECT_EQ(d.size, static_cast<std::int64_t>(k_docker_manifest.size()));
  EXPECT_EQ(d.digest, Digest::sha256_of(k_docker_manifest));
}

TEST(Manifest, UnknownFieldsSurviveInRaw) {
  const std::string raw = manifest_with("x-future", R"({"nested":[1,2]})");
  auto m = parse_manifest(raw);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->raw, raw);
  EXPECT_THAT(m->raw, HasSubstr("x-future"));
}

TEST(Manifest, OwnObjectsRoundTrip) {
  Manifest m;
  m.media_type = media_type::oci_manifest;
  m.artifact_type = "application/vnd.example+type";
  m.config.media_type = media_type::oci_config;
  m.config.digest = Digest::sha256_of("config");
  m.config.size = 6;
  Descriptor layer;
  layer.media_type = media_type::oci_layer_zstd;
  layer.digest = Digest::sha256_of("layer");
  layer.size = 5;
  layer.annotations = {{"org.opencontainers.image.title", "a<b>"}};
  m.layers = {layer};
  m.subject = m.config;
  m.annotations = {{"z", "1"}, {"a", "2"}};
  m.seal();
  EXPECT_EQ(m.digest, Digest::sha256_of(m.raw));
  EXPECT_THAT(
      m.raw,
      testing::StartsWith(
          R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example+type","config":{)"));
  EXPECT_THAT(m.raw, HasSubstr(R"("a\u003cb\u003e")"));
  EXPECT_THAT(m.raw, testing::EndsWith(R"("annotations":{"a":"2","z":"1"}})"));
  auto parsed = parse_manifest(m.raw);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, m);
  EXPECT_EQ(parsed->serialize(), m.raw);
}

// A built image over a base pulled with Docker types: one family per
// manifest, as BuildKit's exporters write it (oci-mediatypes).
Manifest mixed_manifest() {
  Manifest m;
  m.media_type = media_type::oci_manifest;
  const auto desc = [](std::string_view type, std::string_view data) {
    Descriptor d;
    d.media_type = type;
    d.digest = Digest::sha256_of(data);
    d.size = static_cast<std::int64_t>(data.size());
    return d;
  };
  m.config = desc(media_type::oci_config, "c");
  m.layers = {desc(media_type::docker_layer_gzip, "base"), desc(media_type::oci_layer_gzip, "own")};
  m.seal();
  return m;
}

TEST(ManifestFamily, ConvertsEveryTypeToOneFamily) {
  const auto m = mixed_manifest();
  EXPECT_FALSE(in_family(m, TypeFamily::oci));
  EXPECT_FALSE(in_family(m, TypeFamily::docker));
  const auto oci = with_family(m, TypeFamily::oci);
  EXPECT_TRUE(in_family(oci, TypeFamily::oci));
  EXPECT_EQ(oci.layers[0].media_type, media_type::oci_layer_gzip);
  EXPECT_EQ(oci.layers[0].digest, m.layers[0].digest); // the blobs stay
  EXPECT_EQ(oci.digest, Digest::sha256_of(oci.raw));
  EXPECT_NE(oci.digest, m.digest);
  const auto docker = with_family(m, TypeFamily::docker);
  EXPECT_TRUE(in_family(docker, TypeFamily::docker));
  EXPECT_EQ(docker.media_type, media_type::docker_manifest);
  EXPECT_EQ(docker.config.media_type, media_type::docker_config);
  EXPECT_EQ(docker.layers[1].media_type, media_type::docker_layer_gzip);
  auto parsed = parse_manifest(docker.raw);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(*parsed, docker);
  // already in the family: unchanged, bytes and all
  EXPECT_EQ(with_family(oci, TypeFamily::oci).raw, oci.raw);
}

TEST(ManifestFamily, DockerTypesCannotExpressZstd) {
  auto m = mixed_manifest();
  m.layers[1].media_type = media_type::oci_layer_zstd;
  m.seal();
  const auto out = with_family(m, TypeFamily::docker);
  EXPECT_TRUE(in_family(out, TypeFamily::oci)); // BuildKit forces OCI types for zstd
  EXPECT_EQ(out.layers[1].media_type, media_type::oci_layer_zstd);
}

TEST(Manifest, MediaTypeMayBeAbsent) {
  const auto raw = manifest_without("mediaType");
  auto m = parse_manifest(raw);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->media_type, "");
  EXPECT_EQ(m->descriptor().media_type, media_type::oci_manifest);
}

TEST(ManifestErrors, BadLayerDigestNamesObjectAndField) {
  const auto raw =
      manifest_with("layers", R"([{"mediaType":"a/b","digest":")" + digest_of('1') +
                                  R"(","size":1},{"mediaType":"a/b","digest":")" + digest_of('2') +
                                  R"(","size":1},{"mediaType":"a/b","digest":"x","size":1}])");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) +
                R"(field "layers[2].digest": invalid digest "x": missing algorithm)");
  auto m = parse_manifest(raw);
  EXPECT_EQ(m.error().code(), util::ErrorCode::invalid_argument);
}

TEST(ManifestErrors, MissingFields) {
  auto raw = manifest_without("config");
  EXPECT_EQ(manifest_error(raw), context("manifest", raw) + R"(missing required field "config")");
  raw = manifest_without("layers");
  EXPECT_EQ(manifest_error(raw), context("manifest", raw) + R"(missing required field "layers")");
  raw = manifest_without("schemaVersion");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) + R"(missing required field "schemaVersion")");
  raw = manifest_with("config", R"({"mediaType":"a/b","size":1})");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) + R"(missing required field "config.digest")");
}

TEST(ManifestErrors, WrongTypes) {
  auto raw = manifest_with("layers", R"({})");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) + R"(field "layers": expected array, got object)");
  raw = manifest_with("layers", R"(["sha256:x"])");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) + R"(field "layers[0]": expected object, got string)");
  raw = manifest_with("schemaVersion", R"("2")");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) + R"(field "schemaVersion": expected integer, got string)");
  raw = manifest_with("annotations", R"({"a":1})");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) + R"(field "annotations.a": expected string, got integer)");
}

TEST(ManifestErrors, NegativeLayerSize) {
  const auto raw = manifest_with("layers", R"([{"mediaType":"a/b","digest":")" + digest_of('1') +
                                               R"(","size":-5}])");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) +
                R"(field "layers[0].size": invalid size -5: must not be negative)");
}

TEST(ManifestErrors, WrongSchemaVersion) {
  const auto raw = manifest_with("schemaVersion", "3");
  EXPECT_EQ(manifest_error(raw),
            context("manifest", raw) +
                R"(field "schemaVersion": unsupported schema version 3 (want 2))");
}

TEST(ManifestErrors, Schema1IsRefusedClearly) {
  const std::string raw =
      R"({"schemaVersion":1,"name":"library/busybox","tag":"latest","architecture":"amd64",)"
      R"("fsLayers":[{"blobSum":")" +
      digest_of('a') + R"("}],"history":[]})";
  auto m = parse_manifest(raw);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), util::ErrorCode::unsupported);
  EXPECT_EQ(m.error().to_string(),
            context("manifest", raw) +
                "schema 1 manifests are not supported; the image must be pushed again with a "
                "current client (Docker schema 2 or OCI)");
  const auto signed_raw =
      manifest_with("mediaType", R"("application/vnd.docker.distribution.manifest.v1+prettyjws")");
  auto s = parse_manifest(signed_raw);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), util::ErrorCode::unsupported);
}

TEST(ManifestErrors, IndexIsNotAManifest) {
  const auto raw = manifest_with("mediaType", R"("application/vnd.oci.image.index.v1+json")");
  EXPECT_EQ(
      manifest_error(raw),
      context("manifest", raw) +
          R"(field "mediaType": "application/vnd.oci.image.index.v1+json" is an index, not a manifest)");
  const auto odd = manifest_with("mediaType", R"("text/plain")");
  EXPECT_EQ(manifest_error(odd),
            context("manifest", odd) +
                R"(field "mediaType": unexpected media type "text/plain" for a manifest)");
  const auto both = manifest_with("manifests", "[]");
  EXPECT_EQ(manifest_error(both),
            context("manifest", both) +
                R"(field "manifests": not allowed here (the field of an index))");
}

TEST(ManifestErrors, MalformedJson) {
  const std::string raw = R"({"schemaVersion":2,)";
  EXPECT_THAT(manifest_error(raw),
              testing::StartsWith(context("manifest", raw) + "invalid JSON: "));
  const std::string dup = R"({"schemaVersion":2,"schemaVersion":2,"config":{},"layers":[]})";
  EXPECT_EQ(manifest_error(dup), context("manifest", dup) + R"(duplicate key "schemaVersion")");
}

// ----- Index -----

std::string entry(char digest, std::string_view platform,
                  std::string_view media_type = media_type::oci_manifest) {
  std::string out = R"({"mediaType":")" + std::string(media_type) + R"(","digest":")" +
                    digest_of(digest) + R"(","size":1000)";
  if (!platform.empty()) out += R"(,"platform":)" + std::string(platform);
  return out + "}";
}

std::string index_of(std::initializer_list<std::string> entries,
                     std::string_view media_type = media_type::oci_index) {
  std::string out =
      R"({"schemaVersion":2,"mediaType":")" + std::string(media_type) + R"(","manifests":[)";
  bool first = true;
  for (const auto& e : entries) {
    out += (first ? "" : ",") + e;
    first = false;
  }
  return out + "]}";
}

Index parsed_index(const std::string& raw) {
  auto index = parse_index(raw);
  EXPECT_TRUE(index.has_value()) << index.error().to_string();
  return index.value_or(Index{});
}

const std::string k_amd64 = R"({"architecture":"amd64","os":"linux"})";
const std::string k_arm64 = R"({"architecture":"arm64","os":"linux","variant":"v8"})";
const std::string k_armv7 = R"({"architecture":"arm","os":"linux","variant":"v7"})";
const std::string k_armv6 = R"({"architecture":"arm","os":"linux","variant":"v6"})";
const std::string k_386 = R"({"architecture":"386","os":"linux"})";
const std::string k_unknown = R"({"architecture":"unknown","os":"unknown"})";

TEST(Index, ParsesDockerManifestList) {
  const auto raw = index_of({entry('1', k_amd64, media_type::docker_manifest),
                             entry('2', k_arm64, media_type::docker_manifest)},
                            media_type::docker_manifest_list);
  const auto index = parsed_index(raw);
  EXPECT_EQ(index.media_type, media_type::docker_manifest_list);
  ASSERT_EQ(index.manifests.size(), 2U);
  EXPECT_EQ(index.manifests[1].platform->variant, "v8");
  EXPECT_EQ(index.raw, raw);
  EXPECT_EQ(index.digest, Digest::sha256_of(raw));
}

TEST(Index, OwnObjectsRoundTrip) {
  Index index;
  index.media_type = media_type::oci_index;
  Descriptor d;
  d.media_type = media_type::oci_manifest;
  d.digest = Digest::sha256_of("m");
  d.size = 10;
  d.platform = Platform{"linux", "arm", "v7", "", {}};
  index.manifests = {d};
  index.annotations = {{"org.opencontainers.image.ref.name", "latest"}};
  index.seal();
  EXPECT_EQ(
      index.raw,
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
          d.digest.str() +
          R"(","size":10,"platform":{"architecture":"arm","os":"linux","variant":"v7"}}],"annotations":{"org.opencontainers.image.ref.name":"latest"}})");
  auto parsed = parse_index(index.raw);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, index);
  EXPECT_EQ(index.descriptor().digest, Digest::sha256_of(index.raw));
}

TEST(IndexErrors, NamesTheEntry) {
  const auto raw = index_of({entry('1', k_amd64), entry('2', R"({"os":"linux"})")});
  EXPECT_EQ(index_error(raw), context("index", raw) +
                                  R"(missing required field "manifests[1].platform.architecture")");
}

TEST(IndexErrors, ManifestIsNotAnIndex) {
  EXPECT_THAT(
      index_error(k_buildkit_manifest),
      HasSubstr(
          R"(field "mediaType": "application/vnd.oci.image.manifest.v1+json" is a manifest, not an index)"));
  const std::string no_manifests = R"({"schemaVersion":2})";
  EXPECT_EQ(index_error(no_manifests),
            context("index", no_manifests) + R"(missing required field "manifests")");
  const std::string v1 = R"({"schemaVersion":1,"manifests":[]})";
  EXPECT_THAT(index_error(v1), HasSubstr("schema 1 manifests are not supported"));
}

// ----- platform selection -----

std::string selected(const Index& index, std::string_view platform) {
  auto wanted = parse_platform(platform);
  if (!wanted) return "bad platform";
  auto d = select_manifest(index, *wanted);
  if (!d) return d.error().to_string();
  return std::string(1, d->digest.hex()[0]);
}

TEST(SelectManifest, ExactMatchesWin) {
  const auto index = parsed_index(index_of(
      {entry('1', k_amd64), entry('2', k_arm64), entry('3', k_armv6), entry('4', k_armv7)}));
  EXPECT_EQ(selected(index, "linux/amd64"), "1");
  EXPECT_EQ(selected(index, "linux/arm64"), "2");
  EXPECT_EQ(selected(index, "linux/arm64/v8"), "2");
  EXPECT_EQ(selected(index, "linux/arm/v7"), "4");
  EXPECT_EQ(selected(index, "linux/arm/v6"), "3");
}

TEST(SelectManifest, FallsBackToCompatibleVariants) {
  const auto index = parsed_index(index_of({entry('3', k_armv6), entry('5', k_386)}));
  EXPECT_EQ(selected(index, "linux/arm/v7"), "3");
  EXPECT_EQ(selected(index, "linux/arm64"), "3"); // arm64 runs arm/v8..v5
  EXPECT_EQ(selected(index, "linux/amd64"), "5"); // amd64 runs 386
}

TEST(SelectManifest, PrefersTheBetterVariantWhateverTheOrder) {
  const auto index = parsed_index(index_of({entry('3', k_armv6), entry('4', k_armv7)}));
  EXPECT_EQ(selected(index, "linux/arm/v7"), "4");
  const auto both = parsed_index(index_of({entry('5', k_386), entry('1', k_amd64)}));
  EXPECT_EQ(selected(both, "linux/amd64"), "1");
}

TEST(SelectManifest, SkipsAttestationsAndPlatformlessEntries) {
  const auto index =
      parsed_index(index_of({entry('9', ""), entry('8', k_unknown), entry('1', k_amd64),
                             entry('7', k_amd64, "application/vnd.in-toto+json")}));
  EXPECT_EQ(selected(index, "linux/amd64"), "1");
  const auto m = matching_manifests(index, Platform{"linux", "amd64", "", "", {}});
  ASSERT_EQ(m.size(), 1U);
}

TEST(SelectManifest, NoMatchListsAvailablePlatforms) {
  const auto raw = index_of(
      {entry('1', k_amd64), entry('2', k_arm64), entry('8', k_unknown), entry('3', k_armv7)});
  const auto index = parsed_index(raw);
  auto d = select_manifest(index, Platform{"linux", "s390x", "", "", {}});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), util::ErrorCode::not_found);
  EXPECT_EQ(d.error().to_string(), "no manifest for platform linux/s390x in index " +
                                       Digest::sha256_of(raw).short_str() +
                                       "; available: linux/amd64, linux/arm64/v8, linux/arm/v7");
  EXPECT_EQ(selected(index, "windows/amd64"),
            "no manifest for platform windows/amd64 in index " +
                Digest::sha256_of(raw).short_str() +
                "; available: linux/amd64, linux/arm64/v8, linux/arm/v7");
}

TEST(SelectManifest, MoreOsFeaturesWinATie) {
  const auto raw =
      index_of({entry('1', R"({"architecture":"amd64","os":"linux"})"),
                entry('2', R"({"architecture":"amd64","os":"linux","os.features":["sse4"]})"),
                entry('3', R"({"architecture":"amd64","os":"linux","os.features":["avx512"]})")});
  const auto index = parsed_index(raw);
  Platform wanted{"linux", "amd64", "", "", {"sse4"}};
  const auto m = matching_manifests(index, wanted);
  ASSERT_EQ(m.size(), 2U); // avx512 is not offered by the wanted platform
  EXPECT_EQ(m[0].digest.str(), digest_of('2'));
  EXPECT_EQ(m[1].digest.str(), digest_of('1'));
}

} // namespace
} // namespace mason::image
