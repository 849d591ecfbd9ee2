// Base64 with RFC 4648's standard alphabet, as Go's base64.StdEncoding:
// used for descriptor `data` (image JSON), HTTP basic auth, and the
// `auth` entries of docker's config.json.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mason::util {

// Padded with '='.
std::string base64_encode(std::string_view data);

enum class Base64Padding {
  required, // Go's StdEncoding
  optional, // also accepts the unpadded form (docker config.json written by hand)
};

// Decodes `text`; '\r' and '\n' are skipped, as Go's decoder does. nullopt
// for any other byte outside the alphabet, '=' anywhere but at the end,
// more than two of them, or a length that no encoding has.
std::optional<std::string> base64_decode(std::string_view text,
                                         Base64Padding padding = Base64Padding::required);

} // namespace mason::util
