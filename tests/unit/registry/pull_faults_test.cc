// Blob downloads of a pull under faults (FakeTransport): Retry-After on a
// blob's 429/503 is honoured as on manifests (a long one fails at once),
// and a resume answered 416 starts the blob again instead of failing.
#include <gtest/gtest.h>

#include <atomic>

#include "mason/image/media_type.h"
#include "mason/image/platform.h"
#include "mason/image/reference.h"
#include "mason/registry/client.h"
#include "registry_fixtures.h"

namespace mason::registry {
namespace {

using testing::FakeTransport;
using testing::header_of;
using testing::respond;
using testing::ScratchStore;
using testing::TestImage;

const std::string k_base = "https://reg.example/v2/app/";

// A registry holding one image under the tag "1"; `before` may answer first.
struct Registry {
  TestImage image{"pull-faults"};
  std::function<std::optional<util::Result<Response>>(const Request&)> before;

  util::Result<Response> operator()(const Request& r) {
    if (before)
      if (auto answer = before(r)) return *answer;
    for (const auto& [digest, bytes] : image.blobs())
      if (r.url == k_base + "blobs/" + digest) return respond(200, bytes);
    if (r.url == k_base + "manifests/1")
      return respond(200, image.manifest.raw,
                     {{"content-type", std::string(image::media_type::oci_manifest)}});
    return respond(404);
  }
  std::string layer_url() const {
    return k_base + "blobs/" + image.manifest.layers[0].digest.str();
  }
};

struct Pull {
  ScratchStore scratch;
  sys::TempDir config_dir = *sys::TempDir::create("mason-registry-config-");
  FakeTransport* transport = nullptr;
  std::unique_ptr<Client> client;

  explicit Pull(FakeTransport::Handler handler) {
    RegistryOptions options;
    options.credentials.config_dir = config_dir.path();
    options.retry_backoff = std::chrono::milliseconds(1); // only Retry-After waits long
    auto t = std::make_unique<FakeTransport>(std::move(handler));
    transport = t.get();
    client = *Client::create(options, std::move(t));
  }
  util::Result<image::Descriptor> run() {
    return client->pull(*scratch.store, *image::Reference::parse("reg.example/app:1"),
                        *image::parse_platform("linux/amd64"));
  }
  std::vector<Request> requests_to(const std::string& url) const {
    std::vector<Request> out;
    for (auto& r : transport->requests())
      if (r.url == url) out.push_back(std::move(r));
    return out;
  }
};

TEST(PullFaults, BlobRetryAfterIsHonoured) {
  Registry registry;
  std::atomic<int> refused{0};
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url == registry.layer_url() && refused++ == 0)
      return respond(429, R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})",
                     {{"retry-after", "1"}});
    return std::nullopt;
  };
  Pull pull(std::ref(registry));
  const auto start = std::chrono::steady_clock::now();
  auto d = pull.run();
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
  EXPECT_EQ(pull.requests_to(registry.layer_url()).size(), 2u);
}

TEST(PullFaults, BlobLongRetryAfterFailsAtOnceAndSaysSo) {
  Registry registry;
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url == registry.layer_url())
      return respond(503, R"({"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]})",
                     {{"retry-after", "3600"}});
    return std::nullopt;
  };
  Pull pull(std::ref(registry));
  const auto start = std::chrono::steady_clock::now();
  auto d = pull.run();
  ASSERT_FALSE(d);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(d.error().code(), util::ErrorCode::unavailable);
  EXPECT_EQ(pull.requests_to(registry.layer_url()).size(), 1u);
  const auto text = d.error().to_string();
  EXPECT_NE(text.find("reg.example: 503 Service Unavailable: maintenance (Retry-After: 3600 s)"),
            std::string::npos)
      << text;
  EXPECT_FALSE(pull.scratch.store->has_blob(registry.image.manifest.layers[0].digest));
}

TEST(PullFaults, ResumeAnswered416StartsTheBlobAgain) {
  Registry registry;
  const auto layer = registry.image.layers[0];
  std::atomic<int> calls{0};
  registry.before = [&](const Request& r) -> std::optional<util::Result<Response>> {
    if (r.url != registry.layer_url()) return std::nullopt;
    const int call = calls++;
    if (call == 0) { // cut after 1000 bytes
      (void)r.sink(200, std::string_view(layer).substr(0, 1000));
      return util::Result<Response>(util::make_error(util::ErrorCode::unavailable, "cut"));
    }
    if (call == 1) return respond(416); // the resume is refused
    return std::nullopt;                // then the whole blob
  };
  Pull pull(std::ref(registry));
  auto d = pull.run();
  ASSERT_TRUE(d) << d.error().to_string();
  const auto asked = pull.requests_to(registry.layer_url());
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(header_of(asked[1], "Range"), "bytes=1000-");
  EXPECT_EQ(header_of(asked[2], "Range"), "");
  EXPECT_TRUE(pull.scratch.store->verify_blob(registry.image.manifest.layers[0].digest));
}

} // namespace
} // namespace mason::registry
