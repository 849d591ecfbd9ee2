#include "mason/frontend/dockerfile/diagnostic.h"

#include <fmt/format.h>

namespace mason::frontend::dockerfile {

namespace {

// The text of physical line `line` (1-based), without its line ending.
std::string_view physical_line(std::string_view source, int line) {
  std::size_t start = 0;
  for (int i = 1; i < line; ++i) {
    const auto nl = source.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  auto end = source.find('\n', start);
  if (end == std::string_view::npos) end = source.size();
  auto text = source.substr(start, end - start);
  while (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

// Column of the first non-blank byte: where the caret goes by default.
std::size_t first_non_blank(std::string_view text) {
  const auto pos = text.find_first_not_of(" \t");
  return pos == std::string_view::npos ? 0 : pos;
}

void render_one(std::string& out, std::string_view label, std::string_view source,
                const Diagnostic& d) {
  if (d.line <= 0) {
    out += fmt::format("{}: {}\n", label, d.message);
    return;
  }
  out += fmt::format("{}:{}: {}\n", label, d.line, d.message);
  const auto text = physical_line(source, d.line);
  const auto number = std::to_string(d.line);
  out += fmt::format(" {} | {}\n", number, text);
  auto column = d.column == Diagnostic::k_no_column ? first_non_blank(text) : d.column;
  if (!d.caret_at.empty()) {
    if (const auto at = text.find(d.caret_at); at != std::string_view::npos) column = at;
  }
  if (column > text.size()) column = text.size();
  std::string pad;
  for (std::size_t i = 0; i < column; ++i) pad += text[i] == '\t' ? '\t' : ' ';
  out += fmt::format(" {} | {}^\n", std::string(number.size(), ' '), pad);
}

} // namespace

std::string format_diagnostics(std::string_view label, std::string_view source,
                               const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) render_one(out, label, source, d);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

util::Error diagnostics_error(std::string_view label, std::string_view source,
                              const std::vector<Diagnostic>& diagnostics) {
  return util::Error(util::ErrorCode::invalid_argument,
                     format_diagnostics(label, source, diagnostics));
}

} // namespace mason::frontend::dockerfile
