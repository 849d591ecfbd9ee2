// Minimal UTF-8 helpers with Go's conventions, which the Dockerfile
// reference implementation relies on: an invalid byte decodes as U+FFFD
// with width 1, and unicode.IsSpace's definition of white space.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mason::util {

inline constexpr char32_t k_replacement_char = U'\uFFFD';

struct DecodedRune {
  char32_t rune;
  std::size_t width; // bytes consumed (1 for an invalid byte)
  bool valid;        // false when the byte sequence was not valid UTF-8
};

// Decodes the code point starting at s[pos]; pos < s.size().
DecodedRune decode_rune(std::string_view s, std::size_t pos);

// Appends the UTF-8 encoding of r (U+FFFD for surrogates and > U+10FFFF).
void append_rune(std::string& out, char32_t r);

// Go's unicode.IsSpace: '\t' '\n' '\v' '\f' '\r' ' ' U+0085 U+00A0 and the
// White_Space code points beyond Latin-1.
bool is_unicode_space(char32_t r);

// ASCII blanks as the reference's `[\t\v\f\r ]` class.
inline bool is_ascii_blank(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

// Trims leading/trailing code points for which is_unicode_space holds.
std::string_view trim_unicode_space(std::string_view s);
std::string_view trim_left_unicode_space(std::string_view s);
std::string_view trim_right_unicode_space(std::string_view s);

std::string to_lower_ascii(std::string_view s);

// Go's strings.ToLower for the scripts Dockerfile keywords plausibly use:
// ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic, fullwidth Latin, and
// the two code points whose lower case is ASCII (U+0130 -> i, U+212A -> k);
// invalid bytes become U+FFFD as in Go. Other code points are kept.
std::string go_to_lower(std::string_view s);
bool iequals_ascii(std::string_view a, std::string_view b);

} // namespace mason::util
