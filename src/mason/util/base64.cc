#include "mason/util/base64.h"

#include <algorithm>
#include <cstdint>

namespace mason::util {
namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

} // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, data.size() - i);
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 3; ++j)
      v = (v << 8) | (j < n ? static_cast<unsigned char>(data[i + j]) : 0U);
    for (std::size_t j = 0; j < 4; ++j)
      out += j <= n ? k_alphabet[(v >> (18 - 6 * j)) & 0x3FU] : '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64Padding padding) {
  std::string out;
  std::uint32_t chunk = 0;
  int bits = 0;
  std::size_t symbols = 0;
  std::size_t pads = 0;
  for (const char c : text) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++pads;
      continue;
    }
    const auto value = k_alphabet.find(c);
    if (value == std::string_view::npos || pads != 0) return std::nullopt;
    chunk = (chunk << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((chunk >> bits) & 0xFFU);
    }
  }
  const std::size_t tail = symbols % 4;
  if (tail == 1 || pads > 2) return std::nullopt;
  if (pads != 0 && (symbols + pads) % 4 != 0) return std::nullopt;
  if (pads == 0 && tail != 0 && padding == Base64Padding::required) return std::nullopt;
  return out;
}

} // namespace mason::util
