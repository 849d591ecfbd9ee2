// The Dockerfile syntax tree: what the parser produces and the dump
// (conformance) format reads. Keywords, flags and arguments are kept as
// written; nothing is expanded or unquoted here (see docs/parser.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace mason::frontend::dockerfile {

// A here-document attached to RUN/COPY/ADD (`<<EOF`, `<<-EOF`, `3<<"EOF"`).
struct Heredoc {
  std::string name; // the delimiter, unquoted
  unsigned file_descriptor = 0;
  bool expand = true;  // false when any part of the delimiter was quoted
  bool chomp = false;  // `<<-`: leading tabs are stripped from the body
  std::string content; // body lines, each with its newline as read
};

// A parser directive from the top of the file (`# syntax=...`).
struct Directive {
  std::string name; // lower case: syntax, escape, check
  std::string value;
  int line = 0;
};

// A non-fatal finding (empty continuation lines, ...).
struct Warning {
  std::string message;
  int line = 0;
};

// One instruction. Line numbers are 1-based physical lines; end_line
// includes continuation lines and heredoc bodies and terminators.
struct Node {
  std::string keyword;            // as written (case kept)
  std::vector<std::string> flags; // `--name=value` words, unquoted
  std::vector<std::string> args;  // the argument chain (see docs/parser.md)
  std::unique_ptr<Node> sub;      // ONBUILD: the nested instruction
  bool json = false;              // arguments came from JSON (exec) form
  std::vector<Heredoc> heredocs;
  std::string original;              // the logical line, continuations joined
  std::vector<std::string> comments; // comment lines right above it
  int start_line = 0;
  int end_line = 0;
};

struct Ast {
  std::vector<Node> children;
  char32_t escape = U'\\';
  std::vector<Directive> directives;
  std::vector<Warning> warnings;
  int start_line = 0; // of the first instruction
  int end_line = 0;   // of the last instruction
};

// The reference dump: one `(keyword [flags] "arg"...)` line per instruction,
// byte-identical to BuildKit's Node.Dump() + "\n".
std::string dump(const Ast& ast);
std::string dump_node(const Node& node);

// Go's strconv.Quote of a UTF-8 string (the dump's quoting rule).
std::string go_quote(std::string_view s);

} // namespace mason::frontend::dockerfile
