// Snapshot names: escaping of ids into directory names and random tokens.
//
// Escaping keeps a conservative set of bytes and writes every other byte as
// "+XX"; '+' itself is escaped, so two different ids never share a name.
#include "mason/snapshot/names.h"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <sys/random.h>

namespace mason::snapshot::detail {

namespace {

constexpr std::size_t k_max_name = 255;
constexpr std::array<std::string_view, 8> k_reserved = {
    ".", "..", k_tmp_dir, k_link_dir, k_flat_dir, k_empty_dir, k_kind_file, k_kind_reason_file};

bool kept(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void fill_random(unsigned char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::getrandom(data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) std::abort(); // no entropy source at all: nothing sane to do
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

} // namespace

util::Result<std::string> dir_name_of(std::string_view id) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  std::string name;
  for (const char c : id) {
    if (kept(c)) {
      name += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    name += '+';
    name += k_hex[byte >> 4];
    name += k_hex[byte & 15];
  }
  for (const auto reserved : k_reserved)
    if (name == reserved)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "snapshot id \"" + name + "\" is reserved");
  if (name.empty() || name.size() > k_max_name)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "snapshot id of " + std::to_string(id.size()) +
                                " bytes: must be 1 to 255 bytes once escaped");
  return name;
}

std::optional<std::string> id_of_dir_name(std::string_view name) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string id;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (kept(name[i])) {
      id += name[i];
      continue;
    }
    if (name[i] != '+' || i + 2 >= name.size() || hex(name[i + 1]) < 0 || hex(name[i + 2]) < 0)
      return std::nullopt;
    id += static_cast<char>(hex(name[i + 1]) * 16 + hex(name[i + 2]));
    i += 2;
  }
  auto back = dir_name_of(id);
  if (!back || *back != name) return std::nullopt;
  return id;
}

std::string random_chars(std::size_t count) {
  constexpr std::string_view k_alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::string bytes(count, '\0');
  fill_random(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size());
  std::string out;
  for (const char b : bytes) out += k_alphabet[static_cast<unsigned char>(b) & 31];
  return out;
}

} // namespace mason::snapshot::detail
