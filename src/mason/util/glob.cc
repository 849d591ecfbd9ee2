// Go's filepath.Match, restated: the pattern is cut into chunks, each a
// run of literals/classes/'?' optionally preceded by stars. A chunk without
// a star must match at the current position; a chunk after a star is tried
// at every later position that does not cross a '/'. The last chunk must
// consume the rest of the name. A chunk is parsed to its end even after a
// comparison failed, so a malformed pattern is noticed wherever a match
// could have been decided, and never matches; the syntax check is the same
// parse of every chunk against nothing.
#include "mason/util/glob.h"

#include "mason/util/utf8.h"

namespace mason::util {

namespace {

using Why = std::optional<std::string>;

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

// One class bound (a code point, possibly '\'-quoted); more text must
// follow (at least the closing ']'). nullopt and `why` when malformed.
std::optional<char32_t> class_bound(std::string_view& chunk, bool upper, Why& why) {
  const auto bad = [&](const char* reason) {
    why = reason;
    return std::nullopt;
  };
  if (chunk.empty()) return bad("unterminated character class");
  if (chunk.front() == '-') return bad("unescaped '-' in character class");
  if (chunk.front() == ']')
    return bad(upper ? "character range without an upper bound" : "empty character class");
  if (chunk.front() == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) return bad("unterminated character class");
  }
  const auto r = decode_rune(chunk, 0);
  if (!r.valid) return bad("invalid UTF-8 in character class");
  chunk.remove_prefix(r.width);
  if (chunk.empty()) return bad("unterminated character class");
  return r.rune;
}

// Parses a class after its '[' and tells whether `r` is in it; sets `why`
// when malformed.
bool match_class(std::string_view& chunk, char32_t r, Why& why) {
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
    const auto lo = class_bound(chunk, false, why);
    if (!lo) return false;
    auto hi = lo;
    if (chunk.front() == '-') {
      chunk.remove_prefix(1);
      hi = class_bound(chunk, true, why);
      if (!hi) return false;
    }
    if (*lo <= r && r <= *hi) in = true;
  }
  return in != negated;
}

enum class ChunkResult { matched, failed, malformed };

// Matches `chunk` at the start of `s`; on success `s` is advanced past it.
// `why` says what is malformed.
ChunkResult match_chunk(std::string_view chunk, std::string_view& s, Why& why) {
  bool failed = false;
  std::string_view rest = s;
  while (!chunk.empty()) {
    if (!failed && rest.empty()) failed = true;
    const char c = chunk.front();
    if (c == '[') {
      char32_t r = 0;
      if (!failed) {
        const auto d = decode_rune(rest, 0);
        r = d.rune;
        rest.remove_prefix(d.width);
      }
      chunk.remove_prefix(1);
      const bool in = match_class(chunk, r, why);
      if (why) return ChunkResult::malformed;
      if (!in) failed = true;
    } else if (c == '?') {
      if (!failed) {
        if (rest.front() == '/') failed = true;
        rest.remove_prefix(decode_rune(rest, 0).width);
      }
      chunk.remove_prefix(1);
    } else {
      if (c == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) {
          why = "trailing backslash";
          return ChunkResult::malformed;
        }
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
    Why why;
    const auto r = match_chunk(chunk, t, why);
    if (r == ChunkResult::malformed) return r;
    if (r == ChunkResult::matched) {
      if (last && !t.empty()) continue;
      name = t;
      return r;
    }
  }
  return ChunkResult::failed;
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    const Chunk chunk = scan_chunk(pattern);
    if (chunk.star && chunk.text.empty()) return name.find('/') == std::string_view::npos;
    std::string_view t = name;
    Why why;
    const auto r = match_chunk(chunk.text, t, why);
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

std::optional<std::string> glob_syntax_error(std::string_view pattern) {
  while (!pattern.empty()) {
    const Chunk chunk = scan_chunk(pattern);
    std::string_view nothing;
    Why why;
    if (match_chunk(chunk.text, nothing, why) == ChunkResult::malformed) return why;
  }
  return std::nullopt;
}

} // namespace mason::util
