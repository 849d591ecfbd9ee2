#include "mason/image/digest.h"

#include "mason/util/sha256.h"

namespace mason::image {

util::Result<Digest> Digest::parse(std::string_view text) {
  const auto colon = text.find(':');
  const auto bad = [&](const std::string& why) {
    return util::make_error(util::ErrorCode::invalid_argument,
                            "invalid digest \"" + std::string(text) + "\": " + why);
  };
  if (colon == std::string_view::npos) return bad("missing algorithm");
  const auto algo = text.substr(0, colon);
  const auto hex = text.substr(colon + 1);
  std::size_t want = 0;
  if (algo == "sha256")
    want = 64;
  else if (algo == "sha384")
    want = 96;
  else if (algo == "sha512")
    want = 128;
  else
    return bad("unsupported algorithm");
  if (hex.size() != want) return bad("wrong length");
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("not lower-case hex");
  return Digest(std::string(text));
}

Digest Digest::sha256_hex(std::string_view hex64) { return Digest("sha256:" + std::string(hex64)); }

Digest Digest::sha256_of(std::string_view data) { return sha256_hex(util::Sha256::hex_of(data)); }

std::string_view Digest::algorithm() const {
  return std::string_view(m_text).substr(0, m_text.find(':'));
}

std::string_view Digest::hex() const {
  const auto colon = m_text.find(':');
  return colon == std::string::npos ? std::string_view()
                                    : std::string_view(m_text).substr(colon + 1);
}

std::string Digest::short_str() const {
  return std::string(algorithm()) + ":" + std::string(hex().substr(0, 12));
}

} // namespace mason::image
