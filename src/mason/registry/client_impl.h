// What client.cc, pull.cc and push.cc share: the client's state, the
// endpoint of a registry, and one repository session (endpoint, path,
// scopes, credentials) through which authorised, retried requests go.
// Private to the registry library.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mason/registry/auth.h"
#include "mason/registry/client.h"
#include "mason/registry/transport.h"

namespace mason::registry {

struct Endpoint {
  std::string domain; // as in the reference: "docker.io"; the credentials key
  std::string host;   // "registry-1.docker.io", "127.0.0.1:5000"
  std::string base;   // "https://host" or "http://host"
  TlsOptions tls;
};

struct Repo {
  Endpoint endpoint;
  std::string path; // "library/busybox"
  std::vector<std::string> scopes;
  std::optional<Credentials> credentials;

  std::string url(std::string_view tail) const { // "/manifests/x" -> full URL
    return endpoint.base + "/v2/" + path + std::string(tail);
  }
};

// The error for a response of status `status` from `host`: code by status
// (401/403 unauthorized, 404 not_found, 429/5xx unavailable, other 4xx
// invalid_argument), the reason phrase, and the registry's errors[].message.
util::Error http_error(const std::string& host, const Response& response);
bool is_retryable_status(long status);
// The wait a Retry-After header asks for (delta-seconds or an HTTP date;
// a date in the past is 0), or nothing when absent or unreadable.
std::optional<std::chrono::milliseconds> retry_after(const Response& response);
// Whether attempt number `attempt` (0-based) of a request is worth
// repeating: a network error, 429 or 5xx, attempts left, and no Retry-After
// beyond k_max_retry_after.
bool should_retry(const util::Result<Response>& response, int attempt, int max_attempts);
// Longer Retry-After waits are not waited for: the request fails at once.
inline constexpr std::chrono::seconds k_max_retry_after{60};

inline image::Descriptor make_descriptor(std::string media_type, image::Digest digest,
                                         std::int64_t size) {
  image::Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = std::move(digest);
  d.size = size;
  return d;
}

// The client's state (Client::Impl derives from it: free functions of
// pull.cc and push.cc may name this type, not the private Impl).
struct ClientState {
  RegistryOptions options;
  std::unique_ptr<Transport> transport;
  Authorizer authorizer;

  std::mutex mutex;
  std::map<std::string, Endpoint> endpoints;                     // by domain
  std::map<std::string, std::optional<Credentials>> credentials; // by domain

  ClientState(const RegistryOptions& opts, std::unique_ptr<Transport> t)
      : options(opts), transport(std::move(t)), authorizer(*transport) {}

  // Loopback hosts: https when /v2/ answers over TLS (or its certificate
  // is refused), else http. Insecure registries: https without
  // verification when it answers, else http. Others: https.
  util::Result<Endpoint> endpoint(const std::string& domain);
  bool https_answers(const Endpoint& ep);
  util::Result<std::optional<Credentials>> credentials_for(const std::string& domain);
  util::Result<Repo> repo(const image::Reference& ref, std::vector<std::string> scopes);
  // The repositories a pull or resolve of `ref` tries, in order: for
  // docker.io, one per options.docker_io_mirrors entry (same path under the
  // mirror's /v2/; a mirror URL that cannot be used is left out), then the
  // reference's own registry. Pushes never use mirrors.
  util::Result<std::vector<Repo>> pull_repos(const image::Reference& ref);
  // A mirror given as "http[s]://host[:port]" (https when no scheme).
  util::Result<Repo> mirror_repo(const std::string& url, const image::Reference& ref);

  // One request with the auth flow: a cached Authorization when known; on
  // 401 the challenge is answered and the request sent once more. Any
  // response status is returned as is.
  util::Result<Response> send(const Repo& repo, Request request);
  // send() again after network errors and 429/5xx, with backoff, up to
  // options.max_attempts. Only for requests whose body can be re-sent.
  util::Result<Response> send_retrying(const Repo& repo, const Request& request);
  // Waits before retry number `attempt + 1`: the backoff (options.
  // retry_backoff doubled per attempt, at most 5 s), or the registry's
  // Retry-After when `response` carries one.
  void sleep_before(int attempt, const Response* response = nullptr) const;
  void report(const TransferEvent& event) const {
    if (options.progress) options.progress(event);
  }

  // pull.cc: each of pull_repos() in turn, until one succeeds (the last
  // error otherwise).
  util::Result<image::Descriptor> resolve(const image::Reference& ref);
  util::Result<image::Descriptor> pull(content::Store& store, const image::Reference& ref,
                                       const image::Platform& platform);
  util::Result<RemoteImage> fetch_image(content::Store& store, const image::Reference& ref,
                                        const image::Platform& platform);
  util::Result<image::Descriptor> complete(content::Store& store, const RemoteImage& image);
  util::Status fetch_blobs(content::Store& store, const image::Reference& ref,
                           const std::vector<image::Descriptor>& blobs);
  // push.cc
  util::Result<image::Descriptor> push(const content::Store& store,
                                       const image::Descriptor& manifest,
                                       const image::Reference& dest);
};

} // namespace mason::registry
