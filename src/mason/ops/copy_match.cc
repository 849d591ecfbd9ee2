// Go's filepath.Match, restated: the pattern is cut into chunks, each a
// run of literals/classes/'?' optionally preceded by stars. A chunk without
// a star must match at the current position; a chunk after a star is tried
// at every later position that does not cross a '/'. The last chunk must
// consume the rest of the name. A chunk is parsed to its end even after a
// comparison failed, so a malformed pattern is noticed wherever a match
// could have been decided, and never matches.
#include "mason/ops/copy_match.h"

#include <optional>
#include <vector>

#include "mason/util/strings.h"
#include "mason/util/utf8.h"

namespace mason::ops {

namespace {

struct Chunk {
  bool star = false;
  std::string_view text;
};

// Splits off the next chunk: leading stars, then up to the next '*' that
// is not inside a class.
Chunk scan_chunk(std::string_view& pattern) {
  Chunk chunk;
  while (!pattern.empty() && pattern.front() == '*') {
    pattern.remove_prefix(1);
    chunk.star = true;
  }
  bool in_class = false;
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < pattern.size()) ++i;
    } else if (c == '[') {
      in_class = true;
    } else if (c == ']') {
      in_class = false;
    } else if (c == '*' && !in_class) {
      break;
    }
  }
  chunk.text = pattern.substr(0, i);
  pattern.remove_prefix(i);
  return chunk;
}

// One class bound (a code point, possibly '\'-quoted). nullopt: malformed.
std::optional<char32_t> class_bound(std::string_view& chunk) {
  if (chunk.empty() || chunk.front() == '-' || chunk.front() == ']') return std::nullopt;
  if (chunk.front() == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) return std::nullopt;
  }
  const auto r = util::decode_rune(chunk, 0);
  if (!r.valid) return std::nullopt;
  chunk.remove_prefix(r.width);
  if (chunk.empty()) return std::nullopt;
  return r.rune;
}

// Parses a class after its '[' and tells whether `r` is in it.
// nullopt: malformed.
std::optional<bool> match_class(std::string_view& chunk, char32_t r) {
  bool negated = false;
  if (!chunk.empty() && chunk.front() == '^') {
    negated = true;
    chunk.remove_prefix(1);
  }
  bool in = false;
  for (int ranges = 0;; ++ranges) {
    if (!chunk.empty() && chunk.front() == ']' && ranges > 0) {
      chunk.remove_prefix(1);
      break;
    }
    const auto lo = class_bound(chunk);
    if (!lo) return std::nullopt;
    char32_t hi = *lo;
    if (chunk.front() == '-') {
      chunk.remove_prefix(1);
      const auto h = class_bound(chunk);
      if (!h) return std::nullopt;
      hi = *h;
    }
    if (*lo <= r && r <= hi) in = true;
  }
  return in != negated;
}

enum class ChunkResult { matched, failed, malformed };

// Matches `chunk` at the start of `s`; on success `s` is advanced past it.
ChunkResult match_chunk(std::string_view chunk, std::string_view& s) {
  bool failed = false;
  std::string_view rest = s;
  while (!chunk.empty()) {
    if (!failed && rest.empty()) failed = true;
    const char c = chunk.front();
    if (c == '[') {
      char32_t r = 0;
      if (!failed) {
        const auto d = util::decode_rune(rest, 0);
        r = d.rune;
        rest.remove_prefix(d.width);
      }
      chunk.remove_prefix(1);
      const auto in = match_class(chunk, r);
      if (!in) return ChunkResult::malformed;
      if (!*in) failed = true;
    } else if (c == '?') {
      if (!failed) {
        if (rest.front() == '/') failed = true;
        rest.remove_prefix(util::decode_rune(rest, 0).width);
      }
      chunk.remove_prefix(1);
    } else {
      if (c == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return ChunkResult::malformed;
      }
      if (!failed) {
        if (chunk.front() != rest.front()) failed = true;
        rest.remove_prefix(1);
      }
      chunk.remove_prefix(1);
    }
  }
  if (failed) return ChunkResult::failed;
  s = rest;
  return ChunkResult::matched;
}

// After a star: tries the chunk at each later position before the next
// '/'. Returns matched (name advanced), failed or malformed.
ChunkResult match_after_star(std::string_view chunk, std::string_view& name, bool last) {
  for (std::size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
    std::string_view t = name.substr(i + 1);
    const auto r = match_chunk(chunk, t);
    if (r == ChunkResult::malformed) return r;
    if (r == ChunkResult::matched) {
      if (last && !t.empty()) continue;
      name = t;
      return r;
    }
  }
  return ChunkResult::failed;
}

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

bool glob_match(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    const Chunk chunk = scan_chunk(pattern);
    if (chunk.star && chunk.text.empty()) return name.find('/') == std::string_view::npos;
    std::string_view t = name;
    const auto r = match_chunk(chunk.text, t);
    if (r == ChunkResult::matched && (t.empty() || !pattern.empty())) {
      name = t;
      continue;
    }
    if (r == ChunkResult::malformed) return false;
    if (chunk.star) {
      const auto s = match_after_star(chunk.text, name, pattern.empty());
      if (s == ChunkResult::matched) continue;
      if (s == ChunkResult::malformed) return false;
    }
    return false;
  }
  return name.empty();
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
