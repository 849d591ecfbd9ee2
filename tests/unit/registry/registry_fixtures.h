// Shared by the registry client tests: a scripted Transport, images made
// by hand (config + layers of raw bytes with their real digests) in a
// store, and scratch stores.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/image/manifest.h"
#include "mason/registry/transport.h"
#include "mason/sys/temp_dir.h"

namespace mason::registry::testing {

// Answers with `handler`; logs every request (without its sink). A handler
// may feed request.sink itself (to simulate a cut) and return an error; a
// 2xx body it returns goes through the sink as a real transport would.
class FakeTransport final : public Transport {
public:
  using Handler = std::function<util::Result<Response>(const Request&)>;
  explicit FakeTransport(Handler handler) : m_handler(std::move(handler)) {}

  util::Result<Response> send(const Request& request) override {
    {
      std::lock_guard lock(m_mutex);
      Request copy = request;
      copy.sink = nullptr;
      m_requests.push_back(std::move(copy));
    }
    auto response = m_handler(request);
    if (!response || !request.sink || response->status < 200 || response->status >= 300)
      return response;
    if (!response->body.empty())
      if (auto ok = request.sink(response->status, response->body); !ok)
        return std::unexpected(ok.error());
    response->body.clear();
    return response;
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

private:
  Handler m_handler;
  mutable std::mutex m_mutex;
  std::vector<Request> m_requests;
};

inline Response respond(long status, std::string body = {},
                        std::multimap<std::string, std::string> headers = {}) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

inline std::string header_of(const Request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

inline image::Descriptor describe(std::string media_type, const std::string& bytes) {
  image::Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = image::Digest::sha256_of(bytes);
  d.size = static_cast<std::int64_t>(bytes.size());
  return d;
}

// An image made of raw bytes: not unpackable, but every digest is right.
struct TestImage {
  std::string config;
  std::vector<std::string> layers;
  image::Manifest manifest;

  explicit TestImage(const std::string& seed, std::string arch = "amd64") {
    config = R"({"architecture":")" + arch +
             R"(","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"seed":")" + seed + "\"}";
    layers = {"layer one of " + seed + std::string(300000, 'a'), "layer two of " + seed};
    manifest.media_type = std::string(image::media_type::oci_manifest);
    manifest.config = describe(std::string(image::media_type::oci_config), config);
    for (const auto& l : layers)
      manifest.layers.push_back(describe(std::string(image::media_type::oci_layer_gzip), l));
    manifest.seal();
  }

  // Every blob by digest string, manifest included.
  std::map<std::string, std::string> blobs() const {
    std::map<std::string, std::string> out{{manifest.digest.str(), manifest.raw},
                                           {manifest.config.digest.str(), config}};
    for (std::size_t i = 0; i < layers.size(); ++i)
      out[manifest.layers[i].digest.str()] = layers[i];
    return out;
  }

  image::Descriptor store_in(content::Store& store) const {
    for (const auto& [digest, bytes] : blobs()) {
      (void)digest;
      EXPECT_TRUE(store.ingest_bytes(bytes));
    }
    auto d = store.ingest_bytes(manifest.raw, {manifest.descriptor().media_type, {}, {}});
    EXPECT_TRUE(d);
    return manifest.descriptor();
  }
};

struct ScratchStore {
  sys::TempDir dir = *sys::TempDir::create("mason-registry-test-");
  std::unique_ptr<content::Store> store = *content::Store::open(dir.path() + "/root");
};

} // namespace mason::registry::testing
