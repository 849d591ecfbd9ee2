// Registry authentication: WWW-Authenticate challenges (RFC 7235) and the
// token flow of the distribution spec.
//
// After a 401 the client hands the response to Authorizer::authorize(),
// which picks a challenge it can answer: Bearer (fetch a token from the
// realm for the service and scopes, with basic auth when credentials are
// known, or an OAuth2 refresh-token POST for an identity token) or Basic
// (credentials required). The resulting Authorization header value is
// cached per (registry host, scopes) until the token expires; Basic per
// host. cached() gives it back for the next request, so a 401 round trip
// happens once per scope.
//
// Thread-safety: an Authorizer may be used from several threads.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/registry/credentials.h"
#include "mason/registry/transport.h"
#include "mason/util/error.h"

namespace mason::registry {

struct Challenge {
  std::string scheme;                        // lower case: "basic", "bearer"
  std::map<std::string, std::string> params; // names lower case, values unquoted
};

// Every challenge of a WWW-Authenticate value (several may share one
// header, separated by commas; quoted values may contain commas and
// backslash escapes). Malformed parts are skipped, never an error.
std::vector<Challenge> parse_challenges(std::string_view header);

// "repository:<path>:pull" / "...:pull,push".
std::string pull_scope(std::string_view path);
std::string push_scope(std::string_view path);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string query_escape(std::string_view value);

class Authorizer {
public:
  using Clock = std::chrono::steady_clock;

  explicit Authorizer(Transport& transport) : m_transport(transport) {}

  // The Authorization value known for (host, scopes), or "".
  std::string cached(const std::string& host, const std::vector<std::string>& scopes);

  // Answers the challenges of `unauthorized` (a 401 response from `host`)
  // and caches the answer. Errors: unauthorized when no credentials fit
  // (Basic without credentials, token service refusing them), naming the
  // realm; unavailable when the token service cannot be reached.
  util::Result<std::string> authorize(const std::string& host,
                                      const std::vector<std::string>& scopes,
                                      const Response& unauthorized,
                                      const std::optional<Credentials>& credentials,
                                      const TlsOptions& tls);

  // Drops what is cached for host (after credentials were refused).
  void forget(const std::string& host);

private:
  struct Entry {
    std::string value;
    Clock::time_point expires;
  };
  util::Result<Entry> fetch_token(const Challenge& bearer, const std::vector<std::string>& scopes,
                                  const std::optional<Credentials>& credentials,
                                  const TlsOptions& tls);
  void remember(const std::string& key, Entry entry);

  Transport& m_transport;
  std::mutex m_mutex;
  std::map<std::string, Entry> m_cache; // "host scopes" or "host" (basic)
};

} // namespace mason::registry
