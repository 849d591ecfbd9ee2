// Challenge parsing is a small tokenizer: a token followed by '=' is a
// parameter of the current challenge, any other token starts a new
// challenge (so "Bearer realm=\"x\",service=\"y\", Basic realm=\"z\"" is
// two challenges). Authorization prefers Bearer, then Basic. Tokens are
// cached until `expires_in` (default 60 s, the spec's minimum) minus a
// margin, so a token is never sent in its last seconds.
#include "mason/registry/auth.h"
#include "mason/util/base64.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace mason::registry {

namespace {

constexpr std::chrono::seconds k_default_token_life{60};
constexpr std::chrono::seconds k_expiry_margin{10};

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

class Lexer {
public:
  explicit Lexer(std::string_view text) : m_text(text) {}
  bool done() const { return m_pos >= m_text.size(); }
  char peek() const { return done() ? '\0' : m_text[m_pos]; }
  void skip(std::string_view chars) {
    while (!done() && chars.find(m_text[m_pos]) != std::string_view::npos) ++m_pos;
  }
  std::string token() {
    const auto start = m_pos;
    while (!done() && is_token_char(m_text[m_pos])) ++m_pos;
    return std::string(m_text.substr(start, m_pos - start));
  }
  // After the opening quote: up to the closing one, undoing \-escapes.
  std::string quoted() {
    std::string out;
    for (++m_pos; !done() && m_text[m_pos] != '"'; ++m_pos) {
      if (m_text[m_pos] == '\\' && m_pos + 1 < m_text.size()) ++m_pos;
      out += m_text[m_pos];
    }
    ++m_pos;
    return out;
  }
  void advance() { ++m_pos; }

private:
  std::string_view m_text;
  std::size_t m_pos = 0;
};

std::string scopes_key(const std::string& host, const std::vector<std::string>& scopes) {
  std::string key = host;
  for (const auto& s : scopes) key += " " + s;
  return key;
}

std::string basic_value(const Credentials& c) {
  return "Basic " + util::base64_encode(c.username + ":" + c.password);
}

util::Error token_error(const std::string& realm, const Response& r) {
  const bool refused = r.status == 401 || r.status == 403;
  return {refused ? util::ErrorCode::unauthorized : util::ErrorCode::unavailable,
          "get token from " + realm + ": status " + std::to_string(r.status) +
              (r.body.empty() ? "" : ": " + r.body.substr(0, 200))};
}

Request token_request(const Challenge& bearer, const std::vector<std::string>& scopes,
                      const std::optional<Credentials>& credentials) {
  const auto& realm = bearer.params.at("realm");
  std::string query;
  if (auto it = bearer.params.find("service"); it != bearer.params.end())
    query += "service=" + query_escape(it->second);
  for (const auto& s : scopes) query += (query.empty() ? "" : "&") + ("scope=" + query_escape(s));
  Request req;
  if (credentials && !credentials->identity_token.empty()) {
    req.method = Method::post;
    req.url = realm;
    req.body = query + "&grant_type=refresh_token&client_id=mason&refresh_token=" +
               query_escape(credentials->identity_token);
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return req;
  }
  req.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
  if (credentials && !credentials->username.empty())
    req.headers.emplace_back("Authorization", basic_value(*credentials));
  return req;
}

} // namespace

std::vector<Challenge> parse_challenges(std::string_view header) {
  std::vector<Challenge> out;
  Lexer lex(header);
  while (!lex.done()) {
    lex.skip(" \t,");
    auto word = lex.token();
    if (word.empty()) {
      if (!lex.done()) lex.advance(); // not a token character: skip it
      continue;
    }
    lex.skip(" \t");
    if (lex.peek() != '=' || out.empty()) {
      out.push_back({lower(word), {}});
      continue;
    }
    lex.advance();
    lex.skip(" \t");
    out.back().params[lower(word)] = lex.peek() == '"' ? lex.quoted() : lex.token();
  }
  return out;
}

std::string pull_scope(std::string_view path) {
  return "repository:" + std::string(path) + ":pull";
}

std::string push_scope(std::string_view path) {
  return "repository:" + std::string(path) + ":pull,push";
}

std::string query_escape(std::string_view value) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
      continue;
    }
    out += '%';
    out += k_hex[u >> 4];
    out += k_hex[u & 15];
  }
  return out;
}

std::string Authorizer::cached(const std::string& host, const std::vector<std::string>& scopes) {
  std::lock_guard lock(m_mutex);
  const auto now = Clock::now();
  for (const auto& key : {scopes_key(host, scopes), host}) {
    const auto it = m_cache.find(key);
    if (it != m_cache.end() && it->second.expires > now) return it->second.value;
  }
  return {};
}

void Authorizer::forget(const std::string& host) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_cache, [&](const auto& entry) {
    return entry.first == host || entry.first.starts_with(host + " ");
  });
}

void Authorizer::remember(const std::string& key, Entry entry) {
  std::lock_guard lock(m_mutex);
  m_cache[key] = std::move(entry);
}

util::Result<std::string> Authorizer::authorize(const std::string& host,
                                                const std::vector<std::string>& scopes,
                                                const Response& unauthorized,
                                                const std::optional<Credentials>& credentials,
                                                const TlsOptions& tls) {
  std::vector<Challenge> challenges;
  for (const auto& value : unauthorized.header_values("www-authenticate"))
    for (auto& c : parse_challenges(value)) challenges.push_back(std::move(c));
  for (const auto& c : challenges) {
    if (c.scheme != "bearer" || !c.params.contains("realm")) continue;
    MASON_TRY_ASSIGN(auto entry, fetch_token(c, scopes, credentials, tls));
    remember(scopes_key(host, scopes), entry);
    return entry.value;
  }
  for (const auto& c : challenges) {
    if (c.scheme != "basic") continue;
    if (!credentials || credentials->username.empty())
      return util::make_error(util::ErrorCode::unauthorized,
                              "authentication required (basic realm \"" +
                                  (c.params.contains("realm") ? c.params.at("realm") : "") +
                                  "\") and no credentials are configured for " + host);
    remember(host, {basic_value(*credentials), Clock::time_point::max()});
    return basic_value(*credentials);
  }
  return util::make_error(util::ErrorCode::unauthorized,
                          "authentication required, and no supported challenge in "
                          "WWW-Authenticate: \"" +
                              unauthorized.header("www-authenticate") + "\"");
}

util::Result<Authorizer::Entry>
Authorizer::fetch_token(const Challenge& bearer, const std::vector<std::string>& scopes,
                        const std::optional<Credentials>& credentials, const TlsOptions& tls) {
  auto req = token_request(bearer, scopes, credentials);
  req.tls = tls;
  const auto& realm = bearer.params.at("realm");
  auto resp = m_transport.send(req);
  if (!resp) return std::unexpected(resp.error().with_context("get token from " + realm));
  if (resp->status != 200) return std::unexpected(token_error(realm, *resp));
  auto json = nlohmann::json::parse(resp->body, nullptr, false);
  std::string token;
  if (json.is_object())
    for (const char* field : {"token", "access_token"})
      if (json.contains(field) && json[field].is_string() && token.empty())
        token = json[field].get<std::string>();
  if (token.empty())
    return util::make_error(util::ErrorCode::unavailable,
                            "get token from " + realm + ": the answer has no token");
  auto life = k_default_token_life;
  if (json.contains("expires_in") && json["expires_in"].is_number_integer())
    life = std::max(life, std::chrono::seconds(json["expires_in"].get<std::int64_t>()));
  return Entry{"Bearer " + token, Clock::now() + life - k_expiry_margin};
}

} // namespace mason::registry
