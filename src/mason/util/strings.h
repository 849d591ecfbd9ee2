// Small string helpers shared by several subsystems.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "mason/util/error.h"

namespace mason::util {

// Splits at every `separator`, keeping empty pieces ("a//b" -> a, "", b);
// the pieces view `s`.
inline std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto end = s.find(separator, start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

// A size as docker prints it: decimal units, three significant digits
// ("512B", "1.82MB", "12.3GB").
inline std::string human_size(std::int64_t bytes) {
  constexpr const char* k_units[] = {"B", "kB", "MB", "GB", "TB"};
  auto v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  if (u == 0) return fmt::format("{}B", bytes);
  return fmt::format("{:.3g}{}", v, k_units[u]);
}

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False;
// nullopt for anything else.
inline std::optional<bool> parse_go_bool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False")
    return false;
  return std::nullopt;
}

// SOURCE_DATE_EPOCH's value (read by the CLI, passed in): nullopt when
// empty. Errors: invalid_argument unless a decimal integer (an optional
// '-' and at most 18 digits).
inline Result<std::optional<std::int64_t>> parse_source_date_epoch(std::string_view text) {
  if (text.empty()) return std::optional<std::int64_t>();
  const bool negative = text.front() == '-';
  const auto digits = text.substr(negative ? 1 : 0);
  const auto bad = [&] {
    return make_error(ErrorCode::invalid_argument,
                      "SOURCE_DATE_EPOCH is not an integer: \"" + std::string(text) + "\"");
  };
  if (digits.empty() || digits.size() > 18) return bad();
  std::int64_t out = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return bad();
    out = out * 10 + (c - '0');
  }
  return std::optional<std::int64_t>(negative ? -out : out);
}

} // namespace mason::util
