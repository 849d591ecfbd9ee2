// Reference parsing: distribution/reference's grammar, checked by hand.
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] component ( "/" component )*
//   domain     := host [ ":" port ],  host := dns-name | "[" ipv6 "]"
//   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag        := [\w][\w.-]{0,127}
//   digest     := algorithm ":" hex{32,}
//
// The algorithm is Docker's ParseNormalizedNamed: refuse 64-hex names
// (image IDs); split the domain off the first '/' (splitDockerDomain: a
// first component with '.' or ':', `localhost`, or an upper-case letter is
// a domain, else docker.io); require a lower-case repository; then parse
// `domain/remainder`. The remainder splits without backtracking: the digest
// is everything after the first '@' (names and tags have none), the tag is
// after the last ':' when no '/' follows it (a port is always followed by
// '/'). Finally a reference with neither tag nor digest gets `latest`.
//
// One deliberate difference: when the chosen domain is not a valid host
// (`foo_bar.com/x`), Docker's regexp falls back to a domain-less name that
// no registry client can use; mason refuses it.
#include "mason/image/reference.h"
#include "mason/util/strings.h"

#include <algorithm>
#include <utility>

namespace mason::image {

namespace {

constexpr std::string_view k_default_domain = "docker.io";
constexpr std::string_view k_legacy_domain = "index.docker.io";
constexpr std::string_view k_localhost = "localhost";
constexpr std::string_view k_official_prefix = "library/";
constexpr std::string_view k_default_tag = "latest";
constexpr std::size_t k_max_path = 255;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || is_digit(c); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

bool has_upper(std::string_view s) { return std::any_of(s.begin(), s.end(), is_upper); }

template <class Pred>
bool all(std::string_view s, Pred pred) {
  return std::all_of(s.begin(), s.end(), pred);
}

// [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
bool is_path_component(std::string_view s) {
  std::size_t i = 0;
  for (;;) {
    const auto run = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    if (i == run) return false;
    if (i == s.size()) return true;
    const auto sep_start = i;
    while (i < s.size() && (s[i] == '.' || s[i] == '_' || s[i] == '-')) ++i;
    const auto sep = s.substr(sep_start, i - sep_start);
    const bool dashes = all(sep, [](char c) { return c == '-'; });
    if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
  }
}

// [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
bool is_dns_label(std::string_view s) {
  return !s.empty() && is_alnum(s.front()) && is_alnum(s.back()) &&
         all(s, [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_host(std::string_view s) {
  if (s.starts_with('[')) {
    const auto inner = s.substr(1, s.size() - 1);
    return s.size() > 2 && s.back() == ']' &&
           all(inner.substr(0, inner.size() - 1), [](char c) { return is_hex(c) || c == ':'; });
  }
  const auto labels = util::split(s, '.');
  return std::all_of(labels.begin(), labels.end(), is_dns_label);
}

bool is_domain(std::string_view s) {
  const auto port_colon = s.starts_with('[') ? s.find(':', s.find(']')) : s.find(':');
  if (port_colon == std::string_view::npos) return is_host(s);
  const auto port = s.substr(port_colon + 1);
  return is_host(s.substr(0, port_colon)) && !port.empty() && all(port, is_digit);
}

bool is_tag(std::string_view s) {
  return !s.empty() && s.size() <= 128 && is_word(s[0]) &&
         all(s, [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

// [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}
bool is_digest_syntax(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  const auto hex = s.substr(colon + 1);
  if (hex.size() < 32 || !all(hex, is_hex)) return false;
  bool component_start = true;
  for (char c : s.substr(0, colon)) {
    if (component_start) {
      if (!is_alnum(c) || is_digit(c)) return false;
      component_start = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      component_start = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  return colon > 0 && !component_start;
}

bool is_identifier(std::string_view s) {
  return s.size() == 64 && all(s, [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
}

// Docker's splitDockerDomain (on the whole text, tag and digest included).
std::pair<std::string, std::string> split_docker_domain(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return {std::string(k_default_domain), std::string(k_official_prefix) + std::string(text)};
  const auto first = text.substr(0, slash);
  std::string domain(first);
  std::string remainder(text.substr(slash + 1));
  if (first == k_legacy_domain) {
    domain = k_default_domain;
  } else if (first != k_localhost && first.find_first_of(".:") == std::string_view::npos &&
             !has_upper(first)) {
    domain = k_default_domain;
    remainder = std::string(text);
  }
  if (domain == k_default_domain && remainder.find('/') == std::string::npos)
    remainder.insert(0, k_official_prefix);
  return {domain, remainder};
}

std::string bad_component_message(std::string_view path) {
  for (const auto component : util::split(path, '/')) {
    if (component.empty())
      return "repository name (" + std::string(path) + ") has an empty component";
    if (!is_path_component(component))
      return "invalid repository name component \"" + std::string(component) +
             "\" (lower-case letters and digits, separated by '.', '_', '__' or '-')";
  }
  return {};
}

} // namespace

util::Result<Reference> Reference::parse(std::string_view text) {
  const auto bad = [&](const std::string& why) -> util::Result<Reference> {
    return std::unexpected(
        util::Error(util::ErrorCode::invalid_argument,
                    "invalid reference format: \"" + std::string(text) + "\": " + why));
  };
  if (text.empty()) return bad("repository name must have at least one component");
  if (is_identifier(text)) return bad("cannot specify 64-byte hexadecimal strings");
  auto [domain, remainder] = split_docker_domain(text);
  const auto remote = std::string_view(remainder).substr(0, remainder.find(':'));
  if (has_upper(remote))
    return bad("repository name (" + std::string(remote) + ") must be lowercase");

  Reference ref;
  std::string_view name_tag = remainder;
  if (const auto at = name_tag.find('@'); at != std::string_view::npos) {
    const auto digest_text = name_tag.substr(at + 1);
    if (!is_digest_syntax(digest_text))
      return bad("invalid digest \"" + std::string(digest_text) + "\"");
    auto digest = Digest::parse(digest_text);
    if (!digest) return bad(digest.error().message());
    ref.m_digest = *digest;
    name_tag = name_tag.substr(0, at);
  }
  std::string_view path = name_tag;
  if (const auto colon = name_tag.rfind(':');
      colon != std::string_view::npos && name_tag.find('/', colon) == std::string_view::npos) {
    const auto tag = name_tag.substr(colon + 1);
    if (!is_tag(tag)) return bad("invalid tag \"" + std::string(tag) + "\"");
    ref.m_tag = std::string(tag);
    path = name_tag.substr(0, colon);
  }
  if (!is_domain(domain)) return bad("invalid registry domain \"" + domain + "\"");
  if (auto why = bad_component_message(path); !why.empty()) return bad(why);
  if (path.size() > k_max_path)
    return bad("repository name must not be more than " + std::to_string(k_max_path) +
               " characters");
  ref.m_domain = std::move(domain);
  ref.m_path = std::string(path);
  if (ref.m_tag.empty() && ref.m_digest.empty()) ref.m_tag = k_default_tag;
  return ref;
}

std::string Reference::name() const { return m_domain + "/" + m_path; }

std::string Reference::str() const {
  std::string out = name();
  if (!m_tag.empty()) out += ":" + m_tag;
  if (!m_digest.empty()) out += "@" + m_digest.str();
  return out;
}

std::string Reference::familiar_name() const {
  if (m_domain != k_default_domain) return name();
  if (m_path.starts_with(k_official_prefix)) {
    const auto rest = std::string_view(m_path).substr(k_official_prefix.size());
    if (rest.find('/') == std::string_view::npos) return std::string(rest);
  }
  return m_path;
}

std::string Reference::familiar() const {
  std::string out = familiar_name();
  if (!m_tag.empty()) out += ":" + m_tag;
  if (!m_digest.empty()) out += "@" + m_digest.str();
  return out;
}

util::Result<Reference> Reference::with_tag(std::string_view tag) const {
  if (!is_tag(tag))
    return std::unexpected(util::Error(util::ErrorCode::invalid_argument,
                                       "invalid tag \"" + std::string(tag) + "\" for " + name()));
  Reference ref = *this;
  ref.m_tag = std::string(tag);
  return ref;
}

Reference Reference::with_digest(const Digest& digest) const {
  Reference ref = *this;
  ref.m_digest = digest;
  return ref;
}

Reference Reference::pinned() const {
  Reference ref = *this;
  if (ref.has_digest()) ref.m_tag.clear();
  return ref;
}

} // namespace mason::image
