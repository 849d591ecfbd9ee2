// Parser behaviour the reference vectors do not cover: heredocs, CRLF,
// BOM, directives, flags quoting, JSON edge cases, errors with positions.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "mason/frontend/dockerfile/json_form.h"
#include "mason/frontend/dockerfile/parser.h"

using namespace mason::frontend::dockerfile;

namespace {

std::string dump_of(std::string_view text) {
  auto r = parse(text);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().message);
  return dump(r.ast);
}

std::string first_error(std::string_view text) {
  auto r = parse(text);
  return r.errors.empty() ? std::string() : r.errors.front().message;
}

} // namespace

TEST(Parser, HeredocBodyIsAttachedAndNotDumped) {
  const auto r = parse("FROM busybox\nRUN <<EOF\necho hi\necho there\nEOF\nCMD x\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.ast.children.size(), 3u);
  const auto& run = r.ast.children[1];
  EXPECT_EQ(dump_node(run), "run \"<<EOF\"");
  ASSERT_EQ(run.heredocs.size(), 1u);
  EXPECT_EQ(run.heredocs[0].name, "EOF");
  EXPECT_EQ(run.heredocs[0].content, "echo hi\necho there\n");
  EXPECT_TRUE(run.heredocs[0].expand);
  EXPECT_FALSE(run.heredocs[0].chomp);
  EXPECT_EQ(run.start_line, 2);
  EXPECT_EQ(run.end_line, 5);
  EXPECT_EQ(r.ast.children[2].start_line, 6);
}

TEST(Parser, QuotedHeredocDelimiterDisablesExpansion) {
  for (const char* word : {"<<'EOF'", "<<\"EOF\"", "<<E'O'F"}) {
    const auto r = parse(std::string("FROM a\nRUN cat ") + word + "\n$HOME\nEOF\n");
    ASSERT_TRUE(r.ok()) << word;
    ASSERT_EQ(r.ast.children[1].heredocs.size(), 1u) << word;
    EXPECT_EQ(r.ast.children[1].heredocs[0].name, "EOF") << word;
    EXPECT_FALSE(r.ast.children[1].heredocs[0].expand) << word;
  }
}

TEST(Parser, ChompedHeredocTerminatorMayBeIndentedWithTabs) {
  const auto r = parse("FROM a\nRUN <<-EOT\n\techo hi\n\tEOT\nRUN true\n");
  ASSERT_TRUE(r.ok());
  const auto& doc = r.ast.children[1].heredocs.at(0);
  EXPECT_TRUE(doc.chomp);
  EXPECT_EQ(doc.content, "\techo hi\n"); // tabs are removed when used, not here
  EXPECT_EQ(r.ast.children.size(), 3u);
}

TEST(Parser, SeveralHeredocsOnOneLineInOrder) {
  const auto r = parse("FROM a\nCOPY <<A <<B /dst/\nfirst\nA\nsecond\nB\n");
  ASSERT_TRUE(r.ok());
  const auto& copy = r.ast.children[1];
  EXPECT_EQ(dump_node(copy), "copy \"<<A\" \"<<B\" \"/dst/\"");
  ASSERT_EQ(copy.heredocs.size(), 2u);
  EXPECT_EQ(copy.heredocs[0].content, "first\n");
  EXPECT_EQ(copy.heredocs[1].content, "second\n");
  EXPECT_EQ(copy.end_line, 6);
}

TEST(Parser, HeredocWithFileDescriptorAndShebang) {
  const auto r = parse("FROM a\nRUN 3<<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n");
  ASSERT_TRUE(r.ok());
  const auto& doc = r.ast.children[1].heredocs.at(0);
  EXPECT_EQ(doc.file_descriptor, 3u);
  EXPECT_EQ(doc.content, "#!/usr/bin/env python3\nprint(1)\n");
}

TEST(Parser, HeredocBodyMayContainHeredocText) {
  const auto r = parse("FROM a\nRUN <<EOT\ncat <<'eot'\nx\neot\nEOT\nRUN y\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ast.children.size(), 3u);
  EXPECT_EQ(r.ast.children[1].heredocs.at(0).content, "cat <<'eot'\nx\neot\n");
}

TEST(Parser, HeredocOnlyForRunCopyAddInShellForm) {
  // JSON form and other instructions keep << as text; no body is consumed.
  const auto r = parse("FROM a\nRUN [\"cat\", \"<<EOF\"]\nLABEL x=<<EOF\nEOF\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.ast.children[1].heredocs.empty());
  EXPECT_EQ(r.ast.children.size(), 4u); // the stray EOF line is an (unknown) instruction
}

TEST(Parser, HeredocUnderOnbuild) {
  const auto r = parse("FROM a\nONBUILD RUN <<EOF\necho\nEOF\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ast.children.size(), 2u);
  EXPECT_EQ(r.ast.children[1].heredocs.size(), 1u);
}

TEST(Parser, UnterminatedHeredocIsAnError) {
  const auto r = parse("FROM a\nRUN <<EOF\necho\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].message, "unterminated heredoc");
  EXPECT_EQ(r.errors[0].line, 2);
}

TEST(Parser, CrlfAndBom) {
  EXPECT_EQ(dump_of("\xEF\xBB\xBF"
                    "FROM a\r\nRUN echo \\\r\n  hi\r\n"),
            "(from \"a\")\n(run \"echo   hi\")\n");
}

TEST(Parser, EscapeDirectiveBacktick) {
  EXPECT_EQ(dump_of("# escape=`\nFROM a\nRUN dir c:\\ `\n  /b\n"),
            "(from \"a\")\n(run \"dir c:\\\\   /b\")\n");
}

TEST(Parser, DirectivesRecordedAndOnlyAtTop) {
  const auto r =
      parse("# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n# escape=`\nRUN a \\\n b\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.ast.directives.size(), 2u);
  EXPECT_EQ(r.ast.directives[0].name, "syntax");
  EXPECT_EQ(r.ast.directives[0].value, "docker/dockerfile:1");
  EXPECT_EQ(r.ast.directives[1].name, "check");
  EXPECT_EQ(r.ast.escape, U'\\');
  EXPECT_EQ(dump(r.ast), "(from \"a\")\n(run \"a  b\")\n");
}

TEST(Parser, DuplicateOrInvalidDirectiveIsAnError) {
  EXPECT_EQ(first_error("# escape=`\n# escape=\\\nFROM a\n"),
            "only one escape parser directive can be used");
  EXPECT_EQ(first_error("# escape=x\nFROM a\n"), "invalid escape token 'x' does not match ` or \\");
}

TEST(Parser, CommentAndEmptyLinesInsideContinuation) {
  const auto r = parse("FROM a\nRUN a \\\n# comment\n\n  b\nCMD c\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(dump(r.ast), "(from \"a\")\n(run \"a   b\")\n(cmd \"c\")\n");
  EXPECT_EQ(r.ast.children[1].end_line, 5);
  EXPECT_EQ(r.ast.warnings.size(), 1u);
}

TEST(Parser, FlagQuotingAndDoubleDash) {
  EXPECT_EQ(dump_of("FROM a\nCOPY --chown=\"a b\" --chmod='755' x y\nCOPY -- --weird y\n"),
            "(from \"a\")\n(copy [\"--chown=a b\" \"--chmod=755\"] \"x\" \"y\")\n(copy \"--weird\" "
            "\"y\")\n");
}

TEST(Parser, FlagsOnOnbuildTrigger) {
  EXPECT_EQ(dump_of("FROM a\nONBUILD RUN --mount=type=cache,target=/x echo hi\n"),
            "(from \"a\")\n(onbuild (run [\"--mount=type=cache,target=/x\"] \"echo hi\"))\n");
}

TEST(Parser, UnknownInstructionHasOneEmptyArgument) {
  EXPECT_EQ(dump_of("FROM a\nFOO bar baz\n"), "(from \"a\")\n(foo \"\")\n");
}

TEST(Parser, EnvAndLabelForms) {
  EXPECT_EQ(dump_of("FROM a\nENV a b c\nENV x=\"1 2\" y=3\nLABEL k=v\n"),
            "(from \"a\")\n(env \"a\" \"b c\" \"\")\n(env \"x\" \"\\\"1 2\\\"\" \"=\" \"y\" \"3\" "
            "\"=\")\n"
            "(label \"k\" \"v\" \"=\")\n");
  EXPECT_EQ(first_error("FROM a\nENV x=1 y\n"),
            "Syntax error - can't find = in \"y\". Must be of the form: name=value");
  EXPECT_EQ(first_error("FROM a\nLABEL onlyname\n"), "LABEL must have two arguments");
}

TEST(Parser, ErrorsAreCollectedAcrossInstructions) {
  const auto r = parse("FROM a\nENV PATH\nRUN [\"a\", 1]\nLABEL x\n");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[1].line, 3);
  EXPECT_EQ(r.errors[1].message,
            "when using JSON array syntax, arrays must be comprised of strings only");
  EXPECT_EQ(r.errors[2].line, 4);
}

TEST(Parser, NoInstructions) {
  EXPECT_EQ(first_error(""), "file with no instructions");
  EXPECT_EQ(first_error("# just a comment\n\n"), "file with no instructions");
}

TEST(Parser, OverlongLineIsAnError) {
  const std::string text = "FROM a\nRUN " + std::string(70000, 'x') + "\n";
  EXPECT_EQ(first_error(text), "dockerfile line greater than max allowed size of 65535");
}

TEST(JsonForm, Decoding) {
  auto f = parse_json_form(R"(  ["a\u00e9", "\ud83d\ude00", "\ud800", "x\/y"])");
  ASSERT_EQ(f.status, JsonFormStatus::strings);
  ASSERT_EQ(f.values.size(), 4u);
  EXPECT_EQ(f.values[0], "a\xC3\xA9");
  EXPECT_EQ(f.values[1], "\xF0\x9F\x98\x80");
  EXPECT_EQ(f.values[2], "\xEF\xBF\xBD");
  EXPECT_EQ(f.values[3], "x/y");
}

TEST(JsonForm, InvalidFallsBackNonStringFails) {
  EXPECT_EQ(parse_json_form("['a']").status, JsonFormStatus::not_json);
  EXPECT_EQ(parse_json_form("[\"a\"] x").status, JsonFormStatus::not_json);
  EXPECT_EQ(parse_json_form("[\"a\",]").status, JsonFormStatus::not_json);
  EXPECT_EQ(parse_json_form("[\"a\tb\"]").status, JsonFormStatus::not_json);
  EXPECT_EQ(parse_json_form("[\"a\", 1e999]").status, JsonFormStatus::not_json);
  EXPECT_EQ(parse_json_form("[\"a\", {\"b\": [1, null, true]}]").status,
            JsonFormStatus::not_all_strings);
  EXPECT_EQ(parse_json_form("[]").status, JsonFormStatus::strings);
  EXPECT_EQ(parse_json_form(std::string(20000, '[')).status, JsonFormStatus::not_json);
}

TEST(Dump, GoQuoting) {
  EXPECT_EQ(go_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(go_quote(std::string("\x00\x07\x1b\x7f", 4)), R"("\x00\a\x1b\x7f")");
  EXPECT_EQ(go_quote("\xE2\x99\xA5"), "\"\xE2\x99\xA5\"");          // printable: raw
  EXPECT_EQ(go_quote("\xC2\xA0\xE2\x80\x8B"), R"("\u00a0\u200b")"); // NBSP, ZWSP
  EXPECT_EQ(go_quote("\xFF"), R"("\xff")");                         // invalid byte
  EXPECT_EQ(go_quote("\xF3\xA0\x80\x81"), R"("\U000e0001")");       // tag character (Cf)
  EXPECT_EQ(go_quote("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\"");          // U+FFFD is printable
}

// Regression cases found by differential testing against the reference
// parser: tests/unit/frontend/parser_regress/<case>/ holds the Dockerfile
// and either the reference's `result` dump or an `error` marker.
TEST(Parser, DifferentialRegressions) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(MASON_SOURCE_DIR) / "tests/unit/frontend/parser_regress";
  if (!fs::exists(dir)) GTEST_SKIP() << "no regression cases yet";
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto slurp = [](const fs::path& p) {
      std::ifstream in(p, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const auto parsed = parse(slurp(e.path() / "Dockerfile"));
    if (fs::exists(e.path() / "error")) {
      EXPECT_FALSE(parsed.ok()) << e.path().filename() << " must be rejected";
    } else {
      ASSERT_TRUE(parsed.ok()) << e.path().filename() << ": " << parsed.errors.front().message;
      EXPECT_EQ(dump(parsed.ast), slurp(e.path() / "result")) << e.path().filename();
    }
    ++n;
  }
  EXPECT_GT(n, 0u);
}
