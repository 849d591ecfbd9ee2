// Word expansion and splitting for Dockerfile instructions, with the
// semantics of the reference builder's shell lexer (BuildKit's
// frontend/dockerfile/shell): quotes, escapes, $v ${v} and the modifiers
// - :- + :+ ? :? # ## % %% / //. See docs/parser.md.
//
// Pure: no I/O, never consults the process environment. A Lexer is cheap
// and immutable; it is safe to use one from several threads.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mason/util/error.h"

namespace mason::frontend::dockerfile {

// The variables visible to an expansion. Names are case-sensitive.
class EnvGetter {
public:
  virtual ~EnvGetter() = default;
  virtual std::optional<std::string_view> get(std::string_view name) const = 0;
};

// An ordered NAME=value list (later definitions of a name replace earlier
// ones in place), the shape of an image config's Env.
class EnvList final : public EnvGetter {
public:
  EnvList() = default;
  std::optional<std::string_view> get(std::string_view name) const override;
  void set(std::string_view name, std::string_view value);
  bool contains(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return m_items; }

private:
  std::vector<std::pair<std::string, std::string>> m_items;
};

struct LexOptions {
  char32_t escape = U'\\';
  bool raw_quotes = false;          // keep quote characters in the output
  bool raw_escapes = false;         // keep escape characters in the output
  bool skip_process_quotes = false; // treat quotes as ordinary characters
  bool skip_unset_env = false;      // leave $unset references as written
};

struct ExpandResult {
  std::string result;              // single-string mode
  std::vector<std::string> words;  // word-list mode
  std::set<std::string> matched;   // variables referenced and set
  std::set<std::string> unmatched; // variables referenced and not set
};

class Lexer {
public:
  explicit Lexer(LexOptions options = {}) : m_options(options) {}

  // Expands `word` into one string (spaces between words kept).
  // Errors (unclosed quote, bad substitution, ${v:?msg} on unset v, ...)
  // have code invalid_argument and a message naming the input.
  util::Result<ExpandResult> process_word(std::string_view word, const EnvGetter& env) const;

  // Expands `word` and splits it into words as a shell would after
  // expansion; quoted text is never split.
  util::Result<std::vector<std::string>> process_words(std::string_view word,
                                                       const EnvGetter& env) const;

  const LexOptions& options() const { return m_options; }

private:
  LexOptions m_options;
};

} // namespace mason::frontend::dockerfile
