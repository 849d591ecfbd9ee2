// Word expansion with the semantics of BuildKit's shell lexer
// (frontend/dockerfile/shell/lex.go at moby/buildkit 73ed6825).
//
// Algorithm. The input is decoded into code points; a byte that is not
// part of valid UTF-8 becomes a private "raw byte" unit that is written
// back unchanged. One Expander reads the units once, left to right, by
// recursive descent:
//   * process_until() is the main loop. It copies ordinary characters,
//     applies the escape character, and dispatches on `$`, `<<` and the two
//     quote characters. It stops at the end of the input or at a stop
//     character (`}` or `/` while reading the operand of a ${...} form) and
//     produces two things at once: the expanded string and the word list.
//     In the word list, white space that is unquoted in the input or that
//     comes out of an unquoted $-expansion separates words.
//   * ${name<op>operand} reads its operand with a nested process_until()
//     (which has its own word list, so unlike upstream it never disturbs
//     the enclosing word), then applies the operator to the variable.
//   * The patterns of # ## % %% / // are compiled into a tiny glob (literal,
//     `?`, `*`) and matched by simulating the set of reachable positions.
//     Upstream translates them to Go regular expressions; the match chosen
//     here is the one Go's leftmost-first engine returns for those
//     expressions: the leftmost start, then the shortest (lazy `*`) or the
//     longest (greedy `*`) end, with `*` and `?` never matching a newline.
//     Suffix trimming reverses pattern and value and trims a prefix, as
//     upstream does.
#include "mason/frontend/dockerfile/shell.h"

#include "mason/util/utf8.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

namespace mason::frontend::dockerfile {

namespace {

// ---------------------------------------------------------------------------
// Code points

// Returned by Scanner at the end of the input; never a valid unit.
constexpr char32_t k_eof = 0xFFFFFFFFu;
// Invalid UTF-8 byte b is represented by the unit k_raw_byte + b.
constexpr char32_t k_raw_byte = 0x110000u;
constexpr char32_t k_bom = 0xFEFFu;
// The pattern escape is always a backslash, whatever the lexer's escape.
constexpr char32_t k_pattern_escape = U'\\';

using Units = std::vector<char32_t>;

bool is_raw_byte(char32_t unit) { return unit >= k_raw_byte && unit < k_raw_byte + 0x100u; }

struct Decoded {
  char32_t unit;
  std::size_t length;
};

// Decodes one code point at `pos` with Go's validity rules (no overlong
// forms, no surrogates, nothing above U+10FFFF). An invalid sequence yields
// a raw-byte unit of length 1, so decoding always makes progress.
Decoded decode_one(std::string_view text, std::size_t pos) {
  const auto d = util::decode_rune(text, pos);
  if (!d.valid) return {k_raw_byte + static_cast<unsigned char>(text[pos]), 1};
  return {d.rune, d.width};
}

Units decode(std::string_view text) {
  Units units;
  units.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const Decoded d = decode_one(text, pos);
    units.push_back(d.unit);
    pos += d.length;
  }
  return units;
}

void append_unit(std::string& out, char32_t unit) {
  if (unit == k_eof) return;
  if (is_raw_byte(unit)) {
    out += static_cast<char>(static_cast<unsigned char>(unit - k_raw_byte));
    return;
  }
  util::append_rune(out, unit);
}

std::string encode(std::span<const char32_t> units) {
  std::string out;
  out.reserve(units.size());
  for (char32_t unit : units) append_unit(out, unit);
  return out;
}

std::string encode_unit(char32_t unit) {
  std::string out;
  append_unit(out, unit);
  return out;
}

// ---------------------------------------------------------------------------
// Character classes, as Go's unicode package defines them (tables at the
// end of this file).

bool is_letter(char32_t unit);
bool is_digit(char32_t unit);

bool is_space(char32_t unit) { return util::is_unicode_space(unit); }

// POSIX special parameters; each is a complete one-character name.
bool is_special_param(char32_t unit) {
  switch (unit) {
  case U'@':
  case U'*':
  case U'#':
  case U'?':
  case U'-':
  case U'$':
  case U'!':
  case U'0': return true;
  default: return false;
  }
}

bool is_name_char(char32_t unit) { return is_letter(unit) || is_digit(unit) || unit == U'_'; }

// ---------------------------------------------------------------------------
// Errors

std::unexpected<util::Error> fail(std::string message) {
  return util::make_error(util::ErrorCode::invalid_argument, std::move(message));
}

const char* const k_missing_brace = "syntax error: missing '}'";

std::unexpected<util::Error> unsupported_modifier(std::string_view op_text) {
  return fail("unsupported modifier (" + std::string(op_text) + ") in substitution");
}

// Characters outside ASCII that Go's %q writes as \u escapes because they
// are invisible: C1 controls, Unicode blanks, and common format characters.
// (Go consults the full Unicode tables; this covers what is likely to occur.)
bool is_invisible(char32_t unit) {
  return unit <= 0x9Fu || unit == 0xADu || is_space(unit) || (unit >= 0x200Bu && unit <= 0x200Fu) ||
         (unit >= 0x202Au && unit <= 0x202Eu) || (unit >= 0x2060u && unit <= 0x2064u) ||
         unit == k_bom;
}

void append_hex(std::string& out, char32_t value, int digits) {
  static constexpr char k_hex[] = "0123456789abcdef";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += k_hex[(value >> shift) & 0xFu];
}

// Quotes `text` for an error message the way Go's %q does: backslash
// escapes for quotes, backslashes and control characters, \xNN for bytes
// that are not UTF-8, \uNNNN for invisible characters, the rest as is.
std::string quote_for_message(std::string_view text) {
  std::string out = "\"";
  for (std::size_t pos = 0; pos < text.size();) {
    const Decoded d = decode_one(text, pos);
    const char32_t u = d.unit;
    switch (u) {
    case U'"': out += "\\\""; break;
    case U'\\': out += "\\\\"; break;
    case U'\a': out += "\\a"; break;
    case U'\b': out += "\\b"; break;
    case U'\f': out += "\\f"; break;
    case U'\n': out += "\\n"; break;
    case U'\r': out += "\\r"; break;
    case U'\t': out += "\\t"; break;
    case U'\v': out += "\\v"; break;
    default:
      if (u < 0x20u || u == 0x7Fu || is_raw_byte(u)) {
        out += "\\x";
        append_hex(out, is_raw_byte(u) ? u - k_raw_byte : u, 2);
      } else if (u >= 0x80u && is_invisible(u)) {
        out += u < 0x10000u ? "\\u" : "\\U";
        append_hex(out, u, u < 0x10000u ? 4 : 8);
      } else {
        out.append(text.substr(pos, d.length));
      }
    }
    pos += d.length;
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------
// Word splitting

// Accumulates the word list. A word is emitted when unquoted white space
// follows non-empty text, so an empty quoted string ("" or '') does not make
// a word by itself: `a "" b` gives a, b (upstream behaviour, unlike sh).
class WordSplitter {
public:
  // A character from unquoted input or from an unquoted $-expansion.
  void add_char(char32_t unit) {
    if (!is_space(unit)) {
      add_raw_char(unit);
    } else if (!m_current.empty()) {
      m_words.push_back(std::move(m_current));
      m_current.clear();
    }
  }
  // A character that never splits (escaped).
  void add_raw_char(char32_t unit) { append_unit(m_current, unit); }
  // The value of a $-expansion: subject to splitting.
  void add_expansion(std::string_view text) {
    for (char32_t unit : decode(text)) add_char(unit);
  }
  // Quoted text or a heredoc marker: never split.
  void add_raw(std::string_view text) { m_current += text; }

  std::vector<std::string> finish() {
    if (!m_current.empty()) m_words.push_back(std::move(m_current));
    m_current.clear();
    return std::move(m_words);
  }

private:
  std::string m_current;
  std::vector<std::string> m_words;
};

// ---------------------------------------------------------------------------
// Glob patterns

struct PatternToken {
  enum class Kind { literal, any, star };
  Kind kind;
  char32_t unit = 0;
};

// A compiled pattern: literals, `?` (one character) and `*` (any run).
// Neither `?` nor `*` matches a newline, as `.` in Go's regexp does not.
class Pattern {
public:
  // Contract: `pattern` is the expanded operand of # % or /. A backslash
  // makes the next `*`, `?` or backslash literal; before `}` or `/` it is
  // dropped (it only protected the character from ending the operand);
  // before anything else it is an error. `[...]` classes are not supported.
  static util::Result<Pattern> compile(std::span<const char32_t> pattern) {
    Pattern compiled;
    std::size_t i = 0;
    // Upstream reads the pattern with text/scanner, which skips a BOM that
    // opens its input.
    if (!pattern.empty() && pattern.front() == k_bom) i = 1;
    while (i < pattern.size()) {
      const char32_t unit = pattern[i++];
      if (unit == U'*') {
        compiled.m_tokens.push_back({PatternToken::Kind::star});
      } else if (unit == U'?') {
        compiled.m_tokens.push_back({PatternToken::Kind::any});
      } else if (unit != k_pattern_escape) {
        compiled.m_tokens.push_back({PatternToken::Kind::literal, unit});
      } else if (i < pattern.size() && (pattern[i] == U'}' || pattern[i] == U'/')) {
        continue;
      } else if (i == pattern.size()) {
        return fail("invalid escape '\\' at end of pattern");
      } else {
        const char32_t escaped = pattern[i++];
        if (escaped != U'*' && escaped != U'?' && escaped != k_pattern_escape)
          return fail("invalid escape '\\" + encode_unit(escaped) + "'");
        compiled.m_tokens.push_back({PatternToken::Kind::literal, escaped});
      }
    }
    return compiled;
  }

  // End of the match that starts exactly at `start`: the shortest one, or
  // the longest when `longest`; nullopt when none starts there. Simulates
  // the pattern on the sorted set of positions it can have reached so far.
  std::optional<std::size_t> match_at(std::span<const char32_t> subject, std::size_t start,
                                      bool longest) const {
    std::vector<std::size_t> reach{start};
    std::vector<std::size_t> next;
    for (const PatternToken& token : m_tokens) {
      next.clear();
      for (std::size_t from : reach) {
        if (token.kind != PatternToken::Kind::star) {
          if (from < subject.size() && matches(token, subject[from])) next.push_back(from + 1);
        } else if (next.empty() || from > next.back()) {
          // `*` extends up to the end or to the next newline; a later start
          // inside a run already added adds nothing new.
          std::size_t p = from;
          next.push_back(p);
          while (p < subject.size() && subject[p] != U'\n') next.push_back(++p);
        }
      }
      if (next.empty()) return std::nullopt;
      reach.swap(next);
    }
    return longest ? reach.back() : reach.front();
  }

  struct Span {
    std::size_t begin;
    std::size_t end;
  };

  // The leftmost longest match starting at or after `from`.
  std::optional<Span> find(std::span<const char32_t> subject, std::size_t from) const {
    for (std::size_t start = from; start <= subject.size(); ++start)
      if (auto end = match_at(subject, start, true)) return Span{start, *end};
    return std::nullopt;
  }

private:
  static bool matches(const PatternToken& token, char32_t unit) {
    if (token.kind == PatternToken::Kind::any) return unit != U'\n';
    return token.unit == unit;
  }

  std::vector<PatternToken> m_tokens;
};

std::unexpected<util::Error> invalid_pattern(std::string_view pattern, const util::Error& why) {
  return fail("invalid pattern (" + std::string(pattern) + ") in substitution: " + why.message());
}

// Reverses a pattern but keeps each backslash in front of the character it
// escapes (`a\*c` becomes `c\*a`), so that a suffix can be found as a prefix
// of the reversed value.
Units reverse_pattern(const Units& pattern) {
  Units out(pattern.size());
  const std::size_t n = pattern.size();
  for (std::size_t i = 0; i < n;) {
    const std::size_t target = n - 1 - i;
    if (pattern[i] == k_pattern_escape && i + 1 < n) {
      out[target - 1] = pattern[i];
      out[target] = pattern[i + 1];
      i += 2;
    } else {
      out[target] = pattern[i];
      ++i;
    }
  }
  return out;
}

// ${v#pat} ${v##pat} ${v%pat} ${v%%pat}: `operand` is the expanded text
// after the operator.
util::Result<std::string> trim(char32_t op, std::string_view operand, std::string_view value) {
  // The operator is doubled (## %%) when the *expanded* operand starts with
  // it again; upstream decides after expansion, so ${v#$x} with x="#a" is
  // the greedy ${v##a}.
  const bool longest = !operand.empty() && static_cast<unsigned char>(operand.front()) == op;
  if (longest) operand.remove_prefix(1);
  const Units pattern = decode(operand);
  Units subject = decode(value);
  if (op == U'#') {
    auto compiled = Pattern::compile(pattern);
    if (!compiled) return invalid_pattern(operand, compiled.error());
    const std::size_t length = compiled->match_at(subject, 0, longest).value_or(0);
    return encode(std::span(subject).subspan(length));
  }
  // A suffix of the value is a prefix of the reversed value. Upstream
  // compiles only the reversed pattern, so that decides validity; the
  // message describes the pattern as written when that is invalid too.
  auto compiled = Pattern::compile(reverse_pattern(pattern));
  if (!compiled) {
    auto forward = Pattern::compile(pattern);
    return invalid_pattern(operand, forward ? compiled.error() : forward.error());
  }
  std::reverse(subject.begin(), subject.end());
  const std::size_t length = compiled->match_at(subject, 0, longest).value_or(0);
  subject.erase(subject.begin(), subject.begin() + static_cast<std::ptrdiff_t>(length));
  std::reverse(subject.begin(), subject.end());
  return encode(subject);
}

// One reference ($0, ${0}, $name, ${name}) at the start of `text`, as Go's
// regexp.Expand parses it; see expand_template.
struct TemplateRef {
  bool whole_match; // group 0; every other group or name expands to nothing
  std::string_view rest;
};

std::optional<TemplateRef> parse_template_ref(std::string_view text) {
  const bool brace = !text.empty() && text.front() == '{';
  if (brace) text.remove_prefix(1);
  std::size_t length = 0;
  while (length < text.size()) {
    const Decoded d = decode_one(text, length);
    if (!is_name_char(d.unit)) break;
    length += d.length;
  }
  if (length == 0) return std::nullopt;
  const std::string_view name = text.substr(0, length);
  if (brace) {
    if (length >= text.size() || text[length] != '}') return std::nullopt;
    ++length;
  }
  const bool whole_match = name == "0";
  return TemplateRef{whole_match, text.substr(length)};
}

// Upstream replaces every match with Go's Regexp.ReplaceAllString, which
// treats the replacement as a template: `$$` is a `$`, `$0`/`${0}` is the
// matched text, any other well-formed `$name` is empty (the expression has
// no other groups), and a malformed `$` stays literal. Reproduced here; it
// only matters when a `$` survives lexing (`\$0`, or a variable's value).
std::string expand_template(std::string_view tmpl, std::string_view match) {
  std::string out;
  for (;;) {
    const std::size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl.front() == '$') {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    const auto ref = parse_template_ref(tmpl);
    if (!ref) {
      out += '$';
      continue;
    }
    if (ref->whole_match) out.append(match);
    tmpl = ref->rest;
  }
  out.append(tmpl);
  return out;
}

// ${v/pat/rep}: the first (leftmost longest) match, replaced literally.
std::string replace_first(const Pattern& pattern, const Units& subject,
                          std::string_view replacement) {
  const auto found = pattern.find(subject, 0);
  if (!found) return encode(subject);
  const std::span<const char32_t> all(subject);
  return encode(all.first(found->begin)) + std::string(replacement) +
         encode(all.subspan(found->end));
}

// ${v//pat/rep}: every match, with the scan of Go's ReplaceAllString: after
// an empty match the search moves on by one character, and an empty match
// right after a previous match is not replaced.
// Expansions are bounded so that nested ${v//x/${v//x/...}} cannot grow
// without limit (each level multiplies the length): past this size the
// expansion fails instead of hanging the build.
constexpr std::size_t k_max_expansion = std::size_t{4} << 20;

std::string replace_all(const Pattern& pattern, const Units& subject,
                        std::string_view replacement) {
  const std::span<const char32_t> all(subject);
  std::string out;
  std::size_t last_end = 0;
  std::size_t search = 0;
  while (search <= subject.size()) {
    const auto found = pattern.find(subject, search);
    if (!found) break;
    out += encode(all.subspan(last_end, found->begin - last_end));
    if (found->end > last_end || found->begin == 0) {
      const auto match = all.subspan(found->begin, found->end - found->begin);
      out += expand_template(replacement, encode(match));
      if (out.size() > k_max_expansion) return out; // the caller reports it
    }
    last_end = found->end;
    search = search + 1 > found->end ? search + 1 : found->end;
  }
  out += encode(all.subspan(last_end));
  return out;
}

// ---------------------------------------------------------------------------
// The lexer proper

class Scanner {
public:
  explicit Scanner(Units units) : m_units(std::move(units)) {
    // Go's text/scanner skips a byte order mark that opens the input.
    if (!m_units.empty() && m_units.front() == k_bom) m_pos = 1;
  }
  bool at_end() const { return m_pos >= m_units.size(); }
  char32_t peek() const { return at_end() ? k_eof : m_units[m_pos]; }
  char32_t next() { return at_end() ? k_eof : m_units[m_pos++]; }

private:
  Units m_units;
  std::size_t m_pos = 0;
};

// Sets a flag for the lifetime of a scope.
class FlagOverride {
public:
  FlagOverride(bool& flag, bool value) : m_flag(flag), m_saved(flag) { m_flag = value; }
  ~FlagOverride() { m_flag = m_saved; }
  FlagOverride(const FlagOverride&) = delete;
  FlagOverride& operator=(const FlagOverride&) = delete;

private:
  bool& m_flag;
  bool m_saved;
};

struct Segment {
  std::string text;               // single-string result
  std::vector<std::string> words; // word-list result
};

// One expansion of one input. Holds the read position and the variables
// looked up so far; not shared between calls (Lexer stays immutable).
class Expander {
public:
  Expander(const LexOptions& options, const EnvGetter& env, std::string_view input)
      : m_options(options), m_env(env), m_scan(decode(input)), m_raw_escapes(options.raw_escapes) {}

  util::Result<Segment> run() { return process_until(std::nullopt, m_options.raw_escapes); }

  std::set<std::string>& matched() { return m_matched; }
  std::set<std::string>& unmatched() { return m_unmatched; }

private:
  // Reads up to (and consumes) `stop`, or to the end of the input when
  // there is none; reaching the end while looking for `stop` is an error.
  // `raw_escapes` applies to this text and anything nested in it.
  util::Result<Segment> process_until(std::optional<char32_t> stop, bool raw_escapes);
  // `$`, `<` and (unless quotes are skipped) the quote characters start a
  // construct that read_special() reads; everything else is copy_plain().
  bool is_special(char32_t ch) const;
  util::Result<std::string> read_special(char32_t ch);
  void copy_plain(std::string& text, WordSplitter& words);
  // Like process_until, for the operand of a ${...} form: an error that
  // leaves the input exhausted is reported as `eof_message` instead.
  util::Result<std::string> read_operand(char32_t stop, bool raw_escapes, const char* eof_message);
  util::Result<std::string> single_quoted();
  util::Result<std::string> double_quoted();
  std::string heredoc_marker();
  util::Result<std::string> expand_dollar();
  std::string expand_bare();
  util::Result<std::string> expand_braced();
  util::Result<std::string> apply_modifier(const std::string& name, char32_t op,
                                           bool null_is_unset);
  util::Result<std::string> apply_replace(const std::string& name);
  std::string read_name();
  std::optional<std::string> lookup(const std::string& name);

  const LexOptions& m_options;
  const EnvGetter& m_env;
  Scanner m_scan;
  bool m_raw_escapes;
  std::set<std::string> m_matched;
  std::set<std::string> m_unmatched;
};

util::Result<Segment> Expander::process_until(std::optional<char32_t> stop, bool raw_escapes) {
  const FlagOverride scoped_raw_escapes(m_raw_escapes, raw_escapes);
  Segment out;
  WordSplitter words;
  while (!m_scan.at_end()) {
    const char32_t ch = m_scan.peek();
    if (stop && ch == *stop) {
      m_scan.next();
      out.words = words.finish();
      return out;
    }
    if (!is_special(ch)) {
      copy_plain(out.text, words);
      continue;
    }
    MASON_TRY_ASSIGN(auto piece, read_special(ch));
    out.text += piece;
    // Only expansions are split; quoted text and `<<` markers stay whole.
    if (ch == U'$')
      words.add_expansion(piece);
    else
      words.add_raw(piece);
  }
  if (stop)
    return fail("unexpected end of statement while looking for matching " + encode_unit(*stop));
  out.words = words.finish();
  return out;
}

bool Expander::is_special(char32_t ch) const {
  if (ch == U'$' || ch == U'<') return true;
  return !m_options.skip_process_quotes && (ch == U'\'' || ch == U'"');
}

util::Result<std::string> Expander::read_special(char32_t ch) {
  switch (ch) {
  case U'$': return expand_dollar();
  case U'<': return heredoc_marker();
  case U'\'': return single_quoted();
  default: return double_quoted();
  }
}

// One ordinary character, or the escape character and the character it
// protects (which then never splits a word). The escape itself is dropped
// unless escapes are raw; a final escape character has nothing to protect.
void Expander::copy_plain(std::string& text, WordSplitter& words) {
  char32_t ch = m_scan.next();
  if (ch != m_options.escape) {
    words.add_char(ch);
    append_unit(text, ch);
    return;
  }
  if (m_raw_escapes) {
    words.add_raw_char(ch);
    append_unit(text, ch);
  }
  if (m_scan.at_end()) return;
  ch = m_scan.next();
  words.add_raw_char(ch);
  append_unit(text, ch);
}

util::Result<std::string> Expander::read_operand(char32_t stop, bool raw_escapes,
                                                 const char* eof_message) {
  auto operand = process_until(stop, raw_escapes);
  if (!operand) {
    if (m_scan.at_end()) return fail(eof_message);
    return std::unexpected(std::move(operand.error()));
  }
  return std::move(operand->text);
}

// '...': everything literal up to the next single quote; no escapes.
util::Result<std::string> Expander::single_quoted() {
  std::string out;
  const char32_t open = m_scan.next();
  if (m_options.raw_quotes) append_unit(out, open);
  for (;;) {
    const char32_t ch = m_scan.next();
    if (ch == k_eof)
      return fail("unexpected end of statement while looking for matching single-quote");
    if (ch == U'\'') {
      if (m_options.raw_quotes) append_unit(out, ch);
      return out;
    }
    append_unit(out, ch);
  }
}

// "...": $-expansions happen; the escape character escapes only `"`, `$`
// and itself and is otherwise literal.
util::Result<std::string> Expander::double_quoted() {
  std::string out;
  const char32_t open = m_scan.next();
  if (m_options.raw_quotes) append_unit(out, open);
  for (;;) {
    const char32_t peeked = m_scan.peek();
    if (peeked == k_eof)
      return fail("unexpected end of statement while looking for matching double-quote");
    if (peeked == U'"') {
      m_scan.next();
      if (m_options.raw_quotes) append_unit(out, peeked);
      return out;
    }
    if (peeked == U'$') {
      auto value = expand_dollar();
      if (!value) return value;
      out += *value;
      continue;
    }
    char32_t ch = m_scan.next();
    if (ch == m_options.escape) {
      if (m_raw_escapes) append_unit(out, ch);
      const char32_t following = m_scan.peek();
      if (following == k_eof) continue; // reported as an unclosed quote
      // With raw escapes, an escape character that escapes nothing is
      // written twice (once above, once below). Upstream does this; kept so
      // that raw output (heredoc detection) matches it byte for byte.
      if (following == U'"' || following == U'$' || following == m_options.escape)
        ch = m_scan.next();
    }
    append_unit(out, ch);
  }
}

// `<` is ordinary; `<<` is kept together with the blanks (space, tab, CR)
// that follow it, so that `<< EOF` stays one word for heredoc detection.
std::string Expander::heredoc_marker() {
  m_scan.next();
  if (m_scan.peek() != U'<') return "<";
  m_scan.next();
  std::string out = "<<";
  while (m_scan.peek() == U' ' || m_scan.peek() == U'\t' || m_scan.peek() == U'\r')
    append_unit(out, m_scan.next());
  return out;
}

util::Result<std::string> Expander::expand_dollar() {
  m_scan.next(); // the '$'
  if (m_scan.peek() != U'{') return expand_bare();
  m_scan.next();
  return expand_braced();
}

// $name. A `$` that is not followed by a name is literal (`$.`, final `$`).
std::string Expander::expand_bare() {
  const std::string name = read_name();
  if (name.empty()) return "$";
  auto value = lookup(name);
  if (!value && m_options.skip_unset_env) return "$" + name;
  return value.value_or("");
}

// After `${`.
util::Result<std::string> Expander::expand_braced() {
  switch (m_scan.peek()) {
  case k_eof: return fail(k_missing_brace);
  case U'{':
  case U'}':
  case U':': return fail("syntax error: bad substitution");
  default: break;
  }
  const std::string name = read_name();
  const char32_t op = m_scan.next();
  switch (op) {
  case k_eof:
    // Upstream reports "unsupported modifier (\uFFFD)" here.
    return fail(k_missing_brace);
  case U'}': {
    auto value = lookup(name);
    if (!value && m_options.skip_unset_env) return "${" + name + "}";
    return value.value_or("");
  }
  case U':': return apply_modifier(name, m_scan.next(), true);
  case U'+':
  case U'-':
  case U'?':
  case U'#':
  case U'%': return apply_modifier(name, op, false);
  case U'/': return apply_replace(name);
  default: return unsupported_modifier(encode_unit(op));
  }
}

// ${name op operand} and ${name:op operand}. With the colon, any character
// is accepted as `op` until the operand has been read; only then are the
// unsupported ones rejected (and not at all when skip_unset_env leaves an
// unset reference as written), which is upstream's order of checks.
util::Result<std::string> Expander::apply_modifier(const std::string& name, char32_t op,
                                                   bool null_is_unset) {
  const std::string op_text = (null_is_unset ? ":" : "") + encode_unit(op);
  const bool is_trim = op == U'#' || op == U'%';
  if (null_is_unset && is_trim) return unsupported_modifier(op_text);
  // The operand of - + ? is read with escapes consumed even in raw mode;
  // trim patterns keep them, since the pattern compiler needs them.
  auto operand = read_operand(U'}', is_trim, k_missing_brace);
  if (!operand) return operand;
  const auto value = lookup(name);
  if (!value && m_options.skip_unset_env) return "${" + name + op_text + *operand + "}";
  const bool missing = !value || (null_is_unset && value->empty());
  switch (op) {
  case U'-': return missing ? *operand : *value;
  case U'+': return missing ? std::string() : *operand;
  case U'?':
    if (!value)
      return fail(name + ": " + (operand->empty() ? "is not allowed to be unset" : *operand));
    if (missing)
      return fail(name + ": " + (operand->empty() ? "is not allowed to be empty" : *operand));
    return *value;
  case U'#':
  case U'%': return trim(op, *operand, value.value_or(""));
  default: return unsupported_modifier(op_text);
  }
}

// ${name/pattern/replacement} and ${name//pattern/replacement}.
util::Result<std::string> Expander::apply_replace(const std::string& name) {
  const bool every = m_scan.peek() == U'/';
  if (every) m_scan.next();
  auto pattern = read_operand(U'/', true, "syntax error: missing '/' in ${}");
  if (!pattern) return pattern;
  auto replacement = read_operand(U'}', true, k_missing_brace);
  if (!replacement) return replacement;
  const auto value = lookup(name);
  // Upstream writes a single `/` here for `//` as well.
  if (!value && m_options.skip_unset_env)
    return "${" + name + "/" + *pattern + "/" + *replacement + "}";
  auto compiled = Pattern::compile(decode(*pattern));
  if (!compiled) return invalid_pattern(*pattern, compiled.error());
  const Units subject = decode(value.value_or(""));
  auto out = every ? replace_all(*compiled, subject, *replacement)
                   : replace_first(*compiled, subject, *replacement);
  if (out.size() > k_max_expansion)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "expansion of ${" + name + "//...} is larger than 4 MiB");
  return out;
}

// A variable name: a run of digits (positional parameter), or one special
// parameter character, or a run of letters, digits and `_`. Letters and
// digits are Unicode ones. Empty when none of these follows.
std::string Expander::read_name() {
  std::string name;
  const char32_t first = m_scan.peek();
  if (is_digit(first)) {
    while (is_digit(m_scan.peek())) append_unit(name, m_scan.next());
    return name;
  }
  if (is_special_param(first)) return encode_unit(m_scan.next());
  while (is_name_char(m_scan.peek())) append_unit(name, m_scan.next());
  return name;
}

std::optional<std::string> Expander::lookup(const std::string& name) {
  const auto value = m_env.get(name);
  if (!value) {
    m_unmatched.insert(name);
    return std::nullopt;
  }
  m_matched.insert(name);
  return std::string(*value);
}

util::Error wrap(const util::Error& error, std::string_view word) {
  return util::Error(error.code(),
                     "failed to process " + quote_for_message(word) + ": " + error.message());
}

} // namespace

std::optional<std::string_view> EnvList::get(std::string_view name) const {
  for (const auto& [key, value] : m_items)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

void EnvList::set(std::string_view name, std::string_view value) {
  for (auto& [key, current] : m_items) {
    if (key == name) {
      current = value;
      return;
    }
  }
  m_items.emplace_back(std::string(name), std::string(value));
}

util::Result<ExpandResult> Lexer::process_word(std::string_view word, const EnvGetter& env) const {
  Expander expander(m_options, env, word);
  auto segment = expander.run();
  if (!segment) return std::unexpected(wrap(segment.error(), word));
  ExpandResult out;
  out.result = std::move(segment->text);
  out.words = std::move(segment->words);
  out.matched = std::move(expander.matched());
  out.unmatched = std::move(expander.unmatched());
  return out;
}

util::Result<std::vector<std::string>> Lexer::process_words(std::string_view word,
                                                            const EnvGetter& env) const {
  Expander expander(m_options, env, word);
  auto segment = expander.run();
  if (!segment) return std::unexpected(wrap(segment.error(), word));
  return std::move(segment->words);
}

namespace {

// ---------------------------------------------------------------------------
// Unicode tables: General_Category L (letters) and Nd (decimal digits) of
// Unicode 15.0.0, the version of Go's unicode package that upstream builds
// with (Go 1.21 and later). Generated from the Unicode Character Database;
// sorted, non-overlapping, inclusive ranges.

struct Range {
  char32_t first;
  char32_t last;
};

constexpr Range k_letters[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xAA, 0xAA},       {0xB5, 0xB5},
    {0xBA, 0xBA},       {0xC0, 0xD6},       {0xD8, 0xF6},       {0xF8, 0x2C1},
    {0x2C6, 0x2D1},     {0x2E0, 0x2E4},     {0x2EC, 0x2EC},     {0x2EE, 0x2EE},
    {0x370, 0x374},     {0x376, 0x377},     {0x37A, 0x37D},     {0x37F, 0x37F},
    {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},     {0x38E, 0x3A1},
    {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},     {0x531, 0x556},
    {0x559, 0x559},     {0x560, 0x588},     {0x5D0, 0x5EA},     {0x5EF, 0x5F2},
    {0x620, 0x64A},     {0x66E, 0x66F},     {0x671, 0x6D3},     {0x6D5, 0x6D5},
    {0x6E5, 0x6E6},     {0x6EE, 0x6EF},     {0x6FA, 0x6FC},     {0x6FF, 0x6FF},
    {0x710, 0x710},     {0x712, 0x72F},     {0x74D, 0x7A5},     {0x7B1, 0x7B1},
    {0x7CA, 0x7EA},     {0x7F4, 0x7F5},     {0x7FA, 0x7FA},     {0x800, 0x815},
    {0x81A, 0x81A},     {0x824, 0x824},     {0x828, 0x828},     {0x840, 0x858},
    {0x860, 0x86A},     {0x870, 0x887},     {0x889, 0x88E},     {0x8A0, 0x8C9},
    {0x904, 0x939},     {0x93D, 0x93D},     {0x950, 0x950},     {0x958, 0x961},
    {0x971, 0x980},     {0x985, 0x98C},     {0x98F, 0x990},     {0x993, 0x9A8},
    {0x9AA, 0x9B0},     {0x9B2, 0x9B2},     {0x9B6, 0x9B9},     {0x9BD, 0x9BD},
    {0x9CE, 0x9CE},     {0x9DC, 0x9DD},     {0x9DF, 0x9E1},     {0x9F0, 0x9F1},
    {0x9FC, 0x9FC},     {0xA05, 0xA0A},     {0xA0F, 0xA10},     {0xA13, 0xA28},
    {0xA2A, 0xA30},     {0xA32, 0xA33},     {0xA35, 0xA36},     {0xA38, 0xA39},
    {0xA59, 0xA5C},     {0xA5E, 0xA5E},     {0xA72, 0xA74},     {0xA85, 0xA8D},
    {0xA8F, 0xA91},     {0xA93, 0xAA8},     {0xAAA, 0xAB0},     {0xAB2, 0xAB3},
    {0xAB5, 0xAB9},     {0xABD, 0xABD},     {0xAD0, 0xAD0},     {0xAE0, 0xAE1},
    {0xAF9, 0xAF9},     {0xB05, 0xB0C},     {0xB0F, 0xB10},     {0xB13, 0xB28},
    {0xB2A, 0xB30},     {0xB32, 0xB33},     {0xB35, 0xB39},     {0xB3D, 0xB3D},
    {0xB5C, 0xB5D},     {0xB5F, 0xB61},     {0xB71, 0xB71},     {0xB83, 0xB83},
    {0xB85, 0xB8A},     {0xB8E, 0xB90},     {0xB92, 0xB95},     {0xB99, 0xB9A},
    {0xB9C, 0xB9C},     {0xB9E, 0xB9F},     {0xBA3, 0xBA4},     {0xBA8, 0xBAA},
    {0xBAE, 0xBB9},     {0xBD0, 0xBD0},     {0xC05, 0xC0C},     {0xC0E, 0xC10},
    {0xC12, 0xC28},     {0xC2A, 0xC39},     {0xC3D, 0xC3D},     {0xC58, 0xC5A},
    {0xC5D, 0xC5D},     {0xC60, 0xC61},     {0xC80, 0xC80},     {0xC85, 0xC8C},
    {0xC8E, 0xC90},     {0xC92, 0xCA8},     {0xCAA, 0xCB3},     {0xCB5, 0xCB9},
    {0xCBD, 0xCBD},     {0xCDD, 0xCDE},     {0xCE0, 0xCE1},     {0xCF1, 0xCF2},
    {0xD04, 0xD0C},     {0xD0E, 0xD10},     {0xD12, 0xD3A},     {0xD3D, 0xD3D},
    {0xD4E, 0xD4E},     {0xD54, 0xD56},     {0xD5F, 0xD61},     {0xD7A, 0xD7F},
    {0xD85, 0xD96},     {0xD9A, 0xDB1},     {0xDB3, 0xDBB},     {0xDBD, 0xDBD},
    {0xDC0, 0xDC6},     {0xE01, 0xE30},     {0xE32, 0xE33},     {0xE40, 0xE46},
    {0xE81, 0xE82},     {0xE84, 0xE84},     {0xE86, 0xE8A},     {0xE8C, 0xEA3},
    {0xEA5, 0xEA5},     {0xEA7, 0xEB0},     {0xEB2, 0xEB3},     {0xEBD, 0xEBD},
    {0xEC0, 0xEC4},     {0xEC6, 0xEC6},     {0xEDC, 0xEDF},     {0xF00, 0xF00},
    {0xF40, 0xF47},     {0xF49, 0xF6C},     {0xF88, 0xF8C},     {0x1000, 0x102A},
    {0x103F, 0x103F},   {0x1050, 0x1055},   {0x105A, 0x105D},   {0x1061, 0x1061},
    {0x1065, 0x1066},   {0x106E, 0x1070},   {0x1075, 0x1081},   {0x108E, 0x108E},
    {0x10A0, 0x10C5},   {0x10C7, 0x10C7},   {0x10CD, 0x10CD},   {0x10D0, 0x10FA},
    {0x10FC, 0x1248},   {0x124A, 0x124D},   {0x1250, 0x1256},   {0x1258, 0x1258},
    {0x125A, 0x125D},   {0x1260, 0x1288},   {0x128A, 0x128D},   {0x1290, 0x12B0},
    {0x12B2, 0x12B5},   {0x12B8, 0x12BE},   {0x12C0, 0x12C0},   {0x12C2, 0x12C5},
    {0x12C8, 0x12D6},   {0x12D8, 0x1310},   {0x1312, 0x1315},   {0x1318, 0x135A},
    {0x1380, 0x138F},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},   {0x1401, 0x166C},
    {0x166F, 0x167F},   {0x1681, 0x169A},   {0x16A0, 0x16EA},   {0x16F1, 0x16F8},
    {0x1700, 0x1711},   {0x171F, 0x1731},   {0x1740, 0x1751},   {0x1760, 0x176C},
    {0x176E, 0x1770},   {0x1780, 0x17B3},   {0x17D7, 0x17D7},   {0x17DC, 0x17DC},
    {0x1820, 0x1878},   {0x1880, 0x1884},   {0x1887, 0x18A8},   {0x18AA, 0x18AA},
    {0x18B0, 0x18F5},   {0x1900, 0x191E},   {0x1950, 0x196D},   {0x1970, 0x1974},
    {0x1980, 0x19AB},   {0x19B0, 0x19C9},   {0x1A00, 0x1A16},   {0x1A20, 0x1A54},
    {0x1AA7, 0x1AA7},   {0x1B05, 0x1B33},   {0x1B45, 0x1B4C},   {0x1B83, 0x1BA0},
    {0x1BAE, 0x1BAF},   {0x1BBA, 0x1BE5},   {0x1C00, 0x1C23},   {0x1C4D, 0x1C4F},
    {0x1C5A, 0x1C7D},   {0x1C80, 0x1C88},   {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},
    {0x1CE9, 0x1CEC},   {0x1CEE, 0x1CF3},   {0x1CF5, 0x1CF6},   {0x1CFA, 0x1CFA},
    {0x1D00, 0x1DBF},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2071, 0x2071},   {0x207F, 0x207F},   {0x2090, 0x209C},   {0x2102, 0x2102},
    {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},   {0x2119, 0x211D},
    {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},   {0x212A, 0x212D},
    {0x212F, 0x2139},   {0x213C, 0x213F},   {0x2145, 0x2149},   {0x214E, 0x214E},
    {0x2183, 0x2184},   {0x2C00, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},
    {0x2D00, 0x2D25},   {0x2D27, 0x2D27},   {0x2D2D, 0x2D2D},   {0x2D30, 0x2D67},
    {0x2D6F, 0x2D6F},   {0x2D80, 0x2D96},   {0x2DA0, 0x2DA6},   {0x2DA8, 0x2DAE},
    {0x2DB0, 0x2DB6},   {0x2DB8, 0x2DBE},   {0x2DC0, 0x2DC6},   {0x2DC8, 0x2DCE},
    {0x2DD0, 0x2DD6},   {0x2DD8, 0x2DDE},   {0x2E2F, 0x2E2F},   {0x3005, 0x3006},
    {0x3031, 0x3035},   {0x303B, 0x303C},   {0x3041, 0x3096},   {0x309D, 0x309F},
    {0x30A1, 0x30FA},   {0x30FC, 0x30FF},   {0x3105, 0x312F},   {0x3131, 0x318E},
    {0x31A0, 0x31BF},   {0x31F0, 0x31FF},   {0x3400, 0x4DBF},   {0x4E00, 0xA48C},
    {0xA4D0, 0xA4FD},   {0xA500, 0xA60C},   {0xA610, 0xA61F},   {0xA62A, 0xA62B},
    {0xA640, 0xA66E},   {0xA67F, 0xA69D},   {0xA6A0, 0xA6E5},   {0xA717, 0xA71F},
    {0xA722, 0xA788},   {0xA78B, 0xA7CA},   {0xA7D0, 0xA7D1},   {0xA7D3, 0xA7D3},
    {0xA7D5, 0xA7D9},   {0xA7F2, 0xA801},   {0xA803, 0xA805},   {0xA807, 0xA80A},
    {0xA80C, 0xA822},   {0xA840, 0xA873},   {0xA882, 0xA8B3},   {0xA8F2, 0xA8F7},
    {0xA8FB, 0xA8FB},   {0xA8FD, 0xA8FE},   {0xA90A, 0xA925},   {0xA930, 0xA946},
    {0xA960, 0xA97C},   {0xA984, 0xA9B2},   {0xA9CF, 0xA9CF},   {0xA9E0, 0xA9E4},
    {0xA9E6, 0xA9EF},   {0xA9FA, 0xA9FE},   {0xAA00, 0xAA28},   {0xAA40, 0xAA42},
    {0xAA44, 0xAA4B},   {0xAA60, 0xAA76},   {0xAA7A, 0xAA7A},   {0xAA7E, 0xAAAF},
    {0xAAB1, 0xAAB1},   {0xAAB5, 0xAAB6},   {0xAAB9, 0xAABD},   {0xAAC0, 0xAAC0},
    {0xAAC2, 0xAAC2},   {0xAADB, 0xAADD},   {0xAAE0, 0xAAEA},   {0xAAF2, 0xAAF4},
    {0xAB01, 0xAB06},   {0xAB09, 0xAB0E},   {0xAB11, 0xAB16},   {0xAB20, 0xAB26},
    {0xAB28, 0xAB2E},   {0xAB30, 0xAB5A},   {0xAB5C, 0xAB69},   {0xAB70, 0xABE2},
    {0xAC00, 0xD7A3},   {0xD7B0, 0xD7C6},   {0xD7CB, 0xD7FB},   {0xF900, 0xFA6D},
    {0xFA70, 0xFAD9},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFB1D, 0xFB1D},
    {0xFB1F, 0xFB28},   {0xFB2A, 0xFB36},   {0xFB38, 0xFB3C},   {0xFB3E, 0xFB3E},
    {0xFB40, 0xFB41},   {0xFB43, 0xFB44},   {0xFB46, 0xFBB1},   {0xFBD3, 0xFD3D},
    {0xFD50, 0xFD8F},   {0xFD92, 0xFDC7},   {0xFDF0, 0xFDFB},   {0xFE70, 0xFE74},
    {0xFE76, 0xFEFC},   {0xFF21, 0xFF3A},   {0xFF41, 0xFF5A},   {0xFF66, 0xFFBE},
    {0xFFC2, 0xFFC7},   {0xFFCA, 0xFFCF},   {0xFFD2, 0xFFD7},   {0xFFDA, 0xFFDC},
    {0x10000, 0x1000B}, {0x1000D, 0x10026}, {0x10028, 0x1003A}, {0x1003C, 0x1003D},
    {0x1003F, 0x1004D}, {0x10050, 0x1005D}, {0x10080, 0x100FA}, {0x10280, 0x1029C},
    {0x102A0, 0x102D0}, {0x10300, 0x1031F}, {0x1032D, 0x10340}, {0x10342, 0x10349},
    {0x10350, 0x10375}, {0x10380, 0x1039D}, {0x103A0, 0x103C3}, {0x103C8, 0x103CF},
    {0x10400, 0x1049D}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10500, 0x10527},
    {0x10530, 0x10563}, {0x10570, 0x1057A}, {0x1057C, 0x1058A}, {0x1058C, 0x10592},
    {0x10594, 0x10595}, {0x10597, 0x105A1}, {0x105A3, 0x105B1}, {0x105B3, 0x105B9},
    {0x105BB, 0x105BC}, {0x10600, 0x10736}, {0x10740, 0x10755}, {0x10760, 0x10767},
    {0x10780, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x10800, 0x10805},
    {0x10808, 0x10808}, {0x1080A, 0x10835}, {0x10837, 0x10838}, {0x1083C, 0x1083C},
    {0x1083F, 0x10855}, {0x10860, 0x10876}, {0x10880, 0x1089E}, {0x108E0, 0x108F2},
    {0x108F4, 0x108F5}, {0x10900, 0x10915}, {0x10920, 0x10939}, {0x10980, 0x109B7},
    {0x109BE, 0x109BF}, {0x10A00, 0x10A00}, {0x10A10, 0x10A13}, {0x10A15, 0x10A17},
    {0x10A19, 0x10A35}, {0x10A60, 0x10A7C}, {0x10A80, 0x10A9C}, {0x10AC0, 0x10AC7},
    {0x10AC9, 0x10AE4}, {0x10B00, 0x10B35}, {0x10B40, 0x10B55}, {0x10B60, 0x10B72},
    {0x10B80, 0x10B91}, {0x10C00, 0x10C48}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2},
    {0x10D00, 0x10D23}, {0x10E80, 0x10EA9}, {0x10EB0, 0x10EB1}, {0x10F00, 0x10F1C},
    {0x10F27, 0x10F27}, {0x10F30, 0x10F45}, {0x10F70, 0x10F81}, {0x10FB0, 0x10FC4},
    {0x10FE0, 0x10FF6}, {0x11003, 0x11037}, {0x11071, 0x11072}, {0x11075, 0x11075},
    {0x11083, 0x110AF}, {0x110D0, 0x110E8}, {0x11103, 0x11126}, {0x11144, 0x11144},
    {0x11147, 0x11147}, {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111B2},
    {0x111C1, 0x111C4}, {0x111DA, 0x111DA}, {0x111DC, 0x111DC}, {0x11200, 0x11211},
    {0x11213, 0x1122B}, {0x1123F, 0x11240}, {0x11280, 0x11286}, {0x11288, 0x11288},
    {0x1128A, 0x1128D}, {0x1128F, 0x1129D}, {0x1129F, 0x112A8}, {0x112B0, 0x112DE},
    {0x11305, 0x1130C}, {0x1130F, 0x11310}, {0x11313, 0x11328}, {0x1132A, 0x11330},
    {0x11332, 0x11333}, {0x11335, 0x11339}, {0x1133D, 0x1133D}, {0x11350, 0x11350},
    {0x1135D, 0x11361}, {0x11400, 0x11434}, {0x11447, 0x1144A}, {0x1145F, 0x11461},
    {0x11480, 0x114AF}, {0x114C4, 0x114C5}, {0x114C7, 0x114C7}, {0x11580, 0x115AE},
    {0x115D8, 0x115DB}, {0x11600, 0x1162F}, {0x11644, 0x11644}, {0x11680, 0x116AA},
    {0x116B8, 0x116B8}, {0x11700, 0x1171A}, {0x11740, 0x11746}, {0x11800, 0x1182B},
    {0x118A0, 0x118DF}, {0x118FF, 0x11906}, {0x11909, 0x11909}, {0x1190C, 0x11913},
    {0x11915, 0x11916}, {0x11918, 0x1192F}, {0x1193F, 0x1193F}, {0x11941, 0x11941},
    {0x119A0, 0x119A7}, {0x119AA, 0x119D0}, {0x119E1, 0x119E1}, {0x119E3, 0x119E3},
    {0x11A00, 0x11A00}, {0x11A0B, 0x11A32}, {0x11A3A, 0x11A3A}, {0x11A50, 0x11A50},
    {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D}, {0x11AB0, 0x11AF8}, {0x11C00, 0x11C08},
    {0x11C0A, 0x11C2E}, {0x11C40, 0x11C40}, {0x11C72, 0x11C8F}, {0x11D00, 0x11D06},
    {0x11D08, 0x11D09}, {0x11D0B, 0x11D30}, {0x11D46, 0x11D46}, {0x11D60, 0x11D65},
    {0x11D67, 0x11D68}, {0x11D6A, 0x11D89}, {0x11D98, 0x11D98}, {0x11EE0, 0x11EF2},
    {0x11F02, 0x11F02}, {0x11F04, 0x11F10}, {0x11F12, 0x11F33}, {0x11FB0, 0x11FB0},
    {0x12000, 0x12399}, {0x12480, 0x12543}, {0x12F90, 0x12FF0}, {0x13000, 0x1342F},
    {0x13441, 0x13446}, {0x14400, 0x14646}, {0x16800, 0x16A38}, {0x16A40, 0x16A5E},
    {0x16A70, 0x16ABE}, {0x16AD0, 0x16AED}, {0x16B00, 0x16B2F}, {0x16B40, 0x16B43},
    {0x16B63, 0x16B77}, {0x16B7D, 0x16B8F}, {0x16E40, 0x16E7F}, {0x16F00, 0x16F4A},
    {0x16F50, 0x16F50}, {0x16F93, 0x16F9F}, {0x16FE0, 0x16FE1}, {0x16FE3, 0x16FE3},
    {0x17000, 0x187F7}, {0x18800, 0x18CD5}, {0x18D00, 0x18D08}, {0x1AFF0, 0x1AFF3},
    {0x1AFF5, 0x1AFFB}, {0x1AFFD, 0x1AFFE}, {0x1B000, 0x1B122}, {0x1B132, 0x1B132},
    {0x1B150, 0x1B152}, {0x1B155, 0x1B155}, {0x1B164, 0x1B167}, {0x1B170, 0x1B2FB},
    {0x1BC00, 0x1BC6A}, {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88}, {0x1BC90, 0x1BC99},
    {0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F}, {0x1D4A2, 0x1D4A2},
    {0x1D4A5, 0x1D4A6}, {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB},
    {0x1D4BD, 0x1D4C3}, {0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514},
    {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E}, {0x1D540, 0x1D544},
    {0x1D546, 0x1D546}, {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5}, {0x1D6A8, 0x1D6C0},
    {0x1D6C2, 0x1D6DA}, {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714}, {0x1D716, 0x1D734},
    {0x1D736, 0x1D74E}, {0x1D750, 0x1D76E}, {0x1D770, 0x1D788}, {0x1D78A, 0x1D7A8},
    {0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1D7CB}, {0x1DF00, 0x1DF1E}, {0x1DF25, 0x1DF2A},
    {0x1E030, 0x1E06D}, {0x1E100, 0x1E12C}, {0x1E137, 0x1E13D}, {0x1E14E, 0x1E14E},
    {0x1E290, 0x1E2AD}, {0x1E2C0, 0x1E2EB}, {0x1E4D0, 0x1E4EB}, {0x1E7E0, 0x1E7E6},
    {0x1E7E8, 0x1E7EB}, {0x1E7ED, 0x1E7EE}, {0x1E7F0, 0x1E7FE}, {0x1E800, 0x1E8C4},
    {0x1E900, 0x1E943}, {0x1E94B, 0x1E94B}, {0x1EE00, 0x1EE03}, {0x1EE05, 0x1EE1F},
    {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24}, {0x1EE27, 0x1EE27}, {0x1EE29, 0x1EE32},
    {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39}, {0x1EE3B, 0x1EE3B}, {0x1EE42, 0x1EE42},
    {0x1EE47, 0x1EE47}, {0x1EE49, 0x1EE49}, {0x1EE4B, 0x1EE4B}, {0x1EE4D, 0x1EE4F},
    {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54}, {0x1EE57, 0x1EE57}, {0x1EE59, 0x1EE59},
    {0x1EE5B, 0x1EE5B}, {0x1EE5D, 0x1EE5D}, {0x1EE5F, 0x1EE5F}, {0x1EE61, 0x1EE62},
    {0x1EE64, 0x1EE64}, {0x1EE67, 0x1EE6A}, {0x1EE6C, 0x1EE72}, {0x1EE74, 0x1EE77},
    {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E}, {0x1EE80, 0x1EE89}, {0x1EE8B, 0x1EE9B},
    {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9}, {0x1EEAB, 0x1EEBB}, {0x20000, 0x2A6DF},
    {0x2A700, 0x2B739}, {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0},
    {0x2F800, 0x2FA1D}, {0x30000, 0x3134A}, {0x31350, 0x323AF}};

constexpr Range k_digits[] = {
    {0x30, 0x39},       {0x660, 0x669},     {0x6F0, 0x6F9},     {0x7C0, 0x7C9},
    {0x966, 0x96F},     {0x9E6, 0x9EF},     {0xA66, 0xA6F},     {0xAE6, 0xAEF},
    {0xB66, 0xB6F},     {0xBE6, 0xBEF},     {0xC66, 0xC6F},     {0xCE6, 0xCEF},
    {0xD66, 0xD6F},     {0xDE6, 0xDEF},     {0xE50, 0xE59},     {0xED0, 0xED9},
    {0xF20, 0xF29},     {0x1040, 0x1049},   {0x1090, 0x1099},   {0x17E0, 0x17E9},
    {0x1810, 0x1819},   {0x1946, 0x194F},   {0x19D0, 0x19D9},   {0x1A80, 0x1A89},
    {0x1A90, 0x1A99},   {0x1B50, 0x1B59},   {0x1BB0, 0x1BB9},   {0x1C40, 0x1C49},
    {0x1C50, 0x1C59},   {0xA620, 0xA629},   {0xA8D0, 0xA8D9},   {0xA900, 0xA909},
    {0xA9D0, 0xA9D9},   {0xA9F0, 0xA9F9},   {0xAA50, 0xAA59},   {0xABF0, 0xABF9},
    {0xFF10, 0xFF19},   {0x104A0, 0x104A9}, {0x10D30, 0x10D39}, {0x11066, 0x1106F},
    {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x112F0, 0x112F9},
    {0x11450, 0x11459}, {0x114D0, 0x114D9}, {0x11650, 0x11659}, {0x116C0, 0x116C9},
    {0x11730, 0x11739}, {0x118E0, 0x118E9}, {0x11950, 0x11959}, {0x11C50, 0x11C59},
    {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9}, {0x11F50, 0x11F59}, {0x16A60, 0x16A69},
    {0x16AC0, 0x16AC9}, {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149},
    {0x1E2F0, 0x1E2F9}, {0x1E4F0, 0x1E4F9}, {0x1E950, 0x1E959}, {0x1FBF0, 0x1FBF9}};

bool in_table(std::span<const Range> table, char32_t unit) {
  const auto it = std::upper_bound(table.begin(), table.end(), unit,
                                   [](char32_t u, const Range& r) { return u < r.first; });
  return it != table.begin() && unit <= std::prev(it)->last;
}

bool is_letter(char32_t unit) { return in_table(k_letters, unit); }
bool is_digit(char32_t unit) { return in_table(k_digits, unit); }

} // namespace

} // namespace mason::frontend::dockerfile
