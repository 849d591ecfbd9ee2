// ustar field codecs: octal and base-256 numbers, NUL-terminated strings,
// the checksum (sum of the header bytes with the checksum field as spaces).
#include "mason/archive/tar_header.h"

#include <algorithm>
#include <cstring>

namespace mason::archive::detail {

std::string_view field_text(const Block& b, const Field& f) {
  const std::string_view raw(b.data() + f.offset, f.size);
  return raw.substr(0, raw.find('\0'));
}

void put_string(Block& b, const Field& f, std::string_view s) {
  char* out = b.data() + f.offset;
  const std::size_t n = std::min(s.size(), f.size);
  std::memcpy(out, s.data(), n);
  if (n < f.size) out[n] = '\0';
  // As Go: a truncated name must not end in "/" (buggy readers would take a
  // regular file for a directory); the full name is in a PAX record anyway.
  if (s.size() > f.size && out[f.size - 1] == '/') {
    std::size_t end = f.size;
    while (end > 0 && out[end - 1] == '/') --end;
    out[end] = '\0';
  }
}

void put_octal(Block& b, const Field& f, std::int64_t value) {
  if (value < 0 || value >= octal_limit(f)) value = 0; // the PAX record carries it
  char* out = b.data() + f.offset;
  std::size_t digits = f.size - 1;
  out[digits] = '\0';
  auto v = static_cast<std::uint64_t>(value);
  while (digits > 0) {
    out[--digits] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
}

std::uint32_t unsigned_checksum(const Block& b) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < k_block; ++i) {
    const bool in_field = i >= k_chksum.offset && i < k_chksum.offset + k_chksum.size;
    sum += in_field ? std::uint32_t{' '} : static_cast<unsigned char>(b[i]);
  }
  return sum;
}

std::int64_t signed_checksum(const Block& b) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < k_block; ++i) {
    const bool in_field = i >= k_chksum.offset && i < k_chksum.offset + k_chksum.size;
    sum += in_field ? std::int64_t{' '} : static_cast<signed char>(b[i]);
  }
  return sum;
}

void finish_header(Block& b) {
  std::memcpy(b.data() + k_magic.offset, "ustar\0", 6);
  std::memcpy(b.data() + k_version.offset, "00", 2);
  const Field digits{k_chksum.offset, 7};
  put_octal(b, digits, unsigned_checksum(b));
  b[k_chksum.offset + 7] = ' ';
}

std::optional<std::int64_t> parse_numeric(const Block& b, const Field& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data() + f.offset);
  if ((p[0] & 0x80) != 0) {
    // GNU base-256: big-endian two's complement after a marker bit (Go's
    // parseNumeric).
    const unsigned char inv = (p[0] & 0x40) != 0 ? 0xff : 0x00;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < f.size; ++i) {
      auto c = static_cast<unsigned char>(p[i] ^ inv);
      if (i == 0) c &= 0x7f;
      if ((v >> 56) != 0) return std::nullopt;
      v = (v << 8) | c;
    }
    if ((v >> 63) != 0) return std::nullopt;
    const auto s = static_cast<std::int64_t>(v);
    return inv == 0xff ? ~s : s;
  }
  std::string_view text(reinterpret_cast<const char*>(p), f.size);
  const auto first = text.find_first_not_of(std::string_view(" \0", 2));
  if (first == std::string_view::npos) return 0;
  text.remove_prefix(first);
  const auto last = text.find_last_not_of(std::string_view(" \0", 2));
  text = text.substr(0, last + 1);
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    if (v > (std::uint64_t{1} << 60)) return std::nullopt;
    v = v * 8 + static_cast<std::uint64_t>(c - '0');
  }
  return static_cast<std::int64_t>(v);
}

std::string pax_record(std::string_view key, std::string_view value) {
  const std::size_t base = key.size() + value.size() + 3; // ' ', '=', '\n'
  std::size_t size = base + std::to_string(base).size();
  if (std::to_string(size).size() + base != size) size = std::to_string(size).size() + base;
  std::string out = std::to_string(size);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
  return out;
}

bool is_zero(const Block& b) {
  return std::all_of(b.begin(), b.end(), [](char c) { return c == '\0'; });
}

} // namespace mason::archive::detail
