// Dockerfile text -> syntax tree (Ast), with the exact line handling of the
// reference parser: directives, comments, continuations with either escape
// character, JSON vs shell form, flags, here-documents. See docs/parser.md.
//
// Pure: the caller hands in the bytes. Thread-safe (no shared state).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "mason/frontend/dockerfile/ast.h"
#include "mason/frontend/dockerfile/diagnostic.h"

namespace mason::frontend::dockerfile {

struct ParseResult {
  Ast ast;
  // Every error found. The parser keeps going after an error in one
  // instruction, so a file's mistakes are reported together.
  std::vector<Diagnostic> errors;
  bool ok() const { return errors.empty(); }
};

ParseResult parse(std::string_view text);

// A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`) as a Heredoc without
// content; nullopt when `word` is not one (or cannot be lexed).
std::optional<Heredoc> parse_heredoc_word(std::string_view word);

// The instruction keywords the reference parser knows (lower case).
bool is_known_instruction(std::string_view lower_keyword);

} // namespace mason::frontend::dockerfile
