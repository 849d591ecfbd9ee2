// Runs the reference parser vectors (../shared/conformance, read in place):
// parser/ and realworld/ dumps byte for byte, parser-negative/ rejected,
// parser-lineinfo/ line ranges.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "conformance_dir.h"
#include "mason/frontend/dockerfile/parser.h"

namespace fs = std::filesystem;
using mason::frontend::dockerfile::dump;
using mason::frontend::dockerfile::parse;
using mason::test::read_file;

namespace {

std::vector<fs::path> case_dirs(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && fs::exists(e.path() / "Dockerfile")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Parses every case of `dir` and compares its dump with `result`.
void check_dumps(const fs::path& dir, const std::string& label, std::size_t expected_count) {
  std::size_t passed = 0;
  const auto cases = case_dirs(dir);
  for (const auto& c : cases) {
    const auto parsed = parse(read_file(c / "Dockerfile"));
    if (!parsed.ok()) {
      ADD_FAILURE() << c.filename() << ": parse failed: " << parsed.errors.front().message;
      continue;
    }
    const auto got = dump(parsed.ast);
    const auto want = read_file(c / "result");
    if (got == want)
      ++passed;
    else
      ADD_FAILURE() << c.filename() << ": dump differs\n--- got\n" << got << "--- want\n" << want;
  }
  EXPECT_EQ(cases.size(), expected_count) << "unexpected number of " << label << " cases";
  mason::test::record_summary(label + " " + std::to_string(passed) + "/" +
                              std::to_string(cases.size()) + " passed");
}

} // namespace

TEST(ParserConformance, PositiveCasesDumpByteForByte) {
  MASON_CONFORMANCE_OR_SKIP(dir, "parser");
  check_dumps(dir, "parser", 33);
}

TEST(ParserConformance, RealWorldDumpByteForByte) {
  MASON_CONFORMANCE_OR_SKIP(dir, "realworld");
  check_dumps(dir, "realworld", 332);
}

TEST(ParserConformance, NegativeCasesAreRejected) {
  MASON_CONFORMANCE_OR_SKIP(dir, "parser-negative");
  std::size_t rejected = 0;
  const auto cases = case_dirs(dir);
  for (const auto& c : cases) {
    if (!parse(read_file(c / "Dockerfile")).ok())
      ++rejected;
    else
      ADD_FAILURE() << c.filename() << ": accepted, must be rejected";
  }
  EXPECT_EQ(cases.size(), 4u);
  mason::test::record_summary("parser-negative " + std::to_string(rejected) + "/" +
                              std::to_string(cases.size()) + " rejected");
}

TEST(ParserConformance, LineInfo) {
  MASON_CONFORMANCE_OR_SKIP(dir, "parser-lineinfo");
  const auto parsed = parse(read_file(dir / "Dockerfile"));
  ASSERT_TRUE(parsed.ok());
  std::ostringstream got;
  got << "root " << parsed.ast.start_line << ' ' << parsed.ast.end_line << '\n';
  for (const auto& n : parsed.ast.children)
    got << "child " << n.start_line << ' ' << n.end_line << '\n';
  // `expected` may carry comment lines; compare only the number lines.
  std::istringstream want_in(read_file(dir / "expected"));
  std::string line, want;
  while (std::getline(want_in, line))
    if (line.starts_with("root ") || line.starts_with("child ")) want += line + '\n';
  EXPECT_EQ(got.str(), want);
  mason::test::record_summary(std::string("parser-lineinfo ") +
                              (got.str() == want ? "1/1" : "0/1") + " passed");
}
