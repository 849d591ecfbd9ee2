// Runs the upstream shell-lexer vectors (shell/envVarTest, shell/wordsTest)
// read in place, following section 2 of the conformance README. Every
// failing vector is reported with its line number; the pass counts go to
// the conformance summary.
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "conformance_dir.h"
#include "mason/frontend/dockerfile/shell.h"

namespace mason::frontend::dockerfile {
namespace {

constexpr std::string_view k_blanks = " \t\r\n\v\f";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(k_blanks);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(k_blanks);
  return s.substr(first, last - first + 1);
}

std::string_view trim_left_spaces(std::string_view s) {
  const auto first = s.find_first_not_of(' ');
  return first == std::string_view::npos ? std::string_view() : s.substr(first);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// Lines as a line scanner yields them: split on LF, a final CR dropped, no
// empty line after a final newline.
std::vector<std::string> read_lines(const std::filesystem::path& path) {
  const std::string text = mason::test::read_file(path);
  std::vector<std::string> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const auto at = rest.find('\n');
    std::string_view line = rest.substr(0, at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (at == std::string_view::npos) break;
    rest.remove_prefix(at + 1);
  }
  return lines;
}

std::string show(const std::vector<std::string>& words) {
  std::string out = "[";
  for (std::size_t i = 0; i < words.size(); ++i) out += (i ? ", \"" : "\"") + words[i] + "\"";
  return out + "]";
}

TEST(ShellConformance, EnvVarTest) {
  MASON_CONFORMANCE_OR_SKIP(dir, "shell");
  const auto lines = read_lines(dir / "envVarTest");
  ASSERT_FALSE(lines.empty()) << "cannot read " << dir / "envVarTest";

  EnvList env;
  env.set("PWD", "/home");
  env.set("SHELL", "bash");
  env.set("KOREAN", "한국어");
  env.set("NULL", "");
  const Lexer lexer; // backslash escape, quotes and escapes processed

  int applicable = 0;
  int passed = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t line_no = i + 1;
    if (lines[i].starts_with('#')) continue;
    const std::string_view line = trim(lines[i]);
    if (line.empty()) continue;
    const auto fields = split(line, '|');
    ASSERT_EQ(fields.size(), 3u) << "envVarTest:" << line_no << ": need 3 fields";
    const std::string_view tag = trim(fields[0]);
    const std::string_view input = trim(fields[1]);
    const std::string_view expected = trim(fields[2]);
    ASSERT_TRUE(tag == "A" || tag == "U" || tag == "W")
        << "envVarTest:" << line_no << ": bad platform tag " << tag;
    if (tag == "W") continue; // Windows only; we are Linux
    ++applicable;

    const auto got = lexer.process_word(input, env);
    if (expected == "error") {
      if (!got) {
        ++passed;
      } else {
        ADD_FAILURE() << "envVarTest:" << line_no << ": " << input << " should fail, got \""
                      << got->result << "\"";
      }
    } else if (!got) {
      ADD_FAILURE() << "envVarTest:" << line_no << ": " << input
                    << " failed: " << got.error().to_string();
    } else if (got->result != expected) {
      ADD_FAILURE() << "envVarTest:" << line_no << ": " << input << " gave \"" << got->result
                    << "\", want \"" << expected << "\"";
    } else {
      ++passed;
    }
  }
  // The README counts 228 vectors that apply on a non-Windows platform; a
  // different number means this runner misread the file.
  EXPECT_EQ(applicable, 228);
  mason::test::record_summary("envVarTest " + std::to_string(passed) + "/" +
                              std::to_string(applicable) + " passed");
}

TEST(ShellConformance, WordsTest) {
  MASON_CONFORMANCE_OR_SKIP(dir, "shell");
  const auto lines = read_lines(dir / "wordsTest");
  ASSERT_FALSE(lines.empty()) << "cannot read " << dir / "wordsTest";

  EnvList env;
  const Lexer lexer;
  int total = 0;
  int passed = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t line_no = i + 1;
    const std::string_view line = lines[i];
    if (line.starts_with('#')) continue;
    if (line.starts_with("ENV ")) {
      // NAME=VALUE, trailing spaces significant.
      const std::string_view def = trim_left_spaces(line.substr(4));
      const auto eq = def.find('=');
      env.set(def.substr(0, eq), eq == std::string_view::npos ? "" : def.substr(eq + 1));
      continue;
    }
    const auto fields = split(line, '|');
    ASSERT_EQ(fields.size(), 2u) << "wordsTest:" << line_no << ": need exactly one |";
    ++total;
    const std::string_view input = trim(fields[0]);
    std::vector<std::string> expected;
    for (auto word : split(trim_left_spaces(fields[1]), ',')) expected.emplace_back(word);

    const auto got = lexer.process_words(input, env);
    const std::vector<std::string> words = got ? *got : std::vector<std::string>{"error"};
    if (words == expected) {
      ++passed;
    } else {
      ADD_FAILURE() << "wordsTest:" << line_no << ": " << input << " gave " << show(words)
                    << ", want " << show(expected)
                    << (got ? "" : " (error: " + got.error().to_string() + ")");
    }
  }
  EXPECT_EQ(total, 24);
  mason::test::record_summary("wordsTest " + std::to_string(passed) + "/" + std::to_string(total) +
                              " passed");
}

} // namespace
} // namespace mason::frontend::dockerfile
