// .dockerignore reading and matching, with the reference's semantics.
//
// Algorithm. Each pattern is trimmed, cleaned (Go's filepath.Clean), split
// from its '!' and checked against Go's filepath.Match syntax rules, as the
// reference does. It is then classified the way the reference compiles it:
//   exact    no wildcard at all                   path == text
//   prefix   literal text, then a final "**"      path starts with the text
//   suffix   "**" first, then only literal text   path ends with the text
//   program  anything else. The reference rewrites the glob into a Go
//            regexp ('*' -> [^/]*, '?' -> [^/], "**/" -> (.*/)?, a final
//            "**" -> .*, brackets and backslash escapes passed through) and
//            the glob's meaning is whatever Go's regexp makes of that text
//            (an unanchored search; '|', '{' and '}' are not escaped, so
//            they act as alternation and repetition). So we do the same
//            rewrite, parse the result with Go's RE2 syntax rules (the
//            subset the rewrite can produce) into a small NFA program, and
//            run it with a backtracking matcher that memoises (instruction,
//            position) pairs: O(program x path) per match, no exponential
//            blow-up on "**/**/**".
// Patterns are compiled once, in create().
//
// Deciding a path follows the reference walker (MatchesUsingParentResults):
// patterns are tried in order; a pattern that matched the parent directory
// (or an ancestor) matches the path too; a pattern is not tried when it could
// not change the decision so far (an exception while nothing is excluded, an
// exclusion while already excluded), and such a skipped pattern is not
// recorded as matching for the path's children. For entries at the root (no
// parent state) a pattern also matches when it matches any ancestor.
#include "mason/frontend/dockerignore.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "mason/util/glob.h"
#include "mason/util/path.h"
#include "mason/util/utf8.h"

namespace mason::frontend {

namespace {

using util::ErrorCode;
using util::make_error;

// The reference reads lines with bufio.Scanner, whose longest line is 64 KiB
// including the newline; longer ones fail the whole file.
constexpr std::size_t k_max_line = std::size_t{64} * 1024;
constexpr std::string_view k_utf8_bom = "\xEF\xBB\xBF";
constexpr char32_t k_max_rune = 0x10FFFF;

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The reference's glob -> regexp rewrite, and its choice of match kind.

enum class MatchKind { exact, prefix, suffix, program };

struct Translation {
  MatchKind kind = MatchKind::exact;
  std::string regex; // meaningful for MatchKind::program only
};

// Reads runes the way Go's text/scanner does: an invalid byte is one U+FFFD,
// and a byte order mark as the very first rune is skipped.
class RuneReader {
public:
  static constexpr char32_t k_eof = 0xFFFFFFFF;

  explicit RuneReader(std::string_view s) : m_s(s) {
    if (peek() == 0xFEFF) next();
  }
  bool at_end() const { return m_pos >= m_s.size(); }
  char32_t peek() const { return at_end() ? k_eof : util::decode_rune(m_s, m_pos).rune; }
  char32_t next() {
    const auto d = util::decode_rune(m_s, m_pos);
    m_pos += d.width;
    return d.rune;
  }

private:
  std::string_view m_s;
  std::size_t m_pos = 0;
};

// The regexp metacharacters the reference escapes. It means to escape
// `.+()|{}$`, but its bitmap only has room for bytes below 64, so '|', '{'
// and '}' reach the regexp as alternation and repetition.
bool is_quoted_meta(char32_t r) {
  return r < 0x80 && std::string_view(".+()$").find(static_cast<char>(r)) != std::string_view::npos;
}

Translation translate(std::string_view pattern) {
  Translation t;
  std::string& re = t.regex;
  re = "^";
  RuneReader in(pattern);
  for (std::size_t i = 0; !in.at_end(); ++i) {
    const char32_t ch = in.next();
    if (ch == U'*' && in.peek() == U'*') {
      in.next();
      if (in.peek() == U'/') in.next(); // "**/" is "**"
      if (!in.at_end()) {
        re += "(.*/)?";
        t.kind = MatchKind::program;
      } else if (t.kind == MatchKind::exact) {
        t.kind = MatchKind::prefix;
      } else {
        re += ".*";
        t.kind = MatchKind::program;
      }
      if (i == 0) t.kind = MatchKind::suffix; // even if more wildcards follow
    } else if (ch == U'*') {
      re += "[^/]*";
      t.kind = MatchKind::program;
    } else if (ch == U'?') {
      re += "[^/]";
      t.kind = MatchKind::program;
    } else if (is_quoted_meta(ch)) {
      re += '\\';
      re += static_cast<char>(ch);
    } else if (ch == U'\\') {
      re += '\\'; // the glob syntax check guarantees a rune follows
      if (!in.at_end()) {
        util::append_rune(re, in.next());
        t.kind = MatchKind::program;
      }
    } else if (ch == U'[' || ch == U']') {
      re += static_cast<char>(ch);
      t.kind = MatchKind::program;
    } else {
      util::append_rune(re, ch);
    }
  }
  if (t.kind == MatchKind::program) re += '$';
  return t;
}

// ---------------------------------------------------------------------------
// Rune sets for regexp classes.

struct Range {
  char32_t lo;
  char32_t hi;
};
using RuneSet = std::vector<Range>;

// Sorts and merges overlapping or adjacent ranges.
void normalize(RuneSet& set) {
  std::sort(set.begin(), set.end(), [](Range a, Range b) { return a.lo < b.lo; });
  RuneSet out;
  for (const Range r : set) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  set = std::move(out);
}

RuneSet complement(RuneSet set) {
  normalize(set);
  RuneSet out;
  char32_t next = 0;
  for (const Range r : set) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= k_max_rune) out.push_back({next, k_max_rune});
  return out;
}

bool contains(const RuneSet& set, char32_t r) {
  for (const Range range : set) {
    if (r < range.lo) return false;
    if (r <= range.hi) return true;
  }
  return false;
}

// ASCII classes of Go's regexp: POSIX "[:name:]" and Perl "\d" style.
struct NamedClass {
  std::string_view name;
  std::size_t count;
  std::array<Range, 4> ranges;
};

constexpr NamedClass k_posix_classes[] = {
    {"alnum", 3, {{{U'0', U'9'}, {U'A', U'Z'}, {U'a', U'z'}}}},
    {"alpha", 2, {{{U'A', U'Z'}, {U'a', U'z'}}}},
    {"ascii", 1, {{{0, 0x7F}}}},
    {"blank", 2, {{{U'\t', U'\t'}, {U' ', U' '}}}},
    {"cntrl", 2, {{{0, 0x1F}, {0x7F, 0x7F}}}},
    {"digit", 1, {{{U'0', U'9'}}}},
    {"graph", 1, {{{U'!', U'~'}}}},
    {"lower", 1, {{{U'a', U'z'}}}},
    {"print", 1, {{{U' ', U'~'}}}},
    {"punct", 4, {{{U'!', U'/'}, {U':', U'@'}, {U'[', U'`'}, {U'{', U'~'}}}},
    {"space", 2, {{{U'\t', U'\r'}, {U' ', U' '}}}},
    {"upper", 1, {{{U'A', U'Z'}}}},
    {"word", 4, {{{U'0', U'9'}, {U'A', U'Z'}, {U'_', U'_'}, {U'a', U'z'}}}},
    {"xdigit", 3, {{{U'0', U'9'}, {U'A', U'F'}, {U'a', U'f'}}}},
};

constexpr NamedClass k_perl_classes[] = {
    {"d", 1, {{{U'0', U'9'}}}},
    {"s", 3, {{{U'\t', U'\n'}, {U'\f', U'\r'}, {U' ', U' '}}}},
    {"w", 4, {{{U'0', U'9'}, {U'A', U'Z'}, {U'_', U'_'}, {U'a', U'z'}}}},
};

// Adds the class (or, when negated, everything outside it) to set.
void add_class(RuneSet& set, const NamedClass& cls, bool negated) {
  RuneSet ranges(cls.ranges.begin(), cls.ranges.begin() + static_cast<std::ptrdiff_t>(cls.count));
  if (negated) ranges = complement(std::move(ranges));
  set.insert(set.end(), ranges.begin(), ranges.end());
}

const NamedClass* find_class(std::span<const NamedClass> table, std::string_view name) {
  for (const auto& cls : table)
    if (cls.name == name) return &cls;
  return nullptr;
}

// "\d", "\D", "\s", "\S", "\w", "\W" at the start of s: adds it, true.
bool add_perl_class(RuneSet& set, std::string_view s) {
  if (s.size() < 2 || s[0] != '\\') return false;
  const char letter = s[1];
  const char lower = static_cast<char>(letter | 0x20);
  const NamedClass* cls = find_class(k_perl_classes, std::string_view(&lower, 1));
  if (cls == nullptr) return false;
  add_class(set, *cls, letter != lower);
  return true;
}

// ---------------------------------------------------------------------------
// Regexp syntax tree, parsed with Go's RE2 rules (regexp/syntax with the
// Perl flags regexp.Compile uses: '^'/'$' match only at the ends of the
// text, '.' does not match '\n', negated classes do).

struct Node {
  enum class Kind {
    rune,
    set,
    any_not_nl,
    begin_text,
    end_text,
    word_boundary,
    not_word_boundary,
    group,
    alternate,
    repeat,
  };
  Kind kind = Kind::group;
  char32_t rune = 0;
  RuneSet set;
  int min = 0; // repeat
  int max = 0; // repeat; -1: no upper bound
  // group: in sequence; alternate: the alternatives (each a group);
  // repeat: the one operand.
  std::vector<Node> subs;
};

bool is_ascii_alnum(char32_t c) {
  return (c >= U'0' && c <= U'9') || (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z');
}

int hex_value(char32_t c) {
  if (c >= U'0' && c <= U'9') return static_cast<int>(c - U'0');
  if (c >= U'a' && c <= U'f') return static_cast<int>(c - U'a') + 10;
  if (c >= U'A' && c <= U'F') return static_cast<int>(c - U'A') + 10;
  return -1;
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

class RegexParser {
public:
  explicit RegexParser(std::string_view re) : m_re(re) {}

  util::Result<Node> parse() { return parse_alternation(0); }

private:
  util::Result<Node> parse_alternation(int depth);
  util::Result<bool> parse_item(std::vector<Node>& seq, bool last_was_repeat);
  util::Result<void> repeat(std::vector<Node>& seq, bool last_was_repeat, int min, int max,
                            std::size_t op_size);
  bool parse_repeat_range(int& min, int& max, std::size_t& size) const;
  util::Result<Node> parse_backslash();
  util::Result<char32_t> parse_escape();
  util::Result<Node> parse_class();
  util::Result<bool> parse_named_class(RuneSet& set);
  util::Result<char32_t> parse_class_char(std::size_t class_start);

  bool at_end() const { return m_pos >= m_re.size(); }
  std::string_view rest() const { return m_re.substr(m_pos); }
  char32_t next_rune() {
    const auto d = util::decode_rune(m_re, m_pos);
    m_pos += d.width;
    return d.rune;
  }
  static std::unexpected<util::Error> error(std::string message) {
    return make_error(ErrorCode::invalid_argument, std::move(message));
  }
  static std::unexpected<util::Error> unsupported(std::string_view what) {
    return make_error(ErrorCode::unsupported, "the escape " + std::string(what) +
                                                  " (a Go regexp construct) is not supported");
  }

  std::string_view m_re;
  std::size_t m_pos = 0;
};

// Alternatives separated by '|' up to the end (depth 0) or the ')' closing
// a group; each alternative a sequence of items.
util::Result<Node> RegexParser::parse_alternation(int depth) {
  Node alternate;
  alternate.kind = Node::Kind::alternate;
  std::vector<Node> seq;
  bool last_was_repeat = false;
  for (;;) {
    const bool closing = !at_end() && m_re[m_pos] == ')';
    if (at_end() || closing || m_re[m_pos] == '|') {
      if (at_end() && depth > 0) return error("missing closing )");
      if (closing && depth == 0) return error("unexpected )");
      Node alt;
      alt.kind = Node::Kind::group;
      alt.subs = std::move(seq);
      alternate.subs.push_back(std::move(alt));
      seq.clear();
      last_was_repeat = false;
      if (at_end() || closing) {
        if (closing) ++m_pos;
        if (alternate.subs.size() == 1) return std::move(alternate.subs.front());
        return alternate;
      }
      ++m_pos; // '|'
      continue;
    }
    MASON_TRY_ASSIGN(auto is_repeat, parse_item(seq, last_was_repeat));
    last_was_repeat = is_repeat;
  }
}

// One item (or a repetition operator applied to the last one); true for a
// repetition operator.
util::Result<bool> RegexParser::parse_item(std::vector<Node>& seq, bool last_was_repeat) {
  const char c = m_re[m_pos];
  Node node;
  switch (c) {
  case '(': {
    ++m_pos;
    MASON_TRY_ASSIGN(auto inner, parse_alternation(1));
    seq.push_back(std::move(inner));
    return false;
  }
  case '*':
  case '+':
  case '?': {
    const int min = c == '+' ? 1 : 0;
    const int max = c == '?' ? 1 : -1;
    MASON_TRY(repeat(seq, last_was_repeat, min, max, 1));
    return true;
  }
  case '{': {
    int min = 0;
    int max = 0;
    std::size_t size = 0;
    if (!parse_repeat_range(min, max, size)) break; // a literal '{'
    if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
      return error("invalid repeat count " + std::string(m_re.substr(m_pos, size)));
    MASON_TRY(repeat(seq, last_was_repeat, min, max, size));
    return true;
  }
  case '^':
  case '$':
  case '.':
    ++m_pos;
    node.kind = c == '^' ? Node::Kind::begin_text
                         : (c == '$' ? Node::Kind::end_text : Node::Kind::any_not_nl);
    seq.push_back(std::move(node));
    return false;
  case '[': {
    MASON_TRY_ASSIGN(auto cls, parse_class());
    seq.push_back(std::move(cls));
    return false;
  }
  case '\\': {
    MASON_TRY_ASSIGN(auto esc, parse_backslash());
    seq.push_back(std::move(esc));
    return false;
  }
  default: break;
  }
  node.kind = Node::Kind::rune;
  node.rune = next_rune();
  seq.push_back(std::move(node));
  return false;
}

// "{n}", "{n,}" or "{n,m}" at the current position (Go's parseRepeat): the
// bounds (-1 for a number too large, max -1 for no upper bound) and the
// operator's length; false when it is not one, and '{' is then a literal.
bool RegexParser::parse_repeat_range(int& min, int& max, std::size_t& size) const {
  std::size_t i = m_pos + 1;
  auto number = [&](int& out) {
    const std::size_t start = i;
    if (i >= m_re.size() || m_re[i] < '0' || m_re[i] > '9') return false;
    if (m_re[i] == '0' && i + 1 < m_re.size() && m_re[i + 1] >= '0' && m_re[i + 1] <= '9')
      return false; // no leading zeros
    out = 0;
    for (; i < m_re.size() && m_re[i] >= '0' && m_re[i] <= '9'; ++i)
      if (out >= 0) out = out >= 100000000 ? -1 : out * 10 + (m_re[i] - '0');
    return i > start;
  };
  if (!number(min)) return false;
  if (i >= m_re.size()) return false;
  if (m_re[i] != ',') {
    max = min;
  } else {
    ++i;
    if (i >= m_re.size()) return false;
    if (m_re[i] == '}') {
      max = -1;
    } else {
      if (!number(max)) return false;
      if (max < 0) min = -1;
    }
  }
  if (i >= m_re.size() || m_re[i] != '}') return false;
  size = i + 1 - m_pos;
  return true;
}

// A repetition operator of op_size bytes (optionally followed by '?', Go's
// non-greedy marker, which does not change what matches) applied to the
// last item of seq.
util::Result<void> RegexParser::repeat(std::vector<Node>& seq, bool last_was_repeat, int min,
                                       int max, std::size_t op_size) {
  const std::string op(m_re.substr(m_pos, op_size));
  if (last_was_repeat) return error("invalid nested repetition operator " + op);
  if (seq.empty()) return error("missing argument to repetition operator " + op);
  m_pos += op_size;
  if (!at_end() && m_re[m_pos] == '?') ++m_pos;
  Node wrapper;
  wrapper.kind = Node::Kind::repeat;
  wrapper.min = min;
  wrapper.max = max;
  wrapper.subs.push_back(std::move(seq.back()));
  seq.back() = std::move(wrapper);
  return {};
}

// A backslash outside brackets: an assertion, a Perl class or one rune.
util::Result<Node> RegexParser::parse_backslash() {
  Node node;
  const std::string_view t = rest();
  if (t.size() >= 2) {
    switch (t[1]) {
    case 'A': node.kind = Node::Kind::begin_text; break;
    case 'z': node.kind = Node::Kind::end_text; break;
    case 'b': node.kind = Node::Kind::word_boundary; break;
    case 'B': node.kind = Node::Kind::not_word_boundary; break;
    case 'C': return error("invalid escape sequence \\C");
    case 'Q': return unsupported("\\Q");
    case 'p':
    case 'P': return unsupported(std::string("\\") + t[1]);
    default: break;
    }
    if (node.kind != Node::Kind::group) {
      m_pos += 2;
      return node;
    }
  }
  if (add_perl_class(node.set, t)) {
    m_pos += 2;
    normalize(node.set);
    node.kind = Node::Kind::set;
    return node;
  }
  MASON_TRY_ASSIGN(auto r, parse_escape());
  node.kind = Node::Kind::rune;
  node.rune = r;
  return node;
}

// One escaped rune (Go's parseEscape): punctuation stands for itself; octal
// "\0", "\012", "\12"; hex "\x41", "\x{263a}"; "\a\f\n\r\t\v".
util::Result<char32_t> RegexParser::parse_escape() {
  const std::size_t start = m_pos;
  ++m_pos;
  if (at_end()) return error("trailing backslash at end of expression");
  const char32_t c = next_rune();
  auto invalid = [&] {
    return error("invalid escape sequence " + std::string(m_re.substr(start, m_pos - start)));
  };
  if (c < 0x80 && !is_ascii_alnum(c)) return c;
  if (c >= U'0' && c <= U'7') {
    // A single non-zero digit would be a back reference: not supported.
    if (c != U'0' && (at_end() || !is_octal(m_re[m_pos]))) return invalid();
    char32_t r = c - U'0';
    for (int i = 1; i < 3 && !at_end() && is_octal(m_re[m_pos]); ++i)
      r = r * 8 + static_cast<char32_t>(m_re[m_pos++] - '0');
    return r;
  }
  switch (c) {
  case U'a': return U'\a';
  case U'f': return U'\f';
  case U'n': return U'\n';
  case U'r': return U'\r';
  case U't': return U'\t';
  case U'v': return U'\v';
  case U'x': break;
  default: return invalid();
  }
  if (at_end()) return invalid();
  const char32_t first = next_rune();
  if (first == U'{') {
    char32_t r = 0;
    for (int digits = 0;; ++digits) {
      if (at_end()) return invalid();
      const char32_t d = next_rune();
      if (d == U'}') {
        if (digits == 0) return invalid();
        return r;
      }
      const int v = hex_value(d);
      if (v < 0) return invalid();
      r = r * 16 + static_cast<char32_t>(v);
      if (r > k_max_rune) return invalid();
    }
  }
  const int hi = hex_value(first);
  const int lo = at_end() ? -1 : hex_value(next_rune());
  if (hi < 0 || lo < 0) return invalid();
  return static_cast<char32_t>(hi * 16 + lo);
}

// "[...]" with Go's rules: '^' negates; ']' or '-' right after the '[' are
// literal; '-' elsewhere is a range only between two items; POSIX
// "[:alpha:]", Perl "\d" and escapes inside.
util::Result<Node> RegexParser::parse_class() {
  const std::size_t start = m_pos;
  ++m_pos;
  bool negated = false;
  if (!at_end() && m_re[m_pos] == '^') {
    negated = true;
    ++m_pos;
  }
  Node node;
  node.kind = Node::Kind::set;
  RuneSet& set = node.set;
  for (bool first = true; at_end() || m_re[m_pos] != ']' || first; first = false) {
    if (at_end()) return error("missing closing ]: " + std::string(m_re.substr(start)));
    MASON_TRY_ASSIGN(auto named, parse_named_class(set));
    if (named) continue;
    const std::string_view t = rest();
    if (t.size() >= 2 && t[0] == '\\' && (t[1] == 'p' || t[1] == 'P'))
      return unsupported(std::string("\\") + t[1]);
    if (add_perl_class(set, t)) {
      m_pos += 2;
      continue;
    }
    const std::size_t range_start = m_pos;
    MASON_TRY_ASSIGN(auto lo, parse_class_char(start));
    char32_t hi = lo;
    if (m_re.size() - m_pos >= 2 && m_re[m_pos] == '-' && m_re[m_pos + 1] != ']') {
      ++m_pos;
      MASON_TRY_ASSIGN(auto upper, parse_class_char(start));
      hi = upper;
      if (hi < lo)
        return error("invalid character class range " +
                     std::string(m_re.substr(range_start, m_pos - range_start)));
    }
    set.push_back({lo, hi});
  }
  ++m_pos; // ']'
  if (negated) set = complement(std::move(set));
  normalize(set);
  return node;
}

// "[:name:]" or "[:^name:]" at the current position: adds it, true. Like
// Go, the closing ":]" is looked for in all the remaining text, and a name
// that is not a class is an error.
util::Result<bool> RegexParser::parse_named_class(RuneSet& set) {
  const std::string_view t = rest();
  if (t.size() <= 2 || t[0] != '[' || t[1] != ':') return false;
  const std::size_t close = t.find(":]", 2);
  if (close == std::string_view::npos) return false;
  const std::string_view whole = t.substr(0, close + 2);
  std::string_view name = t.substr(2, close - 2);
  const bool negated = name.starts_with('^');
  if (negated) name.remove_prefix(1);
  const NamedClass* cls = find_class(k_posix_classes, name);
  if (cls == nullptr) return error("invalid character class range " + std::string(whole));
  add_class(set, *cls, negated);
  m_pos += close + 2;
  return true;
}

util::Result<char32_t> RegexParser::parse_class_char(std::size_t class_start) {
  if (at_end()) return error("missing closing ]: " + std::string(m_re.substr(class_start)));
  if (m_re[m_pos] == '\\') return parse_escape();
  return next_rune();
}

// ---------------------------------------------------------------------------
// NFA program and its matcher.

enum class Op : std::uint8_t {
  rune,
  set,
  any_not_nl,
  begin_text,
  end_text,
  word_boundary,
  not_word_boundary,
  split,
  jump,
  match,
};

struct Inst {
  Op op = Op::match;
  char32_t rune = 0; // Op::rune
  std::size_t x = 0; // Op::set: set index; Op::split/jump: target
  std::size_t y = 0; // Op::split: second target
};

struct Program {
  std::vector<Inst> insts;
  std::vector<RuneSet> sets;
  bool anchored = false; // starts with '^': only a match from 0 is possible
  // Bytes every matching text starts / ends with (a cheap rejection test:
  // "**/*.log" needs ".log" at the end).
  std::string required_prefix;
  std::string required_suffix;
};

void emit(const Node& node, Program& prog);
void emit_repeat(const Node& node, Program& prog);

void emit_all(const std::vector<Node>& nodes, Program& prog) {
  for (const Node& n : nodes) emit(n, prog);
}

// Thompson construction; every instruction but split/jump/match continues
// at the next one.
void emit(const Node& node, Program& prog) {
  auto& insts = prog.insts;
  auto simple = [&](Op op) { insts.push_back(Inst{op, 0, 0, 0}); };
  switch (node.kind) {
  case Node::Kind::rune: insts.push_back(Inst{Op::rune, node.rune, 0, 0}); break;
  case Node::Kind::set:
    prog.sets.push_back(node.set);
    insts.push_back(Inst{Op::set, 0, prog.sets.size() - 1, 0});
    break;
  case Node::Kind::any_not_nl: simple(Op::any_not_nl); break;
  case Node::Kind::begin_text: simple(Op::begin_text); break;
  case Node::Kind::end_text: simple(Op::end_text); break;
  case Node::Kind::word_boundary: simple(Op::word_boundary); break;
  case Node::Kind::not_word_boundary: simple(Op::not_word_boundary); break;
  case Node::Kind::group: emit_all(node.subs, prog); break;
  case Node::Kind::alternate: {
    // split L1, next; L1: alt1; jump end; next: split L2, ...; last alt
    std::vector<std::size_t> jumps;
    for (std::size_t i = 0; i < node.subs.size(); ++i) {
      const bool last = i + 1 == node.subs.size();
      const std::size_t fork = insts.size();
      if (!last) simple(Op::split);
      emit(node.subs[i], prog);
      if (last) break;
      jumps.push_back(insts.size());
      simple(Op::jump);
      insts[fork].x = fork + 1;
      insts[fork].y = insts.size();
    }
    for (const std::size_t j : jumps) insts[j].x = insts.size();
    break;
  }
  case Node::Kind::repeat: emit_repeat(node, prog); break;
  }
}

// x{min,max}: min copies of x, then x* (no upper bound) or max-min x?.
void emit_repeat(const Node& node, Program& prog) {
  auto& insts = prog.insts;
  const Node& sub = node.subs.front();
  for (int i = 0; i < node.min; ++i) emit(sub, prog);
  if (node.max < 0) {
    const std::size_t loop = insts.size();
    insts.push_back(Inst{Op::split, 0, 0, 0});
    emit(sub, prog);
    insts.push_back(Inst{Op::jump, 0, loop, 0});
    insts[loop].x = loop + 1;
    insts[loop].y = insts.size();
    return;
  }
  for (int i = node.min; i < node.max; ++i) {
    const std::size_t fork = insts.size();
    insts.push_back(Inst{Op::split, 0, 0, 0});
    emit(sub, prog);
    insts[fork].x = fork + 1;
    insts[fork].y = insts.size();
  }
}

bool is_word_byte(char c) { return c == '_' || is_ascii_alnum(static_cast<unsigned char>(c)); }

enum class RunMode {
  search, // does the program match somewhere in the text (Go's MatchString;
          // the rewrite's '^' and '$' usually anchor it at both ends)
  prefix, // the text is a proper prefix of the subject: could some longer
          // subject match? (conservative: may say yes in vain)
};

struct Scratch {
  std::vector<std::uint64_t> visited;
  std::vector<std::pair<std::size_t, std::size_t>> stack;
};

// Backtracking over (instruction, byte position) with each pair explored
// once. Runes are decoded like Go's regexp: an invalid byte is one U+FFFD.
// Unless anchored, a match may start at any rune boundary.
bool run(const Program& prog, std::string_view text, RunMode mode) {
  thread_local Scratch scratch;
  const std::size_t positions = text.size() + 1;
  scratch.visited.assign((prog.insts.size() * positions + 63) / 64, 0);
  auto& stack = scratch.stack;
  stack.clear();
  if (!prog.anchored) {
    std::vector<std::size_t> starts;
    for (std::size_t p = 0; p < text.size(); p += util::decode_rune(text, p).width)
      starts.push_back(p);
    stack.push_back({0, text.size()});
    for (auto it = starts.rbegin(); it != starts.rend(); ++it) stack.push_back({0, *it});
  } else {
    stack.push_back({0, 0});
  }
  while (!stack.empty()) {
    auto [pc, pos] = stack.back();
    stack.pop_back();
    for (bool alive = true; alive;) {
      const std::size_t bit = pc * positions + pos;
      if ((scratch.visited[bit / 64] >> (bit % 64)) & 1U) break;
      scratch.visited[bit / 64] |= std::uint64_t{1} << (bit % 64);
      const Inst& in = prog.insts[pc];
      const bool at_end = pos == text.size();
      switch (in.op) {
      case Op::match: return true;
      case Op::rune:
      case Op::set:
      case Op::any_not_nl: {
        if (at_end) {
          if (mode == RunMode::prefix) return true;
          alive = false;
          break;
        }
        const auto byte = static_cast<unsigned char>(text[pos]);
        const auto d =
            byte < 0x80 ? util::DecodedRune{byte, 1, true} : util::decode_rune(text, pos);
        alive = in.op == Op::rune  ? d.rune == in.rune
                : in.op == Op::set ? contains(prog.sets[in.x], d.rune)
                                   : d.rune != U'\n';
        pos += d.width;
        ++pc;
        break;
      }
      case Op::begin_text:
        alive = pos == 0;
        ++pc;
        break;
      case Op::end_text:
        alive = mode == RunMode::search && at_end;
        ++pc;
        break;
      case Op::word_boundary:
      case Op::not_word_boundary: {
        if (mode == RunMode::prefix && at_end) {
          ++pc; // the next rune is unknown: assume the assertion holds
          break;
        }
        const bool before = pos > 0 && is_word_byte(text[pos - 1]);
        const bool after = !at_end && is_word_byte(text[pos]);
        alive = (before != after) == (in.op == Op::word_boundary);
        ++pc;
        break;
      }
      case Op::split:
        stack.push_back({in.y, pos});
        pc = in.x;
        break;
      case Op::jump: pc = in.x; break;
      }
    }
  }
  return false;
}

// Finds the literal runs every match must have: right after a leading '^'
// (execution falls straight through it from the start) and right before a
// final '$' (when no branch jumps into the run past its first instruction,
// nor to the '$' or the end). U+FFFD is left out, as it also matches an
// invalid byte.
void find_required_literals(Program& prog) {
  const auto& insts = prog.insts;
  std::vector<bool> target(insts.size(), false);
  for (const Inst& in : insts) {
    if (in.op == Op::split) target[in.y] = true;
    if (in.op == Op::split || in.op == Op::jump) target[in.x] = true;
  }
  auto literal = [&](std::size_t i) {
    return insts[i].op == Op::rune && insts[i].rune != util::k_replacement_char;
  };
  if (prog.anchored) {
    for (std::size_t i = 1; i < insts.size() && literal(i); ++i)
      util::append_rune(prog.required_prefix, insts[i].rune);
  }
  const std::size_t end = insts.size() - 1; // the match instruction
  if (end >= 1 && insts[end - 1].op == Op::end_text && !target[end] && !target[end - 1]) {
    std::size_t first = end - 1; // the run is [first, end - 1)
    while (first > 0 && literal(first - 1)) {
      --first;
      if (target[first]) break; // entered here: the run starts here
    }
    for (std::size_t k = first; k + 1 < end; ++k)
      util::append_rune(prog.required_suffix, insts[k].rune);
  }
}

// ---------------------------------------------------------------------------
// One compiled pattern.

struct CompiledPattern {
  std::string text;       // cleaned, without the '!'
  bool exception = false; // "!pattern"
  MatchKind kind = MatchKind::exact;
  Program program; // MatchKind::program

  // The reference's Pattern.match: the pattern against this exact path.
  bool matches(std::string_view path) const {
    switch (kind) {
    case MatchKind::exact: return path == text;
    case MatchKind::prefix:
      return path.starts_with(std::string_view(text).substr(0, text.size() - 2));
    case MatchKind::suffix: {
      // "**/foo" also matches "foo" itself; "**foo" matches "xfoo".
      const std::string_view suffix = std::string_view(text).substr(2);
      if (path.ends_with(suffix)) return true;
      return suffix.front() == '/' && path == suffix.substr(1);
    }
    case MatchKind::program:
      return path.starts_with(program.required_prefix) && path.ends_with(program.required_suffix) &&
             run(program, path, RunMode::search);
    }
    return false;
  }

  // The pattern against any ancestor of path (for entries with no parent
  // state, as the reference does).
  bool matches_ancestor(std::string_view path) const {
    for (std::size_t k = path.find('/'); k != std::string_view::npos; k = path.find('/', k + 1))
      if (k > 0 && matches(path.substr(0, k))) return true;
    return false;
  }

  // Could the pattern match some path that starts with dir_slash ("dir/")
  // and goes on? False only when it surely cannot.
  bool may_match_below(std::string_view dir_slash) const {
    switch (kind) {
    case MatchKind::exact: return text.size() > dir_slash.size() && text.starts_with(dir_slash);
    case MatchKind::prefix: {
      const std::string_view prefix = std::string_view(text).substr(0, text.size() - 2);
      return prefix.starts_with(dir_slash) || dir_slash.starts_with(prefix);
    }
    case MatchKind::suffix: return true;
    case MatchKind::program: return run(program, dir_slash, RunMode::prefix);
    }
    return true;
  }
};

std::string describe(std::string_view pattern, std::size_t line) {
  std::string out = "pattern \"" + std::string(pattern) + "\"";
  if (line > 0) out += " on line " + std::to_string(line);
  return out;
}

// Compiles one pattern as the reference's New does; nullopt for a blank one.
util::Result<std::optional<CompiledPattern>> compile_pattern(std::string_view raw,
                                                             std::size_t line) {
  const std::string_view trimmed = util::trim_unicode_space(raw);
  if (trimmed.empty()) return std::nullopt;
  CompiledPattern cp;
  cp.text = util::path_clean(trimmed);
  if (cp.text.front() == '!') {
    if (cp.text.size() == 1)
      return make_error(ErrorCode::invalid_argument,
                        "illegal exclusion " + describe(cp.text, line));
    cp.exception = true;
    cp.text.erase(0, 1);
  }
  // The reference checks every pattern with filepath.Match's syntax rules.
  if (auto why = util::glob_syntax_error(cp.text))
    return make_error(ErrorCode::invalid_argument,
                      "invalid " + describe(trimmed, line) + ": syntax error in pattern: " + *why);
  Translation t = translate(cp.text);
  cp.kind = t.kind;
  if (t.kind == MatchKind::program) {
    auto tree = RegexParser(t.regex).parse();
    if (!tree) {
      const util::Error& e = tree.error();
      return make_error(e.code(), "invalid " + describe(trimmed, line) + ": " + e.message());
    }
    emit(*tree, cp.program);
    cp.program.insts.push_back(Inst{Op::match, 0, 0, 0});
    cp.program.anchored = cp.program.insts.front().op == Op::begin_text;
    find_required_literals(cp.program);
  }
  return cp;
}

} // namespace

// ---------------------------------------------------------------------------

util::Result<std::vector<IgnoreRule>> read_dockerignore(std::string_view contents) {
  std::vector<IgnoreRule> rules;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < contents.size()) {
    const std::size_t end = contents.find('\n', pos);
    std::string_view line =
        contents.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? contents.size() : end + 1;
    ++line_no;
    if (line.size() >= k_max_line)
      return make_error(ErrorCode::invalid_argument,
                        "line " + std::to_string(line_no) + " is too long (64 KiB or more)");
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line_no == 1 && line.starts_with(k_utf8_bom)) line.remove_prefix(k_utf8_bom.size());
    if (line.starts_with('#')) continue; // only before trimming
    std::string_view pattern = util::trim_unicode_space(line);
    if (pattern.empty()) continue;
    const bool exception = pattern.front() == '!';
    if (exception) pattern = util::trim_unicode_space(pattern.substr(1));
    std::string cleaned;
    if (!pattern.empty()) {
      cleaned = util::path_clean(pattern);
      if (cleaned.size() > 1 && cleaned.front() == '/') cleaned.erase(0, 1);
    }
    rules.push_back({exception ? "!" + cleaned : cleaned, line_no});
  }
  return rules;
}

struct IgnoreMatcher::Impl {
  std::vector<CompiledPattern> patterns;
  bool has_exceptions = false;
};

IgnoreMatcher::IgnoreMatcher() : m_impl(std::make_shared<const Impl>()) {}

IgnoreMatcher::IgnoreMatcher(std::shared_ptr<const Impl> impl) : m_impl(std::move(impl)) {}

util::Result<IgnoreMatcher> IgnoreMatcher::create(std::span<const IgnoreRule> rules) {
  auto impl = std::make_shared<Impl>();
  for (const IgnoreRule& rule : rules) {
    MASON_TRY_ASSIGN(auto compiled, compile_pattern(rule.pattern, rule.line));
    if (!compiled) continue;
    impl->has_exceptions = impl->has_exceptions || compiled->exception;
    impl->patterns.push_back(std::move(*compiled));
  }
  return IgnoreMatcher(std::move(impl));
}

util::Result<IgnoreMatcher> IgnoreMatcher::create(const std::vector<std::string>& patterns) {
  std::vector<IgnoreRule> rules;
  rules.reserve(patterns.size());
  for (const auto& p : patterns) rules.push_back({p, 0});
  return create(std::span<const IgnoreRule>(rules));
}

util::Result<IgnoreMatcher> IgnoreMatcher::from_dockerignore(std::string_view contents,
                                                             std::string_view file_name) {
  const std::string context = "parse " + std::string(file_name);
  auto rules = read_dockerignore(contents);
  if (!rules) return std::unexpected(std::move(rules.error()).with_context(context));
  auto matcher = create(std::span<const IgnoreRule>(*rules));
  if (!matcher) return std::unexpected(std::move(matcher.error()).with_context(context));
  return matcher;
}

bool IgnoreMatcher::empty() const { return m_impl->patterns.empty(); }

std::size_t IgnoreMatcher::size() const { return m_impl->patterns.size(); }

bool IgnoreMatcher::has_exceptions() const { return m_impl->has_exceptions; }

bool IgnoreMatcher::excluded(std::string_view rel_path) const {
  if (empty()) return false;
  DirState state;
  for (std::size_t k = rel_path.find('/'); k != std::string_view::npos;
       k = rel_path.find('/', k + 1)) {
    if (k == 0) continue;
    DirState next;
    excluded_given_parent(rel_path.substr(0, k), state, &next);
    state = std::move(next);
  }
  return excluded_given_parent(rel_path, state);
}

bool IgnoreMatcher::excluded_given_parent(std::string_view rel_path, const DirState& parent,
                                          DirState* state_out) const {
  const auto& patterns = m_impl->patterns;
  if (rel_path.empty() || rel_path == ".") {
    // The root: never excluded; its entries start with nothing known.
    if (state_out != nullptr) state_out->m_matched.clear();
    return false;
  }
  const bool known_parent = parent.m_matched.size() == patterns.size() && !patterns.empty();
  if (state_out != nullptr) state_out->m_matched.assign(patterns.size(), false);
  bool excluded = false;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const CompiledPattern& p = patterns[i];
    bool match = known_parent && parent.m_matched[i];
    if (!match) {
      // Trying this pattern could not change the decision: skip it, and do
      // not record it for the children (they will try it themselves).
      if (p.exception != excluded) continue;
      match = p.matches(rel_path) || (!known_parent && p.matches_ancestor(rel_path));
    }
    if (state_out != nullptr) state_out->m_matched[i] = match;
    if (match) excluded = !p.exception;
  }
  return excluded;
}

bool IgnoreMatcher::may_reinclude_under(std::string_view dir) const {
  if (!m_impl->has_exceptions) return false;
  const std::string dir_slash = std::string(dir) + '/';
  return std::ranges::any_of(m_impl->patterns, [&](const CompiledPattern& p) {
    return p.exception && p.may_match_below(dir_slash);
  });
}

std::optional<std::string>
choose_dockerignore(std::string_view dockerfile_path, std::string_view context_dir,
                    const std::function<bool(const std::string&)>& is_file) {
  if (!dockerfile_path.empty()) {
    std::string beside = std::string(dockerfile_path) + ".dockerignore";
    if (is_file(beside)) return beside;
  }
  std::string root(context_dir);
  if (!root.empty() && !root.ends_with('/')) root += '/';
  root += ".dockerignore";
  if (is_file(root)) return root;
  return std::nullopt;
}

} // namespace mason::frontend
