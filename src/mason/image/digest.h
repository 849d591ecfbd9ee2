// Content digests (`sha256:<64 hex>`), the identity of every blob, layer,
// config and manifest. Only sha256 is produced; parse() also accepts
// sha384/sha512 syntax so that foreign manifests can be read and rejected
// with a clear "unsupported" error where they are used.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "mason/util/error.h"

namespace mason::image {

class Digest {
public:
  Digest() = default;

  // Strict: `algorithm:hex` with a lower-case hex part of the right length.
  static util::Result<Digest> parse(std::string_view text);
  static Digest sha256_hex(std::string_view hex64); // hex must be valid
  static Digest sha256_of(std::string_view data);

  const std::string& str() const { return m_text; } // "sha256:..."
  std::string_view algorithm() const;
  std::string_view hex() const;
  bool empty() const { return m_text.empty(); }
  // "sha256:0123456789ab" (first 12 hex digits), for messages.
  std::string short_str() const;

  auto operator<=>(const Digest&) const = default;

private:
  explicit Digest(std::string text) : m_text(std::move(text)) {}
  std::string m_text;
};

} // namespace mason::image
