// Small string helpers shared by several subsystems.
#pragma once

#include <string_view>
#include <vector>

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

} // namespace mason::util
