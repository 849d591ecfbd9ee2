// The parser reads the file as physical lines. An instruction starts on a
// non-blank, non-comment line and continues while a line ends with the
// escape character; comment and blank lines inside a continuation are
// skipped. The joined logical line is split into keyword, flags and an
// argument string, which a per-keyword rule turns into arguments. For
// RUN/COPY/ADD (also under ONBUILD) in shell form, `<<WORD` words then
// consume the following physical lines as here-document bodies.
// Directives are only recognised in the comment block at the very top.
// The behaviour, quirks included, is that of BuildKit's parser package; the
// conformance vectors in ../shared/conformance check it byte for byte.
#include "mason/frontend/dockerfile/parser.h"

#include <array>
#include <optional>

#include "mason/frontend/dockerfile/json_form.h"
#include "mason/frontend/dockerfile/shell.h"
#include "mason/util/utf8.h"

namespace mason::frontend::dockerfile {

namespace {

// Physical lines are limited like Go's bufio.Scanner default buffer.
constexpr std::size_t k_max_line = 65535;

constexpr std::array k_known = {"add",    "arg",   "cmd",         "copy",  "entrypoint", "env",
                                "expose", "from",  "healthcheck", "label", "maintainer", "onbuild",
                                "run",    "shell", "stopsignal",  "user",  "volume",     "workdir"};

// ---------------------------------------------------------------- lines

class LineReader {
public:
  explicit LineReader(std::string_view text) : m_text(text) {}

  // Next physical line including its '\n' (if any); nullopt at the end.
  std::optional<std::string_view> next() {
    if (m_pos >= m_text.size()) return std::nullopt;
    auto nl = m_text.find('\n', m_pos);
    const auto end = nl == std::string_view::npos ? m_text.size() : nl + 1;
    auto line = m_text.substr(m_pos, end - m_pos);
    m_pos = end;
    ++m_number;
    return line;
  }
  int number() const { return m_number; } // of the line last returned
  void stop() { m_pos = m_text.size(); }

private:
  std::string_view m_text;
  std::size_t m_pos = 0;
  int m_number = 0;
};

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view line) {
  line = util::trim_left_unicode_space(line);
  return !line.empty() && line.front() == '#';
}

std::string_view discard_bom(std::string_view s) {
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  return s;
}

// ---------------------------------------------------------------- directives

struct DirectiveState {
  char escape = '\\';
  bool done = false;
  std::vector<Directive> seen;
};

bool is_directive_space(char c) { // RE2's \s
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

// Matches `name\s*=\s*(.+?)\s*$` after the `#` and leading white space.
std::optional<std::pair<std::string, std::string>> match_directive(std::string_view s) {
  std::size_t i = 0;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (s.empty() || !alpha(s[0])) return std::nullopt;
  while (i < s.size() && (alpha(s[i]) || digit(s[i]))) ++i;
  std::string name(s.substr(0, i));
  while (i < s.size() && is_directive_space(s[i])) ++i;
  if (i >= s.size() || s[i] != '=') return std::nullopt;
  ++i;
  const auto after_eq = s.substr(i);
  while (i < s.size() && is_directive_space(s[i])) ++i;
  auto value = s.substr(i);
  while (!value.empty() && is_directive_space(value.back())) value.remove_suffix(1);
  // `\s*(.+?)\s*$` backtracks when only white space follows `=`: the
  // lazy group then captures the last white-space character.
  if (value.empty() && !after_eq.empty()) value = after_eq.substr(after_eq.size() - 1);
  if (value.empty()) return std::nullopt;
  return std::pair{std::move(name), std::string(value)};
}

// Examines a (left-trimmed, newline-trimmed) line while the directive block
// is open. Returns an error message for a repeated or invalid directive.
std::optional<std::string> possible_directive(DirectiveState& st, std::string_view line,
                                              int line_no) {
  if (st.done) return std::nullopt;
  if (line.empty() || line.front() != '#') {
    st.done = true;
    return std::nullopt;
  }
  auto m = match_directive(util::trim_left_unicode_space(line.substr(1)));
  const auto name = m ? util::to_lower_ascii(m->first) : std::string();
  if (!m || (name != "syntax" && name != "escape" && name != "check")) {
    st.done = true;
    return std::nullopt;
  }
  for (const auto& d : st.seen)
    if (d.name == name) return "only one " + name + " parser directive can be used";
  st.seen.push_back({name, m->second, line_no});
  if (name == "escape") {
    if (m->second != "`" && m->second != "\\")
      return "invalid escape token '" + m->second + "' does not match ` or \\";
    st.escape = m->second[0];
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- continuation

// `([^E])E[ \t]*$|^E[ \t]*$`: a trailing escape not itself escaped.
// Returns the line without it, or nullopt when the line does not continue.
std::optional<std::string_view> strip_continuation(std::string_view line, char esc) {
  auto s = line;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s.back() != esc) return std::nullopt;
  s.remove_suffix(1);
  if (!s.empty() && s.back() == esc) return std::nullopt;
  return s;
}

// ---------------------------------------------------------------- splitting

bool go_byte_space(unsigned char c) { // unicode.IsSpace(rune(byte))
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0;
}

// strings.Builder.WriteRune(rune(byte)): bytes >= 0x80 become Latin-1.
void write_byte_rune(std::string& out, unsigned char c) { util::append_rune(out, c); }

struct SplitFlags {
  std::vector<std::string> flags;
  std::string_view rest;
};

// Reads leading `--flag` words; see docs/parser.md for the quoting rules.
SplitFlags extract_flags(std::string_view line, char esc) {
  enum class Phase { spaces, word, quote };
  SplitFlags out;
  Phase phase = Phase::spaces;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  const auto n = line.size();
  for (std::size_t pos = 0; pos <= n; ++pos) {
    const unsigned char ch =
        pos < n ? static_cast<unsigned char>(line[pos]) : static_cast<unsigned char>(0);
    if (phase == Phase::spaces) {
      if (pos == n) break;
      if (go_byte_space(ch)) continue;
      if (ch != '-' || pos + 1 == n || line[pos + 1] != '-') {
        out.rest = line.substr(pos);
        return out;
      }
      phase = Phase::word;
    }
    if (pos == n) {
      if (word != "--" && (blank_ok || !word.empty())) out.flags.push_back(word);
      break;
    }
    if (phase == Phase::word) {
      if (go_byte_space(ch)) {
        phase = Phase::spaces;
        if (word == "--") {
          out.rest = line.substr(pos);
          return out;
        }
        if (blank_ok || !word.empty()) out.flags.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = static_cast<char>(ch);
        blank_ok = true;
        phase = Phase::quote;
        continue;
      }
      if (ch == static_cast<unsigned char>(esc)) {
        if (pos + 1 == n) continue;
        ++pos;
        write_byte_rune(word, static_cast<unsigned char>(line[pos]));
        continue;
      }
      write_byte_rune(word, ch);
      continue;
    }
    // Phase::quote
    if (ch == static_cast<unsigned char>(quote)) {
      phase = Phase::word;
      continue;
    }
    if (ch == static_cast<unsigned char>(esc)) {
      if (pos + 1 == n) {
        phase = Phase::word;
        continue;
      }
      ++pos;
      write_byte_rune(word, static_cast<unsigned char>(line[pos]));
      continue;
    }
    write_byte_rune(word, ch);
  }
  out.rest = {};
  return out;
}

// Split on runs of `[\t\v\f\r ]` (regexp.Split semantics, n = -1).
std::vector<std::string> split_blanks(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (util::is_ascii_blank(s[i])) {
      out.emplace_back(s.substr(start, i - start));
      while (i < s.size() && util::is_ascii_blank(s[i])) ++i;
      start = i;
    } else {
      ++i;
    }
  }
  out.emplace_back(s.substr(start));
  return out;
}

// Split once at the first run of blanks (regexp.Split semantics, n = 2).
std::vector<std::string_view> split_blanks_once(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!util::is_ascii_blank(s[i])) continue;
    auto j = i;
    while (j < s.size() && util::is_ascii_blank(s[j])) ++j;
    return {s.substr(0, i), s.substr(j)};
  }
  return {s};
}

// ---------------------------------------------------------------- argument rules

struct ArgError {
  std::string message;
};

using Args = std::vector<std::string>;

// Quote-aware words for ARG/ENV/LABEL: quotes and escapes kept verbatim.
std::vector<std::string> parse_words(std::string_view rest, char32_t esc) {
  enum class Phase { spaces, word, quote };
  std::vector<std::string> words;
  Phase phase = Phase::spaces;
  char32_t quote = 0;
  bool blank_ok = false;
  std::string word;
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    util::DecodedRune d{0, 0, true};
    if (pos < rest.size()) d = util::decode_rune(rest, pos);
    const bool end = pos == rest.size();
    auto put = [&](std::size_t at, const util::DecodedRune& r) {
      if (r.valid)
        word.append(rest.substr(at, r.width));
      else
        util::append_rune(word, util::k_replacement_char);
    };
    // Copies the rune at `pos` (an escape: with the rune it escapes) into
    // the word; false for an escape that ends the text (dropped).
    auto take = [&](bool escape) {
      if (escape) {
        if (pos + d.width == rest.size()) {
          pos += d.width;
          return false;
        }
        put(pos, d);
        pos += d.width;
        d = util::decode_rune(rest, pos);
      }
      put(pos, d);
      pos += d.width;
      return true;
    };
    if (phase == Phase::spaces) {
      if (end) break;
      if (util::is_unicode_space(d.rune)) {
        pos += d.width;
        continue;
      }
      phase = Phase::word;
    }
    if (end) {
      if (blank_ok || !word.empty()) words.push_back(word);
      break;
    }
    if (phase == Phase::word) {
      if (util::is_unicode_space(d.rune)) {
        phase = Phase::spaces;
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        pos += d.width;
        continue;
      }
      if (d.rune == U'\'' || d.rune == U'"') {
        quote = d.rune;
        blank_ok = true;
        phase = Phase::quote;
      }
      take(d.rune == esc);
      continue;
    }
    // Phase::quote
    if (d.rune == quote) phase = Phase::word;
    if (!take(d.rune == esc && quote != U'\'')) phase = Phase::word;
  }
  return words;
}

bool contains_eq(std::string_view s) { return s.find('=') != std::string_view::npos; }

std::optional<ArgError> parse_name_val(std::string_view rest, std::string_view key, char32_t esc,
                                       Args& args) {
  auto words = parse_words(rest, esc);
  if (words.empty()) return std::nullopt;
  if (!contains_eq(words[0])) {
    auto parts = split_blanks_once(rest);
    if (parts.size() < 2) return ArgError{std::string(key) + " must have two arguments"};
    args = {std::string(parts[0]), std::string(parts[1]), ""};
    return std::nullopt;
  }
  for (const auto& w : words) {
    if (!contains_eq(w))
      return ArgError{"Syntax error - can't find = in " + go_quote(w) +
                      ". Must be of the form: name=value"};
    const auto eq = w.find('=');
    args.push_back(w.substr(0, eq));
    args.push_back(w.substr(eq + 1));
    args.push_back("=");
  }
  return std::nullopt;
}

const char* const k_not_string_array =
    "when using JSON array syntax, arrays must be comprised of strings only";

// JSON form if possible, else one argument (`as_list`: split on blanks).
std::optional<ArgError> parse_maybe_json(std::string_view rest, bool as_list, Node& node) {
  if (rest.empty() && !as_list) return std::nullopt;
  auto form = parse_json_form(rest);
  if (form.status == JsonFormStatus::not_all_strings) return ArgError{k_not_string_array};
  if (form.status == JsonFormStatus::strings) {
    node.args = std::move(form.values);
    node.json = true;
    return std::nullopt;
  }
  if (as_list) {
    if (!rest.empty()) node.args = split_blanks(rest);
  } else {
    node.args = {std::string(rest)};
  }
  return std::nullopt;
}

std::optional<ArgError> parse_healthcheck(std::string_view rest, Node& node) {
  std::size_t sep = 0;
  while (sep < rest.size() && !go_byte_space(static_cast<unsigned char>(rest[sep]))) ++sep;
  auto next = sep;
  while (next < rest.size() && go_byte_space(static_cast<unsigned char>(rest[next]))) ++next;
  if (sep == 0) return std::nullopt;
  Node cmd;
  if (auto err = parse_maybe_json(rest.substr(next), false, cmd)) return err;
  node.args.push_back(std::string(rest.substr(0, sep)));
  for (auto& a : cmd.args) node.args.push_back(std::move(a));
  node.json = cmd.json;
  return std::nullopt;
}

std::optional<ArgError> node_from_line(std::string_view line, char esc, Node& node);

std::optional<ArgError> dispatch_args(const std::string& kw, std::string_view rest, char esc,
                                      Node& node) {
  if (kw == "add" || kw == "copy" || kw == "volume") return parse_maybe_json(rest, true, node);
  if (kw == "cmd" || kw == "entrypoint" || kw == "run" || kw == "shell")
    return parse_maybe_json(rest, false, node);
  if (kw == "from" || kw == "expose") {
    if (!rest.empty()) node.args = split_blanks(rest);
    return std::nullopt;
  }
  if (kw == "maintainer" || kw == "user" || kw == "workdir" || kw == "stopsignal") {
    if (!rest.empty()) node.args = {std::string(rest)};
    return std::nullopt;
  }
  if (kw == "arg") {
    node.args = parse_words(rest, static_cast<unsigned char>(esc));
    return std::nullopt;
  }
  if (kw == "env") return parse_name_val(rest, "ENV", static_cast<unsigned char>(esc), node.args);
  if (kw == "label")
    return parse_name_val(rest, "LABEL", static_cast<unsigned char>(esc), node.args);
  if (kw == "healthcheck") return parse_healthcheck(rest, node);
  if (kw == "onbuild") {
    if (rest.empty()) return std::nullopt;
    node.sub = std::make_unique<Node>();
    return node_from_line(rest, esc, *node.sub);
  }
  node.args = {""}; // unknown instruction: accepted here, rejected later
  return std::nullopt;
}

std::optional<ArgError> node_from_line(std::string_view line, char esc, Node& node) {
  const auto parts = split_blanks_once(util::trim_unicode_space(line));
  node.keyword = std::string(parts[0]);
  node.original = std::string(line);
  std::string_view rest;
  if (parts.size() == 2) {
    auto split = extract_flags(parts[1], esc);
    node.flags = std::move(split.flags);
    rest = util::trim_unicode_space(split.rest);
  }
  return dispatch_args(util::go_to_lower(node.keyword), rest, esc, node);
}

// ---------------------------------------------------------------- heredocs

class NoEnv final : public EnvGetter {
public:
  std::optional<std::string_view> get(std::string_view) const override { return std::nullopt; }
};

bool can_contain_heredoc(const Node& node) {
  const Node* n = &node;
  if (util::go_to_lower(n->keyword) == "onbuild" && n->sub) n = n->sub.get();
  const auto kw = util::go_to_lower(n->keyword);
  return (kw == "run" || kw == "copy" || kw == "add") && !n->json;
}

// `^(\d*)<<(-?)\s*([^<]*)$` on one word.
struct HeredocMatch {
  std::string_view fd, chomp, rest;
};

std::optional<HeredocMatch> match_heredoc_word(std::string_view w) {
  std::size_t i = 0;
  while (i < w.size() && w[i] >= '0' && w[i] <= '9') ++i;
  if (w.substr(i, 2) != "<<") return std::nullopt;
  HeredocMatch m{w.substr(0, i), {}, {}};
  i += 2;
  if (i < w.size() && w[i] == '-') {
    m.chomp = w.substr(i, 1);
    ++i;
  }
  while (i < w.size() && is_directive_space(w[i])) ++i;
  m.rest = w.substr(i);
  if (m.rest.find('<') != std::string_view::npos) return std::nullopt;
  return m;
}

constexpr unsigned k_max_fd = static_cast<unsigned>(-1);

std::size_t count_quotes(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (c == '\'' || c == '"') ? 1u : 0u;
  return n;
}

// The reference lexes heredoc words through Go's text/scanner, which reads
// each invalid UTF-8 byte as U+FFFD.
std::string valid_utf8(std::string_view s) {
  std::string out;
  for (std::size_t pos = 0; pos < s.size();) {
    const auto d = util::decode_rune(s, pos);
    if (d.valid)
      out.append(s.substr(pos, d.width));
    else
      util::append_rune(out, util::k_replacement_char);
    pos += d.width;
  }
  return out;
}

util::Result<std::optional<Heredoc>> heredoc_from_word(std::string_view raw_word) {
  const auto word_text = valid_utf8(raw_word);
  const std::string_view word = word_text;
  auto m = match_heredoc_word(word);
  if (!m || m->rest.empty()) return std::nullopt;
  Heredoc doc;
  for (char c : m->fd) { // strconv.ParseUint saturates on overflow
    const auto digit = static_cast<unsigned>(c - '0');
    doc.file_descriptor =
        doc.file_descriptor > (k_max_fd - digit) / 10 ? k_max_fd : doc.file_descriptor * 10 + digit;
  }
  doc.chomp = !m->chomp.empty();
  const NoEnv env;
  LexOptions opts;
  opts.skip_unset_env = true;
  MASON_TRY_ASSIGN(auto words, Lexer(opts).process_words(m->rest, env));
  if (words.size() != 1) return std::nullopt;
  opts.raw_quotes = true;
  MASON_TRY_ASSIGN(auto raw, Lexer(opts).process_words(m->rest, env));
  if (raw.size() != 1)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "internal lexing of heredoc produced inconsistent results: " +
                                std::string(m->rest));
  doc.name = (words)[0];
  doc.expand = count_quotes((words)[0]) == count_quotes((raw)[0]);
  return doc;
}

util::Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line) {
  LexOptions opts;
  opts.raw_quotes = true;
  opts.raw_escapes = true;
  opts.skip_unset_env = true;
  auto words = Lexer(opts).process_words(valid_utf8(line), NoEnv());
  std::vector<Heredoc> docs;
  if (!words) return docs; // the reference ignores lexing errors here
  for (const auto& w : *words) {
    MASON_TRY_ASSIGN(auto doc, heredoc_from_word(w));
    if (doc) docs.push_back(std::move(*doc));
  }
  return docs;
}

// ---------------------------------------------------------------- driver

class Parser {
public:
  explicit Parser(std::string_view text) : m_lines(text) {}

  ParseResult run();

private:
  std::optional<std::string_view> process_first(std::string_view raw);
  void read_continuation(std::string& buf);
  void read_heredoc_bodies(Node& node, int start_line);
  void error(int line, std::string message) {
    m_result.errors.push_back({line, Diagnostic::k_no_column, std::move(message)});
  }
  // Go's bufio.Scanner refuses a line (with its line ending) of more than
  // 64 KiB; reading stops there, as it does in the reference.
  bool check_length(std::string_view raw) {
    const auto limit = raw.ends_with('\n') ? k_max_line + 1 : k_max_line;
    if (raw.size() <= limit) return true;
    error(m_lines.number(), "dockerfile line greater than max allowed size of 65535");
    m_lines.stop();
    return false;
  }

  LineReader m_lines;
  DirectiveState m_directives;
  ParseResult m_result;
  std::vector<std::string> m_comments;
};

// The first line of an instruction: left-trimmed, directives recorded,
// comments dropped. nullopt when the line holds no instruction text.
std::optional<std::string_view> Parser::process_first(std::string_view raw) {
  if (m_lines.number() == 1) raw = discard_bom(raw);
  if (is_comment(raw)) {
    auto text = util::trim_unicode_space(util::trim_left_unicode_space(raw).substr(1));
    if (text.empty())
      m_comments.clear();
    else
      m_comments.emplace_back(text);
  }
  auto line = util::trim_left_unicode_space(trim_newline(raw));
  const auto before = m_directives.seen.size();
  if (auto err = possible_directive(m_directives, line, m_lines.number()))
    error(m_lines.number(), *err);
  if (m_directives.seen.size() > before && !m_comments.empty()) m_comments.pop_back();
  if (is_comment(line)) return std::string_view{};
  return line;
}

void Parser::read_continuation(std::string& buf) {
  bool warned = false;
  while (auto raw = m_lines.next()) {
    check_length(*raw);
    const auto line = trim_newline(*raw);
    possible_directive(m_directives, line, m_lines.number());
    if (is_comment(*raw)) continue;
    if (util::trim_left_unicode_space(line).empty()) {
      if (!warned) m_result.ast.warnings.push_back({"empty continuation line", m_lines.number()});
      warned = true;
      continue;
    }
    auto stripped = strip_continuation(line, m_directives.escape);
    buf.append(stripped ? *stripped : line);
    if (!stripped) return;
  }
}

void Parser::read_heredoc_bodies(Node& node, int start_line) {
  auto docs = heredocs_from_line(node.original);
  if (!docs) {
    error(start_line, docs.error().message());
    return;
  }
  for (auto& doc : *docs) {
    bool terminated = false;
    while (auto raw = m_lines.next()) {
      if (!check_length(*raw)) break;
      auto candidate = trim_newline(*raw);
      if (doc.chomp)
        while (!candidate.empty() && candidate.front() == '\t') candidate.remove_prefix(1);
      if (candidate == doc.name) {
        terminated = true;
        break;
      }
      doc.content.append(*raw);
    }
    if (!terminated) {
      error(start_line, "unterminated heredoc");
      return;
    }
    node.heredocs.push_back(std::move(doc));
  }
}

ParseResult Parser::run() {
  auto& ast = m_result.ast;
  bool any = false;
  while (auto raw = m_lines.next()) {
    check_length(*raw);
    auto first = process_first(*raw);
    const int start = m_lines.number();
    std::string_view line = first.value_or(std::string_view{});
    auto stripped = strip_continuation(line, m_directives.escape);
    if (!stripped && line.empty()) continue;
    std::string buf(stripped ? *stripped : line);
    if (stripped) read_continuation(buf);

    Node node;
    node.comments = std::move(m_comments);
    m_comments.clear();
    if (auto err = node_from_line(buf, m_directives.escape, node)) {
      error(start, err->message);
      continue;
    }
    if (can_contain_heredoc(node) && buf.find("<<") != std::string::npos)
      read_heredoc_bodies(node, start);
    node.start_line = start;
    node.end_line = m_lines.number();
    if (!any) ast.start_line = start;
    any = true;
    ast.end_line = node.end_line;
    ast.children.push_back(std::move(node));
  }
  if (!any && m_result.errors.empty()) error(0, "file with no instructions");
  ast.escape = static_cast<unsigned char>(m_directives.escape);
  ast.directives = m_directives.seen;
  return std::move(m_result);
}

} // namespace

std::optional<Heredoc> parse_heredoc_word(std::string_view word) {
  auto doc = heredoc_from_word(word);
  if (!doc) return std::nullopt;
  return *doc;
}

bool is_known_instruction(std::string_view lower_keyword) {
  for (const auto* k : k_known)
    if (lower_keyword == k) return true;
  return false;
}

ParseResult parse(std::string_view text) { return Parser(text).run(); }

} // namespace mason::frontend::dockerfile
