// Cross-repository mounts against a scripted registry: the mount request,
// a 202 answer continued as an upload, sources on other hosts ignored.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "mason/image/reference.h"
#include "mason/registry/auth.h"
#include "mason/registry/client.h"
#include "registry_fixtures.h"

namespace mason::registry {
namespace {

using testing::FakeTransport;
using testing::respond;
using testing::ScratchStore;
using testing::TestImage;

// Has no blob; answers a mount with 202 (an upload session it opened) and
// takes blobs and the manifest.
util::Result<Response> refusing_mounts(const Request& r) {
  if (r.method == Method::head) return respond(404);
  if (r.method == Method::post && r.url.find("mount=") != std::string::npos)
    return respond(202, {}, {{"location", "/v2/dest/blobs/uploads/from-mount"}});
  if (r.method == Method::post)
    return respond(202, {}, {{"location", "/v2/dest/blobs/uploads/new"}});
  if (r.method == Method::put) return respond(201);
  return respond(404);
}

int count_if(const std::vector<Request>& requests, const std::function<bool(const Request&)>& f) {
  return static_cast<int>(std::ranges::count_if(requests, f));
}

struct MountHarness {
  ScratchStore scratch;
  sys::TempDir config_dir = *sys::TempDir::create("mason-registry-config-");
  TestImage image{"mount-fake"};
  FakeTransport* transport = nullptr;
  std::unique_ptr<Client> client;
  image::Descriptor manifest;

  explicit MountHarness(const std::string& source) {
    RegistryOptions options;
    options.credentials.config_dir = config_dir.path();
    options.retry_backoff = std::chrono::milliseconds(1);
    auto t = std::make_unique<FakeTransport>(refusing_mounts);
    transport = t.get();
    client = *Client::create(options, std::move(t));
    manifest = image.store_in(*scratch.store);
    for (const auto& [digest, bytes] : image.blobs())
      EXPECT_TRUE(scratch.store->record_blob_source(*image::Digest::parse(digest), source));
  }
  util::Result<image::Descriptor> push() {
    return client->push(*scratch.store, manifest, *image::Reference::parse("reg.example/dest:1"));
  }
};

TEST(ClientMountFake, RefusedMountContinuesWithTheOpenedUpload) {
  MountHarness h("reg.example/team/src");
  auto pushed = h.push();
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  const auto requests = h.transport->requests();
  const auto mount = "mount=" + query_escape(h.image.manifest.layers[0].digest.str()) +
                     "&from=" + query_escape("team/src");
  EXPECT_EQ(
      count_if(requests, [&](const Request& r) { return r.url.find(mount) != std::string::npos; }),
      1);
  EXPECT_EQ(count_if(requests,
                     [](const Request& r) {
                       return r.method == Method::post && r.url.find("mount=") == std::string::npos;
                     }),
            0);
  EXPECT_EQ(count_if(requests,
                     [](const Request& r) {
                       return r.method == Method::put &&
                              r.url.starts_with("https://reg.example/v2/dest/blobs/uploads/"
                                                "from-mount?digest=");
                     }),
            3); // config and both layers
  // Pushed blobs are recorded as held by the destination too.
  auto sources = h.scratch.store->blob_sources(h.image.manifest.config.digest);
  ASSERT_TRUE(sources);
  EXPECT_NE(std::ranges::find(*sources, "reg.example/dest"), sources->end());
}

TEST(ClientMountFake, SourcesOnAnotherHostAreNotMountedFrom) {
  MountHarness h("other.example/team/src");
  auto pushed = h.push();
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  const auto requests = h.transport->requests();
  EXPECT_EQ(count_if(requests,
                     [](const Request& r) { return r.url.find("mount=") != std::string::npos; }),
            0);
  EXPECT_EQ(count_if(requests, [](const Request& r) { return r.method == Method::post; }), 3);
}

TEST(ClientMountFake, ManifestIsPutByDigestAndByTag) {
  MountHarness h("reg.example/team/src");
  auto pushed = h.push();
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  std::vector<std::string> puts;
  for (const auto& r : h.transport->requests())
    if (r.method == Method::put && r.url.find("/manifests/") != std::string::npos)
      puts.push_back(r.url);
  const std::vector<std::string> want{"https://reg.example/v2/dest/manifests/" +
                                          h.manifest.digest.str(),
                                      "https://reg.example/v2/dest/manifests/1"};
  EXPECT_EQ(puts, want);
}

} // namespace
} // namespace mason::registry
