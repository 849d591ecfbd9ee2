// The distribution client: pull and push images against registries that
// speak the OCI distribution protocol (and Docker's registry v2).
//
// Resolution: a tag is resolved with HEAD/GET of the manifest, Accept:
// OCI index, OCI manifest, Docker manifest list, Docker schema 2 (schema 1
// is refused with a clear message). An index is resolved to the platform
// asked for (image::select_manifest). Manifests are stored byte for byte.
// Pull: config and layers not already in the store are downloaded
// concurrently, each verified while streaming and visible only when whole
// (content::Writer); a dropped connection resumes with Range; retries with
// backoff on 429/5xx/network errors. Push: HEAD to skip blobs the registry
// has, cross-repository mount when the blob came from another repository
// on the same registry, monolithic upload (chunked for large blobs), then
// the manifest by tag (and by digest).
//
// Auth: anonymous, basic, and bearer tokens from the WWW-Authenticate
// challenge (scopes repository:<name>:pull or pull,push), credentials from
// credentials.h. TLS: the system trust store plus RegistryOptions::ca_files;
// plain http for localhost / 127.0.0.0/8 / ::1 when they do not speak TLS
// (an untrusted certificate is an error, not a fallback) and for
// registries listed as insecure (https without verification first).
//
// Errors name the reference and the registry: `pull docker.io/library/x:1:
// registry-1.docker.io: 401 Unauthorized: ...`; unauthorized / not_found /
// unavailable (429, 5xx, network) / corruption (digest mismatch).
//
// Thread-safety: a Client may be used from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/image/descriptor.h"
#include "mason/image/manifest.h"
#include "mason/image/platform.h"
#include "mason/image/reference.h"
#include "mason/registry/credentials.h"
#include "mason/util/error.h"

namespace mason::registry {

struct TransferEvent {
  std::string what; // "sha256:ab12… (layer)" or the manifest
  std::int64_t done = 0, total = 0;
  bool finished = false;
  bool skipped = false; // already present (pull) or exists/mounted (push)
};
using TransferProgress = std::function<void(const TransferEvent&)>;

struct RegistryOptions {
  CredentialStoreOptions credentials;
  std::vector<std::string> insecure_registries; // "host[:port]"
  std::vector<std::string> ca_files;            // extra PEM CA bundles
  std::string no_proxy;                         // CurlOptions::no_proxy
  std::vector<std::string>
      docker_io_mirrors; // "https://mirror.example" (tried first for docker.io)
  int max_concurrent_transfers = 3;
  int max_attempts = 5;
  TransferProgress progress;                    // may be empty; called from worker threads
  std::chrono::milliseconds retry_backoff{200}; // first wait; doubled per attempt, at most 5 s
};

class Transport; // transport.h

// What a registry serves at a reference, read without the image's layers
// (Client::fetch_image): the manifest for the platform asked for (and the
// index that selected it), both kept in memory, and the config, which is
// put in the store. Client::complete downloads the layers and stores the
// image as pull() does.
struct RemoteImage {
  std::string ref;              // the reference as asked (its str())
  image::Descriptor descriptor; // the platform's image manifest
  std::string manifest_raw;
  image::Manifest manifest;
  std::optional<image::Descriptor> index; // when the reference named an index
  std::string index_raw;
  std::vector<image::Descriptor> index_manifests;
};

class Client {
public:
  static util::Result<std::unique_ptr<Client>> create(const RegistryOptions& options);
  // With a transport of the caller's (tests script a registry this way).
  static util::Result<std::unique_ptr<Client>> create(const RegistryOptions& options,
                                                      std::unique_ptr<Transport> transport);
  ~Client();

  // Pulls `ref` for `platform` into the store and tags it there under
  // ref.str() (digest references are not tagged). Returns the descriptor
  // of the image manifest (the platform's, for an index).
  util::Result<image::Descriptor> pull(content::Store& store, const image::Reference& ref,
                                       const image::Platform& platform);

  // Reads `ref` for `platform` without its layers: the manifest(s), and
  // the config blob into the store. Nothing is tagged.
  util::Result<RemoteImage> fetch_image(content::Store& store, const image::Reference& ref,
                                        const image::Platform& platform);
  // Finishes what fetch_image began: the layers missing from the store are
  // downloaded, the manifest (and index) stored and the reference tagged,
  // as pull() leaves it. Returns the manifest's descriptor.
  util::Result<image::Descriptor> complete(content::Store& store, const RemoteImage& image);
  // Downloads those of `blobs` missing from the store from the repository
  // `ref` names (through the docker.io mirrors first, as a pull).
  util::Status fetch_blobs(content::Store& store, const image::Reference& ref,
                           const std::vector<image::Descriptor>& blobs);

  // Only resolves `ref` to the descriptor of what the registry has at it
  // (a manifest or an index), for `--pull` checks.
  util::Result<image::Descriptor> resolve(const image::Reference& ref);

  // Pushes the manifest `manifest` (and its config and layers, read from
  // the store) to `dest`. Returns the pushed manifest's descriptor.
  util::Result<image::Descriptor> push(const content::Store& store,
                                       const image::Descriptor& manifest,
                                       const image::Reference& dest);

  // Checks credentials against the registry (GET /v2/ with the auth flow);
  // unauthorized when they are refused.
  util::Status check_login(const std::string& host, const Credentials& credentials);

private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The registry host a reference's domain is served from ("docker.io" ->
// "registry-1.docker.io").
std::string registry_host(const std::string& domain);

} // namespace mason::registry
