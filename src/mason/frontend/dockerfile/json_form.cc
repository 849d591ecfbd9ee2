// A small recursive-descent JSON validator/decoder. It accepts exactly what
// Go's encoding/json accepts when unmarshalling into []any: RFC 8259
// syntax, nesting up to 10000 levels, invalid UTF-8 and lone surrogates in
// strings replaced by U+FFFD, and numbers that overflow float64 rejected
// (Go reports those as an unmarshal error, so the reference falls back to
// the shell form).
#include "mason/frontend/dockerfile/json_form.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "mason/util/utf8.h"

namespace mason::frontend::dockerfile {

namespace {

constexpr int k_max_depth = 10000;

class JsonReader {
public:
  explicit JsonReader(std::string_view text) : m_text(text) {}

  // Parses the top-level array; nullopt when the text is not valid JSON.
  std::optional<JsonForm> top_level() {
    skip_ws();
    if (!consume('[')) return std::nullopt;
    JsonForm form;
    form.status = JsonFormStatus::strings;
    skip_ws();
    if (!consume(']')) {
      for (;;) {
        skip_ws();
        if (peek() == '"') {
          auto s = string_value();
          if (!s) return std::nullopt;
          form.values.push_back(std::move(*s));
        } else {
          if (!value(2)) return std::nullopt; // the top-level array is level 1
          form.status = JsonFormStatus::not_all_strings;
        }
        skip_ws();
        if (consume(']')) break;
        if (!consume(',')) return std::nullopt;
      }
    }
    skip_ws();
    if (m_pos != m_text.size()) return std::nullopt;
    if (form.status == JsonFormStatus::not_all_strings) form.values.clear();
    return form;
  }

private:
  char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
  bool at_end() const { return m_pos >= m_text.size(); }
  bool consume(char c) {
    if (at_end() || m_text[m_pos] != c) return false;
    ++m_pos;
    return true;
  }
  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++m_pos;
  }

  // `depth` is the nesting level a container starting here would have; Go
  // refuses more than 10000 levels (arrays and objects, the top included).
  bool value(int depth) {
    skip_ws();
    switch (peek()) {
    case '"': return string_value().has_value();
    case '[': return array(depth);
    case '{': return object(depth);
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    default: return number();
    }
  }

  bool array(int depth) {
    if (depth > k_max_depth) return false;
    ++m_pos;
    skip_ws();
    if (consume(']')) return true;
    for (;;) {
      if (!value(depth + 1)) return false;
      skip_ws();
      if (consume(']')) return true;
      if (!consume(',')) return false;
    }
  }

  bool object(int depth) {
    if (depth > k_max_depth) return false;
    ++m_pos;
    skip_ws();
    if (consume('}')) return true;
    for (;;) {
      skip_ws();
      if (peek() != '"' || !string_value()) return false;
      skip_ws();
      if (!consume(':')) return false;
      if (!value(depth + 1)) return false;
      skip_ws();
      if (consume('}')) return true;
      if (!consume(',')) return false;
    }
  }

  bool literal(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) != word) return false;
    m_pos += word.size();
    return true;
  }

  bool digits() {
    const auto start = m_pos;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++m_pos;
    return m_pos > start;
  }

  bool number() {
    const auto start = m_pos;
    consume('-');
    if (consume('0')) {
    } else if (peek() >= '1' && peek() <= '9') {
      digits();
    } else {
      return false;
    }
    if (consume('.') && !digits()) return false;
    if (peek() == 'e' || peek() == 'E') {
      ++m_pos;
      if (peek() == '+' || peek() == '-') ++m_pos;
      if (!digits()) return false;
    }
    // Go decodes into float64; an overflow is an unmarshal error.
    const std::string repr(m_text.substr(start, m_pos - start));
    errno = 0;
    const double v = std::strtod(repr.c_str(), nullptr);
    return !(errno == ERANGE && std::isinf(v));
  }

  std::optional<unsigned> hex4() {
    if (m_text.size() - m_pos < 4) return std::nullopt;
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = m_text[m_pos++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        return std::nullopt;
    }
    return v;
  }

  // \uXXXX, with surrogate pairs combined and lone surrogates -> U+FFFD.
  bool unicode_escape(std::string& out) {
    auto first = hex4();
    if (!first) return false;
    char32_t r = *first;
    if (r >= 0xD800 && r < 0xDC00 && m_text.substr(m_pos, 2) == "\\u") {
      const auto save = m_pos;
      m_pos += 2;
      auto second = hex4();
      if (!second) return false;
      if (*second >= 0xDC00 && *second < 0xE000) {
        r = 0x10000 + ((r - 0xD800) << 10) + (*second - 0xDC00);
      } else {
        m_pos = save; // not a pair: the first is lone, re-read the second
        r = util::k_replacement_char;
      }
    } else if (r >= 0xD800 && r < 0xE000) {
      r = util::k_replacement_char;
    }
    util::append_rune(out, r);
    return true;
  }

  bool escape(std::string& out) {
    if (at_end()) return false;
    const char c = m_text[m_pos++];
    switch (c) {
    case '"': out += '"'; return true;
    case '\\': out += '\\'; return true;
    case '/': out += '/'; return true;
    case 'b': out += '\b'; return true;
    case 'f': out += '\f'; return true;
    case 'n': out += '\n'; return true;
    case 'r': out += '\r'; return true;
    case 't': out += '\t'; return true;
    case 'u': return unicode_escape(out);
    default: return false;
    }
  }

  std::optional<std::string> string_value() {
    ++m_pos; // opening quote
    std::string out;
    while (!at_end()) {
      const auto c = static_cast<unsigned char>(m_text[m_pos]);
      if (c == '"') {
        ++m_pos;
        return out;
      }
      if (c < 0x20) return std::nullopt;
      if (c == '\\') {
        ++m_pos;
        if (!escape(out)) return std::nullopt;
        continue;
      }
      const auto d = util::decode_rune(m_text, m_pos);
      if (d.valid)
        out.append(m_text.substr(m_pos, d.width));
      else
        util::append_rune(out, util::k_replacement_char);
      m_pos += d.width;
    }
    return std::nullopt;
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

} // namespace

JsonForm parse_json_form(std::string_view text) {
  text = util::trim_left_unicode_space(text);
  if (text.empty() || text.front() != '[') return {};
  auto form = JsonReader(text).top_level();
  if (!form) return {};
  return std::move(*form);
}

} // namespace mason::frontend::dockerfile
