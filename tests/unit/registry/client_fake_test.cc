// The client against a scripted registry (FakeTransport): auth flows,
// headers, refusals, retries and resume, error texts.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "mason/image/media_type.h"
#include "mason/image/reference.h"
#include "mason/registry/auth.h"
#include "mason/registry/client.h"
#include "mason/registry/client_impl.h"
#include "mason/util/base64.h"
#include "registry_fixtures.h"

namespace mason::registry {
namespace {

using testing::FakeTransport;
using testing::header_of;
using testing::respond;
using testing::ScratchStore;
using testing::TestImage;

const std::string k_base = "https://reg.example/v2/app/";

// A registry holding one image under the tag "1".
struct FakeRegistry {
  TestImage image{"fake"};
  std::string manifest_type = std::string(image::media_type::oci_manifest);
  std::function<std::optional<util::Result<Response>>(const Request&)> before;

  util::Result<Response> operator()(const Request& r) {
    if (before)
      if (auto answer = before(r)) return *answer;
    const auto blobs = image.blobs();
    for (const auto& [digest, bytes] : blobs)
      if (r.url == k_base + "blobs/" + digest) return respond(200, bytes);
    if (r.url == k_base + "manifests/1" ||
        r.url == k_base + "manifests/" + image.manifest.digest.str())
      return respond(200, image.manifest.raw, {{"content-type", manifest_type}});
    return respond(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
  }
};

struct Harness {
  ScratchStore scratch;
  sys::TempDir config_dir = *sys::TempDir::create("mason-registry-config-");
  FakeTransport* transport = nullptr;
  std::unique_ptr<Client> client;

  explicit Harness(FakeTransport::Handler handler, int attempts = 5) {
    RegistryOptions options;
    options.credentials.config_dir = config_dir.path();
    options.retry_backoff = std::chrono::milliseconds(1);
    options.max_attempts = attempts;
    auto t = std::make_unique<FakeTransport>(std::move(handler));
    transport = t.get();
    client = *Client::create(options, std::move(t));
  }
  void write_auth(const std::string& host, const std::string& user_colon_pass) {
    std::ofstream(config_dir.path() + "/config.json")
        << R"({"auths":{")" << host << R"(":{"auth":")" << util::base64_encode(user_colon_pass)
        << "\"}}}";
  }
  util::Result<image::Descriptor> pull(const std::string& ref) {
    return client->pull(*scratch.store, *image::Reference::parse(ref),
                        *image::parse_platform("linux/amd64"));
  }
};

TEST(ClientFake, PullStoresEverythingAndTags) {
  FakeRegistry registry;
  Harness h(std::ref(registry));
  auto d = h.pull("reg.example/app:1");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->digest, registry.image.manifest.digest);
  for (const auto& [digest, bytes] : registry.image.blobs())
    EXPECT_TRUE(h.scratch.store->has_blob(*image::Digest::parse(digest)));
  auto tagged = h.scratch.store->resolve("reg.example/app:1");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->digest, d->digest);
  auto refs = h.scratch.store->references(d->digest);
  ASSERT_TRUE(refs);
  EXPECT_EQ(refs->size(), 3u);
}

// A build reads a base first without its layers, and pulls them only when
// a step or an output needs them: fetch_image then complete is a pull.
TEST(ClientFake, FetchImageReadsNoLayerAndCompleteFinishesThePull) {
  FakeRegistry registry;
  Harness h(std::ref(registry));
  const auto ref = *image::Reference::parse("reg.example/app:1");
  auto remote = h.client->fetch_image(*h.scratch.store, ref, *image::parse_platform("linux/amd64"));
  ASSERT_TRUE(remote) << remote.error().to_string();
  EXPECT_EQ(remote->descriptor.digest, registry.image.manifest.digest);
  EXPECT_EQ(remote->manifest_raw, registry.image.manifest.raw);
  EXPECT_TRUE(h.scratch.store->has_blob(registry.image.manifest.config.digest));
  for (const auto& layer : registry.image.manifest.layers)
    EXPECT_FALSE(h.scratch.store->has_blob(layer.digest));
  for (const auto& r : h.transport->requests())
    for (const auto& layer : registry.image.manifest.layers)
      EXPECT_EQ(r.url.find(layer.digest.str()), std::string::npos) << r.url;
  EXPECT_FALSE(h.scratch.store->resolve("reg.example/app:1"));

  auto done = h.client->complete(*h.scratch.store, *remote);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(done->digest, registry.image.manifest.digest);
  for (const auto& [digest, bytes] : registry.image.blobs())
    EXPECT_TRUE(h.scratch.store->has_blob(*image::Digest::parse(digest)));
  auto tagged = h.scratch.store->resolve("reg.example/app:1");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->digest, done->digest);
}

TEST(ClientFake, FetchBlobsGetsOnlyWhatIsMissingAndVerifiesIt) {
  FakeRegistry registry;
  Harness h(std::ref(registry));
  const auto ref = *image::Reference::parse("reg.example/app:1");
  const auto& layers = registry.image.manifest.layers;
  ASSERT_TRUE(h.scratch.store->ingest_bytes(registry.image.layers[0]));
  ASSERT_TRUE(h.client->fetch_blobs(*h.scratch.store, ref, layers));
  EXPECT_TRUE(h.scratch.store->has_blob(layers[1].digest));
  std::size_t blob_requests = 0;
  for (const auto& r : h.transport->requests())
    if (r.url.find("/blobs/") != std::string::npos) ++blob_requests;
  EXPECT_EQ(blob_requests, 1u);

  image::Descriptor wrong = layers[1];
  wrong.digest = image::Digest::sha256_of("not what the registry serves");
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url.ends_with(wrong.digest.str())) return respond(200, registry.image.layers[1]);
    return std::nullopt;
  };
  auto bad = h.client->fetch_blobs(*h.scratch.store, ref, {wrong});
  ASSERT_FALSE(bad);
  EXPECT_FALSE(h.scratch.store->has_blob(wrong.digest));
}

TEST(ClientFake, ManifestRequestAcceptsFourTypes) {
  FakeRegistry registry;
  Harness h(std::ref(registry));
  ASSERT_TRUE(h.pull("reg.example/app:1"));
  const auto accept = header_of(h.transport->requests().front(), "Accept");
  for (auto type : {image::media_type::oci_index, image::media_type::oci_manifest,
                    image::media_type::docker_manifest_list, image::media_type::docker_manifest})
    EXPECT_NE(accept.find(type), std::string::npos) << type;
  EXPECT_EQ(accept.find("distribution.manifest.v1+"), std::string::npos);
}

TEST(ClientFake, Schema1IsRefused) {
  FakeRegistry registry;
  registry.manifest_type = std::string(image::media_type::docker_manifest_v1_signed);
  Harness h(std::ref(registry));
  auto d = h.pull("reg.example/app:1");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::unsupported);
  EXPECT_NE(d.error().to_string().find("schema 1 manifests are not supported"), std::string::npos);
}

TEST(ClientFake, DigestMismatchStoresNothing) {
  FakeRegistry registry;
  Harness h([&](const Request& r) -> util::Result<Response> {
    if (r.url.find("/manifests/") != std::string::npos)
      return respond(200, registry.image.manifest.raw,
                     {{"content-type", std::string(image::media_type::oci_manifest)}});
    return registry(r);
  });
  const auto other = image::Digest::sha256_of("something else");
  auto d = h.pull("reg.example/app@" + other.str());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::corruption);
  EXPECT_NE(d.error().to_string().find("digest mismatch"), std::string::npos);
  auto usage = h.scratch.store->disk_usage();
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->unreferenced.count + usage->manifests.count, 0);
  EXPECT_TRUE(h.scratch.store->list_images()->empty());
}

TEST(ClientFake, RetriesOn503ThenSucceeds) {
  FakeRegistry registry;
  std::atomic<int> failures{0};
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url.find("/manifests/") != std::string::npos && failures < 2) {
      ++failures;
      return respond(503);
    }
    return std::nullopt;
  };
  Harness h(std::ref(registry));
  auto d = h.pull("reg.example/app:1");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(failures, 2);
}

TEST(ClientFake, GivesUpAfterMaxAttempts) {
  Harness h([](const Request&) -> util::Result<Response> { return respond(503); }, 3);
  auto d = h.pull("reg.example/app:1");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::unavailable);
  EXPECT_EQ(h.transport->requests().size(), 3u);
}

TEST(ClientFake, HonoursRetryAfterOn429) {
  FakeRegistry registry;
  std::atomic<int> refused{0};
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url.find("/manifests/") != std::string::npos && refused == 0) {
      ++refused;
      return respond(429, R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})",
                     {{"retry-after", "1"}});
    }
    return std::nullopt;
  };
  Harness h(std::ref(registry)); // backoff 1 ms: only Retry-After makes it wait a second
  const auto start = std::chrono::steady_clock::now();
  auto d = h.pull("reg.example/app:1");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
  EXPECT_EQ(refused, 1);
}

TEST(ClientFake, LongRetryAfterFailsAtOnceAndSaysSo) {
  Harness h([](const Request&) -> util::Result<Response> {
    return respond(429, R"({"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit"}]})",
                   {{"retry-after", "3600"}});
  });
  auto d = h.pull("reg.example/app:1");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::unavailable);
  EXPECT_EQ(h.transport->requests().size(), 1u);
  const auto text = d.error().to_string();
  EXPECT_NE(text.find("reg.example: 429 Too Many Requests: pull rate limit (Retry-After: 3600 s)"),
            std::string::npos)
      << text;
}

TEST(ClientFake, RetryAfterParsesSecondsAndDates) {
  Response r;
  EXPECT_FALSE(retry_after(r));
  r.headers = {{"retry-after", "7"}};
  EXPECT_EQ(retry_after(r), std::chrono::seconds(7));
  r.headers = {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}; // in the past
  EXPECT_EQ(retry_after(r), std::chrono::milliseconds(0));
  r.headers = {{"retry-after", "soon"}};
  EXPECT_FALSE(retry_after(r));
}

TEST(ClientFake, ResumesACutDownloadWithRange) {
  FakeRegistry registry;
  const auto layer = registry.image.layers[0];
  const auto url = k_base + "blobs/" + registry.image.manifest.layers[0].digest.str();
  std::atomic<bool> cut{false};
  std::string range_asked;
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url != url) return std::nullopt;
    if (!cut.exchange(true)) {
      (void)r.sink(200, std::string_view(layer).substr(0, 1000));
      return util::Result<Response>(
          util::make_error(util::ErrorCode::unavailable, "GET " + url + ": connection reset"));
    }
    range_asked = header_of(r, "Range");
    return respond(206, layer.substr(1000));
  };
  Harness h(std::ref(registry));
  auto d = h.pull("reg.example/app:1");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(range_asked, "bytes=1000-");
  EXPECT_TRUE(h.scratch.store->verify_blob(registry.image.manifest.layers[0].digest));
}

TEST(ClientFake, RestartsWhenRangeIsIgnored) {
  FakeRegistry registry;
  const auto layer = registry.image.layers[0];
  const auto url = k_base + "blobs/" + registry.image.manifest.layers[0].digest.str();
  std::atomic<bool> cut{false};
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url != url || cut.exchange(true)) return std::nullopt; // then a full 200
    (void)r.sink(200, std::string_view(layer).substr(0, 1000));
    return util::Result<Response>(util::make_error(util::ErrorCode::unavailable, "cut"));
  };
  Harness h(std::ref(registry));
  auto d = h.pull("reg.example/app:1");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_TRUE(h.scratch.store->verify_blob(registry.image.manifest.layers[0].digest));
}

TEST(ClientFake, ErrorNamesReferenceRegistryAndMessage) {
  FakeRegistry registry;
  Harness h(std::ref(registry));
  auto d = h.pull("reg.example/app:nope");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::not_found);
  EXPECT_EQ(d.error().to_string(),
            "pull reg.example/app:nope: reg.example: 404 Not Found: manifest unknown");
}

// A registry behind a token service: /v2/ answers 401 with a Bearer
// challenge unless the request carries the token the realm issued for
// user:pass.
struct TokenRegistry {
  FakeRegistry inner;
  std::atomic<int> token_requests{0};
  std::string last_token_url;

  util::Result<Response> operator()(const Request& r) {
    if (r.url.starts_with("https://auth.example/token")) {
      ++token_requests;
      last_token_url = r.url;
      if (header_of(r, "Authorization") != "Basic " + util::base64_encode("user:pass"))
        return respond(401, R"({"details":"bad credentials"})");
      return respond(200, R"({"token":"tok","expires_in":300})");
    }
    if (header_of(r, "Authorization") != "Bearer tok")
      return respond(
          401, "",
          {{"www-authenticate",
            R"(Bearer realm="https://auth.example/token",service="reg.example",scope="repository:app:pull")"}});
    return inner(r);
  }
};

TEST(ClientFake, BearerTokenIsFetchedOnceAndReused) {
  TokenRegistry registry;
  Harness h(std::ref(registry));
  h.write_auth("reg.example", "user:pass");
  ASSERT_TRUE(h.pull("reg.example/app:1"));
  auto again = h.client->resolve(*image::Reference::parse("reg.example/app:1"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(registry.token_requests, 1);
  EXPECT_NE(registry.last_token_url.find("service=reg.example"), std::string::npos);
  EXPECT_NE(registry.last_token_url.find("scope=repository%3Aapp%3Apull"), std::string::npos);
}

TEST(ClientFake, BearerWithWrongCredentialsIsUnauthorized) {
  TokenRegistry registry;
  Harness h(std::ref(registry));
  h.write_auth("reg.example", "user:wrong");
  auto d = h.pull("reg.example/app:1");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::unauthorized);
  EXPECT_NE(d.error().to_string().find("https://auth.example/token"), std::string::npos);
}

TEST(ClientFake, BasicAuthAnswersTheChallenge) {
  FakeRegistry inner;
  Harness h([&](const Request& r) -> util::Result<Response> {
    if (header_of(r, "Authorization") != "Basic " + util::base64_encode("u:p"))
      return respond(401, "", {{"www-authenticate", R"(Basic realm="Registry")"}});
    return inner(r);
  });
  h.write_auth("reg.example", "u:p");
  auto d = h.pull("reg.example/app:1");
  ASSERT_TRUE(d) << d.error().to_string();
}

TEST(ClientFake, BasicWithoutCredentialsIsUnauthorized) {
  Harness h([](const Request&) -> util::Result<Response> {
    return respond(401, "", {{"www-authenticate", R"(Basic realm="Registry")"}});
  });
  auto d = h.pull("reg.example/app:1");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::unauthorized);
  EXPECT_NE(d.error().to_string().find("pull reg.example/app:1"), std::string::npos);
}

TEST(ClientFake, RegistryHost) {
  EXPECT_EQ(registry_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(registry_host("localhost:5000"), "localhost:5000");
}

} // namespace
} // namespace mason::registry
