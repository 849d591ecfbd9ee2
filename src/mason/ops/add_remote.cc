// Source classification and URL helpers for ADD (see add_remote.h): small
// hand-written recognisers for the reference's regular expressions
// (`^[a-zA-Z0-9]+://` for a scheme, and the scp-like
// `^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)...$`).
#include "mason/ops/add_remote.h"

#include <cctype>

#include "mason/util/utf8.h"

namespace mason::ops {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The scheme before "://" when the source starts with one, else "".
std::string_view scheme_of(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0 || s.substr(i, 3) != "://") return {};
  return s.substr(0, i);
}

bool is_scp_like(std::string_view s) {
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  for (const char c : s.substr(0, at))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  std::size_t i = at + 1;
  const std::size_t host_start = i;
  while (i < s.size() &&
         (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '.'))
    ++i;
  return i > host_start && i < s.size() && s[i] == ':';
}

// The path of a URL after its scheme and authority, before '?' and '#'.
std::string_view raw_url_path(std::string_view url) {
  url = url.substr(0, url.find('#'));
  url = url.substr(0, url.find('?'));
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return url;
  const auto rest = url.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  return slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; false for a malformed escape (url.Parse fails then).
bool unescape(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto r = util::decode_rune(s, i);
    if (r.valid && (r.rune < 0x20 || (r.rune >= 0x7F && r.rune <= 0x9F))) return true;
    i += r.width;
  }
  return false;
}

// pathutil.SafeFileName.
std::string safe_file_name(std::string_view s) {
  s = util::trim_unicode_space(s);
  while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
  if (const auto slash = s.rfind('/'); slash != std::string_view::npos && s.size() > 1)
    s = s.substr(slash + 1);
  if (s.empty() || s == "." || s == ".." || has_control(s)) return "download";
  return std::string(s);
}

} // namespace

SourceKind classify_source(std::string_view s) {
  if (starts_with(s, "./") || starts_with(s, "../") || starts_with(s, "github.com/"))
    return SourceKind::local;
  if (const auto scheme = scheme_of(s); !scheme.empty()) {
    std::string lower(scheme);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "git" || lower == "ssh") return SourceKind::git;
    if (lower != "http" && lower != "https") return SourceKind::local;
    std::string path;
    const bool ok = unescape(raw_url_path(s), path);
    if (ok && path.size() >= 4 && path.substr(path.size() - 4) == ".git") return SourceKind::git;
    if (starts_with(s, "http://") || starts_with(s, "https://")) return SourceKind::http;
    return SourceKind::local;
  }
  return is_scp_like(s) ? SourceKind::git : SourceKind::local;
}

std::string url_file_name(std::string_view url) {
  std::string path;
  if (!unescape(raw_url_path(url), path)) return "__unnamed__";
  std::string_view p = path;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  const auto slash = p.rfind('/');
  const auto base = slash == std::string_view::npos ? p : p.substr(slash + 1);
  if (base.empty() || base == "." || p == "/") return safe_file_name("__unnamed__");
  return safe_file_name(base);
}

util::Result<Checksum> parse_checksum(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return util::make_error(util::ErrorCode::invalid_argument,
                            "checksum \"" + std::string(text) +
                                "\": invalid checksum digest format");
  Checksum c{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  std::size_t want = 0;
  if (c.algorithm == "sha256")
    want = 64;
  else if (c.algorithm == "sha384")
    want = 96;
  else if (c.algorithm == "sha512")
    want = 128;
  else
    return util::make_error(util::ErrorCode::invalid_argument,
                            "checksum \"" + std::string(text) + "\": unsupported digest algorithm");
  if (c.hex.size() != want)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "checksum \"" + std::string(text) +
                                "\": invalid checksum digest length");
  for (const char ch : c.hex)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
      return util::make_error(util::ErrorCode::invalid_argument,
                              "checksum \"" + std::string(text) +
                                  "\": invalid checksum digest format");
  return c;
}

} // namespace mason::ops
