// The reference dump format (docs/parser.md, "dump"): keyword lower-cased,
// flags as a Go %q slice, arguments as Go double-quoted literals.
#include <cstdint>

#include "mason/frontend/dockerfile/ast.h"
#include "mason/util/utf8.h"

namespace mason::frontend::dockerfile {

namespace {

struct Range {
  char32_t lo, hi;
};

// Code points that Go's strconv.IsPrint rejects beyond ASCII: controls (Cc),
// format characters (Cf), space separators other than U+0020 (Zs), line and
// paragraph separators, private use (Co), noncharacters and the large
// unassigned planes. Smaller unassigned gaps inside assigned blocks are
// printed raw (see docs/parser.md).
constexpr Range k_non_printable[] = {
    {0x80, 0xA0},       {0xAD, 0xAD},       {0x600, 0x605},      {0x61C, 0x61C},
    {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x890, 0x891},      {0x8E2, 0x8E2},
    {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},    {0x2028, 0x202F},
    {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},    {0xD800, 0xF8FF},
    {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},   {0xFFF0, 0xFFFB},    {0xFFFE, 0xFFFF},
    {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F},  {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A}, {0x323B0, 0xE00FF}, {0xE01F0, 0x10FFFF},
};

bool is_printable(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r != 0x7F;
  if ((r & 0xFFFE) == 0xFFFE) return false; // per-plane noncharacters
  for (const auto& range : k_non_printable)
    if (r >= range.lo && r <= range.hi) return false;
  return true;
}

void append_hex(std::string& out, std::uint32_t v, int digits) {
  static constexpr char k_hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += k_hex[(v >> (4 * i)) & 0xF];
}

void quote_rune(std::string& out, char32_t r, std::string_view raw) {
  switch (r) {
  case '"': out += "\\\""; return;
  case '\\': out += "\\\\"; return;
  case '\a': out += "\\a"; return;
  case '\b': out += "\\b"; return;
  case '\f': out += "\\f"; return;
  case '\n': out += "\\n"; return;
  case '\r': out += "\\r"; return;
  case '\t': out += "\\t"; return;
  case '\v': out += "\\v"; return;
  default: break;
  }
  if (is_printable(r)) {
    out.append(raw);
  } else if (r < 0x20 || r == 0x7F) {
    out += "\\x";
    append_hex(out, static_cast<std::uint32_t>(r), 2);
  } else if (r < 0x10000) {
    out += "\\u";
    append_hex(out, static_cast<std::uint32_t>(r), 4);
  } else {
    out += "\\U";
    append_hex(out, static_cast<std::uint32_t>(r), 8);
  }
}

} // namespace

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t pos = 0; pos < s.size();) {
    const auto d = util::decode_rune(s, pos);
    if (!d.valid) {
      out += "\\x";
      append_hex(out, static_cast<unsigned char>(s[pos]), 2);
    } else {
      quote_rune(out, d.rune, s.substr(pos, d.width));
    }
    pos += d.width;
  }
  out += '"';
  return out;
}

std::string dump_node(const Node& node) {
  std::string out = util::go_to_lower(node.keyword);
  if (!node.flags.empty()) {
    out += " [";
    for (std::size_t i = 0; i < node.flags.size(); ++i) {
      if (i) out += ' ';
      out += go_quote(node.flags[i]);
    }
    out += ']';
  }
  if (node.sub) {
    out += " (" + dump_node(*node.sub) + ")";
  }
  for (const auto& arg : node.args) {
    out += ' ';
    out += go_quote(arg);
  }
  return std::string(util::trim_unicode_space(out));
}

std::string dump(const Ast& ast) {
  std::string out;
  for (const auto& node : ast.children) {
    out += '(';
    out += dump_node(node);
    out += ")\n";
  }
  return out;
}

} // namespace mason::frontend::dockerfile
