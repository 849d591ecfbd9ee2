// Source wildcards: what makes a name a pattern, and fsutil's split of a
// path at its first wildcard component (the matching: util/glob.h).
#include "mason/ops/copy_match.h"

#include <vector>

#include "mason/util/strings.h"

namespace mason::ops {

namespace {

// Non-empty parts joined with '/'.
std::string join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (const auto part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out.push_back('/');
    out.append(part.data(), part.size());
  }
  return out;
}

} // namespace

bool contains_wildcards(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '\\') {
      ++i;
    } else if (c == '*' || c == '?' || c == '[') {
      return true;
    }
  }
  return false;
}

WildcardSplit split_wildcards(std::string_view path) {
  std::vector<std::string_view> base;
  std::vector<std::string_view> rest;
  for (const auto part : util::split(path, '/')) {
    if (rest.empty() && !contains_wildcards(part))
      base.push_back(part);
    else
      rest.push_back(part);
  }
  WildcardSplit out;
  out.pattern = join(rest);
  // filepath.Join of the base parts: an empty first part is the root.
  const bool rooted = !base.empty() && base.front().empty();
  out.base = (rooted ? "/" : "") + join(base);
  return out;
}

std::size_t max_match_depth(std::string_view pattern) {
  std::size_t depth = 1;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '[') {
      return 0;
    } else if (pattern[i] == '/') {
      ++depth;
    }
  }
  return depth;
}

} // namespace mason::ops
