#include "mason/cache/key.h"

#include <fmt/format.h>

namespace mason::cache {

KeyBuilder::KeyBuilder(bool keep_text) : m_keep(keep_text) {
  feed(k_key_version);
  feed("\n");
}

void KeyBuilder::feed(std::string_view bytes) {
  m_hash.update(bytes);
  if (m_keep) m_text.append(bytes);
}

KeyBuilder& KeyBuilder::add(std::string_view tag, std::string_view value) {
  feed(fmt::format("{}={}:", tag, value.size()));
  feed(value);
  feed("\n");
  return *this;
}

KeyBuilder& KeyBuilder::add(std::string_view tag, std::int64_t value) {
  return add(tag, std::string_view(std::to_string(value)));
}

KeyBuilder& KeyBuilder::add_list(std::string_view tag, const std::vector<std::string>& values) {
  add(tag, static_cast<std::int64_t>(values.size()));
  for (const auto& v : values) add(tag, std::string_view(v));
  return *this;
}

std::string KeyBuilder::finish() { return "sha256:" + m_hash.finish_hex(); }

} // namespace mason::cache
