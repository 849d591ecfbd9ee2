// Fuzzes the shell lexer in every option combination. The first byte picks
// the options; the rest is the word. Errors are fine; crashes are not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mason/frontend/dockerfile/shell.h"

namespace df = mason::frontend::dockerfile;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto mode = data[0];
  const std::string_view word(reinterpret_cast<const char*>(data + 1), size - 1);
  df::LexOptions opt;
  opt.escape = (mode & 1) ? U'`' : U'\\';
  opt.raw_quotes = mode & 2;
  opt.raw_escapes = mode & 4;
  opt.skip_process_quotes = mode & 8;
  opt.skip_unset_env = mode & 16;
  df::EnvList env;
  env.set("A", "a b*c");
  env.set("EMPTY", "");
  env.set("P", "/usr/local/bin:/usr/bin");
  const df::Lexer lexer(opt);
  (void)lexer.process_word(word, env);
  (void)lexer.process_words(word, env);
  return 0;
}
