// The client's shared machinery. A registry's endpoint is decided once per
// domain by probing /v2/ over https: loopback hosts use http only when
// they do not speak TLS at all (a refused certificate is not a reason to
// fall back); registries listed as insecure use https without verification
// when it answers, else http (docker's order); others always https. Every request goes through
// Impl::send: the cached Authorization for its scopes, and on 401 one answered challenge and one
// more try. send_retrying wraps that in bounded exponential backoff for network errors, 429 and
// 5xx.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <thread>

#include "mason/registry/client_impl.h"

namespace mason::registry {

namespace {

constexpr std::chrono::milliseconds k_max_backoff{5000};

std::string_view host_without_port(std::string_view host) {
  if (host.starts_with('[')) return host.substr(1, host.find(']') - 1);
  const auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool is_loopback(std::string_view host) {
  const auto name = host_without_port(host);
  return name == "localhost" || name == "::1" || name.starts_with("127.");
}

std::string_view reason_phrase(long status) {
  switch (status) {
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 416: return "Range Not Satisfiable";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "";
  }
}

util::ErrorCode code_for_status(long status) {
  if (status == 401 || status == 403) return util::ErrorCode::unauthorized;
  if (status == 404) return util::ErrorCode::not_found;
  if (is_retryable_status(status)) return util::ErrorCode::unavailable;
  if (status == 405) return util::ErrorCode::unsupported;
  return util::ErrorCode::invalid_argument;
}

// "manifest unknown; ..." from {"errors":[{"code":..,"message":..}]}.
std::string registry_messages(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array()) return {};
  std::string out;
  for (const auto& e : json["errors"]) {
    if (!e.is_object()) continue;
    std::string text;
    if (e.contains("message") && e["message"].is_string())
      text = e["message"].get<std::string>();
    else if (e.contains("code") && e["code"].is_string())
      text = e["code"].get<std::string>();
    if (!text.empty()) out += (out.empty() ? "" : "; ") + text;
  }
  return out;
}

bool listed(const std::vector<std::string>& list, const std::string& a, const std::string& b) {
  return std::ranges::find(list, a) != list.end() || std::ranges::find(list, b) != list.end();
}

} // namespace

bool is_retryable_status(long status) { return status == 429 || (status >= 500 && status < 600); }

std::optional<std::chrono::milliseconds> retry_after(const Response& response) {
  const auto value = response.header("retry-after");
  if (value.empty()) return std::nullopt;
  if (std::ranges::all_of(value, [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (value.size() > 9) return k_max_retry_after + std::chrono::seconds(1);
    return std::chrono::seconds(std::stol(value));
  }
  std::tm tm{}; // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT"
  const char* end = ::strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(::timegm(&tm));
  const auto now = std::chrono::system_clock::now();
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

util::Error http_error(const std::string& host, const Response& response) {
  std::string message = host + ": " + std::to_string(response.status);
  if (auto phrase = reason_phrase(response.status); !phrase.empty())
    message += " " + std::string(phrase);
  if (auto details = registry_messages(response.body); !details.empty()) message += ": " + details;
  if (auto wait = retry_after(response); wait && is_retryable_status(response.status))
    message +=
        fmt::format(" (Retry-After: {} s)", std::chrono::ceil<std::chrono::seconds>(*wait).count());
  return {code_for_status(response.status), message};
}

std::string registry_host(const std::string& domain) {
  return domain == "docker.io" ? "registry-1.docker.io" : domain;
}

util::Result<Endpoint> ClientState::endpoint(const std::string& domain) {
  {
    std::lock_guard lock(mutex);
    if (auto it = endpoints.find(domain); it != endpoints.end()) return it->second;
  }
  Endpoint ep{domain, registry_host(domain), "", {}};
  if (listed(options.insecure_registries, domain, ep.host)) {
    ep.tls.skip_verify = true;
    ep.base = (https_answers(ep) ? "https://" : "http://") + ep.host;
  } else if (is_loopback(ep.host)) {
    ep.base = (https_answers(ep) ? "https://" : "http://") + ep.host;
  } else {
    ep.base = "https://" + ep.host;
  }
  std::lock_guard lock(mutex);
  return endpoints.emplace(domain, ep).first->second;
}

// Whether the host speaks TLS: a response, or a certificate we refuse (so
// that an untrusted loopback registry fails loudly instead of falling back
// to http).
bool ClientState::https_answers(const Endpoint& ep) {
  Request probe;
  probe.url = "https://" + ep.host + "/v2/";
  probe.tls = ep.tls;
  auto response = transport->send(probe);
  return response || response.error().code() == util::ErrorCode::unauthorized;
}

util::Result<std::optional<Credentials>> ClientState::credentials_for(const std::string& domain) {
  std::lock_guard lock(mutex);
  if (auto it = credentials.find(domain); it != credentials.end()) return it->second;
  MASON_TRY_ASSIGN(auto found, lookup_credentials(domain, options.credentials));
  credentials.emplace(domain, found);
  return found;
}

util::Result<Repo> ClientState::repo(const image::Reference& ref, std::vector<std::string> scopes) {
  MASON_TRY_ASSIGN(auto ep, endpoint(ref.domain()));
  MASON_TRY_ASSIGN(auto creds, credentials_for(ref.domain()));
  return Repo{ep, ref.path(), std::move(scopes), creds};
}

util::Result<Repo> ClientState::mirror_repo(const std::string& url, const image::Reference& ref) {
  std::string_view rest = url;
  std::string scheme = "https://";
  for (std::string_view s : {"http://", "https://"})
    if (rest.starts_with(s)) {
      scheme = s;
      rest.remove_prefix(s.size());
    }
  const auto slash = rest.find('/');
  const std::string host(rest.substr(0, slash));
  if (host.empty() || (slash != std::string_view::npos && rest.substr(slash) != "/"))
    return util::make_error(util::ErrorCode::invalid_argument,
                            "registry mirror " + url + ": not http[s]://host[:port]");
  Endpoint ep{host, host, scheme + host, {}};
  ep.tls.skip_verify = listed(options.insecure_registries, host, host);
  auto creds = credentials_for(host);
  if (!creds) return std::unexpected(creds.error().with_context("registry mirror " + url));
  return Repo{std::move(ep), ref.path(), {pull_scope(ref.path())}, *creds};
}

util::Result<std::vector<Repo>> ClientState::pull_repos(const image::Reference& ref) {
  std::vector<Repo> out;
  if (ref.domain() == "docker.io")
    for (const auto& url : options.docker_io_mirrors)
      if (auto mirror = mirror_repo(url, ref)) out.push_back(std::move(*mirror));
  MASON_TRY_ASSIGN(auto own, repo(ref, {pull_scope(ref.path())}));
  out.push_back(std::move(own));
  return out;
}

util::Result<Response> ClientState::send(const Repo& repo, Request request) {
  request.tls = repo.endpoint.tls;
  const auto& host = repo.endpoint.host;
  auto known = authorizer.cached(host, repo.scopes);
  if (!known.empty()) request.headers.emplace_back("Authorization", known);
  auto response = transport->send(request);
  if (!response || response->status != 401) return response;
  auto answer = authorizer.authorize(host, repo.scopes, *response, repo.credentials, request.tls);
  if (!answer) return std::unexpected(answer.error().with_context(host));
  std::erase_if(request.headers, [](const auto& h) { return h.first == "Authorization"; });
  request.headers.emplace_back("Authorization", *answer);
  response = transport->send(request);
  if (response && response->status == 401) authorizer.forget(host);
  return response;
}

void ClientState::sleep_before(int attempt, const Response* response) const {
  if (response != nullptr)
    if (auto wait = retry_after(*response)) {
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(*wait, k_max_retry_after));
      return;
    }
  auto wait = options.retry_backoff * (1 << std::min(attempt, 10));
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(wait, k_max_backoff));
}

bool should_retry(const util::Result<Response>& response, int attempt, int max_attempts) {
  if (attempt + 1 >= std::max(1, max_attempts)) return false;
  if (!response) return response.error().code() == util::ErrorCode::unavailable;
  if (!is_retryable_status(response->status)) return false;
  const auto wait = retry_after(*response);
  return !wait || *wait <= k_max_retry_after;
}

util::Result<Response> ClientState::send_retrying(const Repo& repo, const Request& request) {
  for (int attempt = 0;; ++attempt) {
    auto response = send(repo, request);
    if (!should_retry(response, attempt, options.max_attempts)) return response;
    sleep_before(attempt, response ? &*response : nullptr);
  }
}

struct Client::Impl : ClientState {
  using ClientState::ClientState;
};

Client::Client(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Client::~Client() = default;

util::Result<std::unique_ptr<Client>> Client::create(const RegistryOptions& options) {
  CurlOptions curl;
  curl.ca_files = options.ca_files;
  curl.no_proxy = options.no_proxy;
  MASON_TRY_ASSIGN(auto transport, curl_transport(curl));
  return create(options, std::move(transport));
}

util::Result<std::unique_ptr<Client>> Client::create(const RegistryOptions& options,
                                                     std::unique_ptr<Transport> transport) {
  if (!transport)
    return util::make_error(util::ErrorCode::invalid_argument, "registry client: no transport");
  auto impl = std::make_unique<Impl>(options, std::move(transport));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

util::Result<image::Descriptor> Client::pull(content::Store& store, const image::Reference& ref,
                                             const image::Platform& platform) {
  auto result = m_impl->pull(store, ref, platform);
  if (!result) return std::unexpected(std::move(result.error()).with_context("pull " + ref.str()));
  return result;
}

util::Result<RemoteImage> Client::fetch_image(content::Store& store, const image::Reference& ref,
                                              const image::Platform& platform) {
  auto result = m_impl->fetch_image(store, ref, platform);
  if (!result) return std::unexpected(std::move(result.error()).with_context("pull " + ref.str()));
  return result;
}

util::Result<image::Descriptor> Client::complete(content::Store& store, const RemoteImage& image) {
  auto result = m_impl->complete(store, image);
  if (!result) return std::unexpected(std::move(result.error()).with_context("pull " + image.ref));
  return result;
}

util::Status Client::fetch_blobs(content::Store& store, const image::Reference& ref,
                                 const std::vector<image::Descriptor>& blobs) {
  auto result = m_impl->fetch_blobs(store, ref, blobs);
  if (!result) return std::unexpected(std::move(result.error()).with_context("pull " + ref.str()));
  return result;
}

util::Result<image::Descriptor> Client::resolve(const image::Reference& ref) {
  auto result = m_impl->resolve(ref);
  if (!result)
    return std::unexpected(std::move(result.error()).with_context("resolve " + ref.str()));
  return result;
}

util::Result<image::Descriptor> Client::push(const content::Store& store,
                                             const image::Descriptor& manifest,
                                             const image::Reference& dest) {
  auto result = m_impl->push(store, manifest, dest);
  if (!result) return std::unexpected(std::move(result.error()).with_context("push " + dest.str()));
  return result;
}

util::Status Client::check_login(const std::string& host, const Credentials& credentials) {
  auto ep = m_impl->endpoint(host);
  if (!ep) return std::unexpected(ep.error().with_context("login " + host));
  const Repo repo{*ep, "", {}, credentials};
  Request request;
  request.url = ep->base + "/v2/";
  auto response = m_impl->send_retrying(repo, request);
  if (!response) return std::unexpected(response.error().with_context("login " + host));
  if (response->status != 200)
    return std::unexpected(http_error(ep->host, *response).with_context("login " + host));
  return {};
}

} // namespace mason::registry
