// Source wildcards for COPY/ADD: the helpers BuildKit and fsutil build on
// Go's filepath.Match (which is util/glob.h). Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mason::ops {

// True when `name` holds an unescaped '*', '?' or '[' (a '\' skips the
// byte after it), which makes it a pattern rather than a literal path.
bool contains_wildcards(std::string_view name);

// A cleaned absolute or relative path split at its first component with
// wildcards (fsutil's splitWildcards): base = the components before it
// ("" when the first component has wildcards; "/" kept for absolute
// paths), pattern = that component and everything after ("" when the path
// has no wildcards).
struct WildcardSplit {
  std::string base;
  std::string pattern;
};
WildcardSplit split_wildcards(std::string_view path);

// How many '/'-separated components a name matching `pattern` can have
// at most; 0 means "any" (a class can match '/', so a pattern with one is
// not bounded).
std::size_t max_match_depth(std::string_view pattern);

} // namespace mason::ops
