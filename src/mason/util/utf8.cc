// UTF-8 decoding per the Unicode standard's well-formedness table
// (no overlongs, no surrogates, nothing above U+10FFFF), with Go's
// "one invalid byte = one U+FFFD" recovery.
#include "mason/util/utf8.h"

#include <cstdint>

namespace mason::util {

namespace {

DecodedRune invalid() { return {k_replacement_char, 1, false}; }

bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

} // namespace

DecodedRune decode_rune(std::string_view s, std::size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1, true};
  const std::size_t left = s.size() - pos;
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left < 2 || !is_cont(at(1))) return invalid();
    return {static_cast<char32_t>(((b0 & 0x1Fu) << 6) | (at(1) & 0x3Fu)), 2, true};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3) return invalid();
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    if (at(1) < lo || at(1) > hi || !is_cont(at(2))) return invalid();
    return {static_cast<char32_t>(((b0 & 0x0Fu) << 12) | ((at(1) & 0x3Fu) << 6) | (at(2) & 0x3Fu)),
            3, true};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4) return invalid();
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (at(1) < lo || at(1) > hi || !is_cont(at(2)) || !is_cont(at(3))) return invalid();
    return {static_cast<char32_t>(((b0 & 0x07u) << 18) | ((at(1) & 0x3Fu) << 12) |
                                  ((at(2) & 0x3Fu) << 6) | (at(3) & 0x3Fu)),
            4, true};
  }
  return invalid();
}

void append_rune(std::string& out, char32_t r) {
  if ((r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF) r = k_replacement_char;
  auto put = [&](std::uint32_t v) { out.push_back(static_cast<char>(v)); };
  const auto v = static_cast<std::uint32_t>(r);
  if (v < 0x80) {
    put(v);
  } else if (v < 0x800) {
    put(0xC0 | (v >> 6));
    put(0x80 | (v & 0x3F));
  } else if (v < 0x10000) {
    put(0xE0 | (v >> 12));
    put(0x80 | ((v >> 6) & 0x3F));
    put(0x80 | (v & 0x3F));
  } else {
    put(0xF0 | (v >> 18));
    put(0x80 | ((v >> 12) & 0x3F));
    put(0x80 | ((v >> 6) & 0x3F));
    put(0x80 | (v & 0x3F));
  }
}

bool is_unicode_space(char32_t r) {
  switch (r) {
  case U'\t':
  case U'\n':
  case U'\v':
  case U'\f':
  case U'\r':
  case U' ':
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000: return true;
  default: return r >= 0x2000 && r <= 0x200A;
  }
}

std::string_view trim_left_unicode_space(std::string_view s) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto d = decode_rune(s, pos);
    if (!d.valid || !is_unicode_space(d.rune)) break;
    pos += d.width;
  }
  return s.substr(pos);
}

std::string_view trim_right_unicode_space(std::string_view s) {
  // Walk forward remembering the end of the last non-space rune.
  std::size_t pos = 0;
  std::size_t keep = 0;
  while (pos < s.size()) {
    const auto d = decode_rune(s, pos);
    pos += d.width;
    if (!d.valid || !is_unicode_space(d.rune)) keep = pos;
  }
  return s.substr(0, keep);
}

std::string_view trim_unicode_space(std::string_view s) {
  return trim_right_unicode_space(trim_left_unicode_space(s));
}

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

namespace {

char32_t lower_rune(char32_t r) {
  if (r >= U'A' && r <= U'Z') return r + 32;
  if (r < 0x80) return r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 32;
  if (r == 0x130) return U'i';
  if (r == 0x178) return 0xFF;
  if (r >= 0x100 && r <= 0x17F) {
    const bool even_upper =
        (r <= 0x12F) || (r >= 0x132 && r <= 0x137) || (r >= 0x14A && r <= 0x177);
    const bool odd_upper = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E);
    if ((even_upper && r % 2 == 0) || (odd_upper && r % 2 == 1)) return r + 1;
    return r;
  }
  if (r >= 0x391 && r <= 0x3A9 && r != 0x3A2) return r + 32;
  if (r == 0x386) return 0x3AC;
  if (r >= 0x388 && r <= 0x38A) return r + 37;
  if (r == 0x38C) return 0x3CC;
  if (r == 0x38E || r == 0x38F) return r + 63;
  if (r >= 0x410 && r <= 0x42F) return r + 32;
  if (r >= 0x400 && r <= 0x40F) return r + 80;
  if (r == 0x212A) return U'k';
  if (r == 0x212B) return 0xE5;
  if (r == 0x2126) return 0x3C9;
  if (r >= 0xFF21 && r <= 0xFF3A) return r + 32;
  return r;
}

} // namespace

std::string go_to_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t pos = 0; pos < s.size();) {
    const auto d = decode_rune(s, pos);
    if (d.rune < 0x80 && d.valid)
      out += static_cast<char>(lower_rune(d.rune));
    else
      append_rune(out, d.valid ? lower_rune(d.rune) : k_replacement_char);
    pos += d.width;
  }
  return out;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

} // namespace mason::util
