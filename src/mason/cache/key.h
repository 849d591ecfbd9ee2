// Cache keys: the digest of everything a build step's result depends on.
//
// A key is "sha256:<hex>" of a byte string made of tagged fields, written
// in a fixed order by the caller (docs/cache-keys.md lists them per step):
//
//   mason-cache-v1\n            once, first (the format version)
//   <tag>=<length>:<bytes>\n    per field; length in decimal bytes
//
// Length prefixes make the encoding injective: no two sequences of fields
// give the same bytes, whatever the values contain. Lists are written as a
// count field followed by one field per item. A change to the format (or
// to what a step puts in it) must bump k_key_version so that old records
// can never match.
//
// Thread-safety: a KeyBuilder is not shared between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mason/util/sha256.h"

namespace mason::cache {

inline constexpr std::string_view k_key_version = "mason-cache-v1";

class KeyBuilder {
public:
  explicit KeyBuilder(bool keep_text = false);
  KeyBuilder& add(std::string_view tag, std::string_view value);
  KeyBuilder& add(std::string_view tag, std::int64_t value);
  KeyBuilder& add(std::string_view tag, bool value) { return add(tag, value ? "1" : "0"); }
  KeyBuilder& add(std::string_view tag, const char* value) {
    return add(tag, std::string_view(value));
  }
  KeyBuilder& add_list(std::string_view tag, const std::vector<std::string>& values);
  // "sha256:<hex>"; the builder must not be used afterwards.
  std::string finish();
  // The bytes fed so far when constructed with keep_text (tests).
  const std::string& text() const { return m_text; }

private:
  void feed(std::string_view bytes);
  util::Sha256 m_hash;
  std::string m_text;
  bool m_keep = false;
};

} // namespace mason::cache
