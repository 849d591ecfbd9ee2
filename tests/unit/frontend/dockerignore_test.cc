// Table tests for .dockerignore reading and matching. Expected values follow
// the reference (moby/patternmatcher + ignorefile, as BuildKit's context
// walker applies them), including its documented examples and its quirks.
#include "mason/frontend/dockerignore.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace mason::frontend {
namespace {

std::string show(const std::vector<std::string>& v) {
  std::string out = "{";
  for (const auto& s : v) out += "\"" + s + "\" ";
  return out + "}";
}

// Decides rel_path the way a walker does: a step per ancestor, handing each
// directory's state to its children.
bool walk_to(const IgnoreMatcher& m, const std::string& rel_path) {
  IgnoreMatcher::DirState state;
  for (std::size_t k = rel_path.find('/'); k != std::string::npos; k = rel_path.find('/', k + 1)) {
    IgnoreMatcher::DirState next;
    m.excluded_given_parent(rel_path.substr(0, k), state, &next);
    state = std::move(next);
  }
  return m.excluded_given_parent(rel_path, state);
}

// ---------------------------------------------------------------------------
// Matching: patterns as given to IgnoreMatcher::create (the reference's New).

struct MatchCase {
  std::vector<std::string> patterns;
  std::string path;
  bool excluded;
};

// NOLINTNEXTLINE(readability-identifier-naming): gtest's printer hook
void PrintTo(const MatchCase& c, std::ostream* os) {
  *os << show(c.patterns) << " path \"" << c.path << "\" -> " << (c.excluded ? "excluded" : "kept");
}

class MatchTable : public ::testing::TestWithParam<MatchCase> {};

TEST_P(MatchTable, Decides) {
  const MatchCase& c = GetParam();
  auto m = IgnoreMatcher::create(c.patterns);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->excluded(c.path), c.excluded);
  EXPECT_EQ(walk_to(*m, c.path), c.excluded) << "walker steps disagree with excluded()";
}

const MatchCase k_docs_examples[] = {
    // docker's documented .dockerignore examples.
    {{"*/temp*"}, "somedir/temporary.txt", true},
    {{"*/temp*"}, "somedir/temp", true},
    {{"*/temp*"}, "somedir/temp/inside.txt", true},
    {{"*/temp*"}, "temporary.txt", false},
    {{"*/temp*"}, "a/b/temp", false},
    {{"*/*/temp*"}, "somedir/subdir/temporary.txt", true},
    {{"*/*/temp*"}, "somedir/temporary.txt", false},
    {{"temp?"}, "tempa", true},
    {{"temp?"}, "tempb", true},
    {{"temp?"}, "temp", false},
    {{"temp?"}, "tempab", false},
    {{"temp?"}, "dir/tempa", false},
    {{"**/*.go"}, "main.go", true},
    {{"**/*.go"}, "cmd/tool/main.go", true},
    {{"**/*.go"}, "main.go.txt", false},
    {{"*.md", "!README.md"}, "CHANGELOG.md", true},
    {{"*.md", "!README.md"}, "README.md", false},
    {{"*.md", "!README.md"}, "docs/guide.md", false},
    {{"*.md", "!README*.md", "README-secret.md"}, "README-secret.md", true},
    {{"*.md", "!README*.md", "README-secret.md"}, "README-v2.md", false},
    {{"*.md", "!README*.md", "README-secret.md"}, "notes.md", true},
    {{"*.md", "README-secret.md", "!README*.md"}, "README-secret.md", false},
    {{"*.md", "README-secret.md", "!README*.md"}, "notes.md", true},
    {{"Dockerfile", ".dockerignore"}, "Dockerfile", true},
    {{"."}, "anything", false}, // "." is ignored, for historical reasons
};
INSTANTIATE_TEST_SUITE_P(DocsExamples, MatchTable, ::testing::ValuesIn(k_docs_examples));

const MatchCase k_directories_and_order[] = {
    // A pattern matching a directory excludes everything below it.
    {{"docs"}, "docs/README.md", true},
    {{"a/b"}, "a/b/c/d", true},
    {{"a/b"}, "a/bc", false},
    {{"a"}, "b/a", false}, // patterns are anchored at the context root
    {{"*"}, "anything/deep/file", true},
    {{"docs", "!docs/README.md"}, "docs/README.md", false},
    {{"docs", "!docs/README.md"}, "docs/other.md", true},
    {{"docs/", "!docs/README.md"}, "docs/README.md", false},
    {{"docs/*", "!docs/README.md"}, "docs/README.md", false},
    {{"docs", "!docs/*.md"}, "docs/a.md", false},
    {{"docs", "!docs/*.md"}, "docs/sub/a.md", true},
    {{"docs", "!docs/*.md"}, "docs/a.txt", true},
    {{"build", "!build/keep"}, "build/keep/x/y", false},
    {{"vendor", "!vendor/keep/**"}, "vendor/keep", true},
    {{"vendor", "!vendor/keep/**"}, "vendor/keep/a.txt", false},
    {{"vendor", "!vendor/keep/**"}, "vendor/other", true},
    {{"**", "!util/docker/web"}, "util/docker/web/foo", false},
    {{"**", "!util/docker/web", "util/docker/web/foo"}, "util/docker/web/foo", true},
    {{"**", "!util/docker/web"}, "util/docker/other", true},
    // Later patterns override earlier ones.
    {{"*.go", "!fileutils.go"}, "fileutils.go", false},
    {{"!fileutils.go", "*.go"}, "fileutils.go", true},
    {{"a", "!a", "a"}, "a/b", true},
    {{"**/[ab]", "!**/a"}, "x/a", false},
    {{"**/[ab]", "!**/a"}, "x/b", true},
    // The walker's quirk: "!a" is skipped at "a" (nothing is excluded yet),
    // so it is not inherited, and does not re-include "a/x" excluded later.
    {{"a/x", "!a"}, "a/x", true},
    {{"a/x", "!a"}, "a/x/y", true},
    {{"a/x", "!a"}, "a/y", false},
    // The context root itself is never excluded.
    {{"*"}, "", false},
    {{"**"}, ".", false},
    {{}, "a/b", false},
};
INSTANTIATE_TEST_SUITE_P(DirectoriesAndOrder, MatchTable,
                         ::testing::ValuesIn(k_directories_and_order));

const MatchCase k_double_star[] = {
    {{"**"}, "file", true},
    {{"**"}, "dir/file", true},
    {{"**/"}, "file", true},
    {{"**/**"}, "dir/file", true},
    {{"dir/**"}, "dir/file", true},
    {{"dir/**"}, "dir/dir2/file", true},
    {{"abc/**"}, "abc", false},
    {{"abc/**"}, "abc/def/ghi", true},
    {{"**/dir"}, "dir", true},
    {{"**/dir"}, "dir/file", true},
    {{"**/dir2/*"}, "dir/dir2/file", true},
    {{"**/dir2/**"}, "dir/dir2/dir3/file", true},
    {{"**/file"}, "dir/dir/file", true},
    {{"**/file*"}, "dir/dir/file.txt", true},
    {{"**/file*txt"}, "dir/dir/file.txt", true},
    {{"**/file*.txt*"}, "dir/dir/file.txt", true},
    {{"**/**/*.txt"}, "dir/dir/file.txt", true},
    {{"**/**/*.txt2"}, "dir/dir/file.txt", false},
    {{"**/*.txt"}, "file.txt", true},
    {{"**/**/*.txt"}, "file.txt", true},
    {{"**/foo/bar"}, "foo/bar", true},
    {{"**/foo/bar"}, "dir/dir2/foo/bar", true},
    {{"**/.foo"}, ".foo", true},
    {{"**/.foo"}, "bar.foo", false},
    {{"**/foo"}, "x/barfoo", false},
    {{"a/**/b"}, "a/b", true}, // zero directories
    {{"a/**/b"}, "a/x/y/b", true},
    {{"a/**/b"}, "a/xb", false},
    {{"a**/*.txt"}, "a/file.txt", true},
    {{"a**/*.txt"}, "a/dir/dir/file.txt", true},
    {{"a/*.txt**"}, "a/file.txt", true},
    {{"**/*.py[co]"}, "x/y.pyc", true},
    {{"**/*.py[co]"}, "y.py", false},
    // "**" without a '/' is not limited to whole names.
    {{"**file"}, "dir/file", true},
    {{"**foo"}, "barfoo", true},
    {{"foo**"}, "foobar/x", true},
    {{"foo**"}, "fo", false},
    {{"a**/*.txt"}, "abc.txt", true},
};
INSTANTIATE_TEST_SUITE_P(DoubleStar, MatchTable, ::testing::ValuesIn(k_double_star));

const MatchCase k_glob_syntax[] = {
    {{"*"}, "abc", true},
    {{"*c"}, "abc", true},
    {{"a*"}, "ab/c", true}, // "ab" matches, so everything below it
    {{"a*/b"}, "abc/b", true},
    {{"a*/b"}, "a/c/b", false},
    {{"a*b*c*d*e*/f"}, "axbxcxdxe/f", true},
    {{"a*b*c*d*e*/f"}, "axbxcxdxe/xxx/f", false},
    {{"a*b?c*x"}, "abxbbxdbxebxczzx", true},
    {{"a*b?c*x"}, "abxbbxdbxebxczzy", false},
    {{"*x"}, "xxx", true},
    {{"a?b"}, "a/b", false},
    {{"a*b"}, "a/b", false},
    {{"a?b"},
     "a\xE2\x98\xBA"
     "b",
     true}, // '?' is one character, not one byte
    {{"a???b"},
     "a\xE2\x98\xBA"
     "b",
     false},
    {{"abc?def"}, "abcdef", false},
    {{"abc.def"}, "abcZdef", false},
    {{".*"}, ".foo", true},
    {{".*"}, "foo", false},
    {{"ab[c]"}, "abc", true},
    {{"ab[b-d]"}, "abc", true},
    {{"ab[e-g]"}, "abc", false},
    {{"ab[^c]"}, "abc", false},
    {{"ab[^e-g]"}, "abc", true},
    {{"a[^b-d]e"}, "aze", true},
    {{"a[b-d]e"}, "ae", false},
    {{"[a-\xCE\xB6]*"}, "\xCE\xB1", true}, // [a-ζ]* matches α
    {{"*[a-\xCE\xB6]"}, "A", false},
    {{"[!a]x"}, "!x", true}, // '!' does not negate: only '^' does
    {{"[!a]x"}, "bx", false},
    {{"a[^x]b"}, "a/b", true}, // a class may match '/'
    {{"[\\]a]"}, "]", true},
    {{"[\\-x]"}, "-", true},
    {{"[x\\-]"}, "z", false},
    {{"a\\*b"}, "a*b", true},
    {{"a\\*b"}, "ab", false},
    {{"a\\\\"}, "a\\", true},
    {{"a(b)c/def"}, "a(b)c/def", true},
    {{"a.|)$(}+{bc"}, "a.|)$(}+{bc", true},
    {{"dist/*.whl"}, "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true},
};
INSTANTIATE_TEST_SUITE_P(GlobSyntax, MatchTable, ::testing::ValuesIn(k_glob_syntax));

const MatchCase k_cleaning_and_quirks[] = {
    {{"  *.go  "}, "x.go", true},
    {{"", "*.go"}, "x.go", true},
    {{"./a"}, "a", true},
    {{"a/../b"}, "b", true},
    {{"a//b/"}, "a/b", true},
    // create() takes patterns as the reference's New does: a leading '/'
    // is only dropped by the file reader, and "!./a" cleans to itself.
    {{"/a"}, "a", false},
    {{"a", "!./a"}, "a", true},
    // Wildcard-free patterns compare literally...
    {{"a|b"}, "a|b", true},
    {{"x{2}"}, "x{2}", true},
    {{"a^b"}, "a^b", true},
    // ...but once a wildcard is present the reference hands the pattern to
    // Go's regexp, where '|', '{n}', '^', "\d" and "[[:digit:]]" keep their
    // regexp meaning ('|', '{' and '}' are not escaped).
    {{"a|b*"}, "apple", true},
    {{"a|b*"}, "crab", true},
    {{"a|b*"}, "cat", false},
    {{"x{2}*"}, "xx1", true},
    {{"x{2}*"}, "x1", false},
    {{"a^b*"}, "a^bc", false},
    {{"^a*"}, "abc", true},
    {{"\\d*"}, "1abc", true},
    {{"\\d*"}, "dabc", false},
    {{"[[:digit:]]*"}, "1abc", true},
    {{"[*]"}, "]", true},
    {{"[*]"}, "*", false},
    {{"\\101*"}, "Abc", true}, // octal escape: 'A'
    {{"\\x41*"}, "Abc", true},
    {{"\\x41*"}, "abc", false},
    // Invalid UTF-8 in a path decodes as U+FFFD, one byte at a time.
    {{"a*\xEF\xBF\xBD"}, "ab\xFF", true}, // a literal U+FFFD matches an invalid byte
    {{"a*\xEF\xBF\xBD"}, "abc", false},
    {{"a?b*"},
     "a\xFF"
     "b",
     true},
    {{"a??b*"},
     "a\xC3\xA9"
     "b",
     false},
};
INSTANTIATE_TEST_SUITE_P(CleaningAndQuirks, MatchTable, ::testing::ValuesIn(k_cleaning_and_quirks));

// ---------------------------------------------------------------------------
// Matching through the file reader (what users write in .dockerignore).

struct FileCase {
  std::string contents;
  std::string path;
  bool excluded;
};

// NOLINTNEXTLINE(readability-identifier-naming): gtest's printer hook
void PrintTo(const FileCase& c, std::ostream* os) {
  *os << "file \"" << c.contents << "\" path \"" << c.path << "\" -> "
      << (c.excluded ? "excluded" : "kept");
}

class FileTable : public ::testing::TestWithParam<FileCase> {};

TEST_P(FileTable, Decides) {
  const FileCase& c = GetParam();
  auto m = IgnoreMatcher::from_dockerignore(c.contents);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->excluded(c.path), c.excluded);
  EXPECT_EQ(walk_to(*m, c.path), c.excluded);
}

const FileCase k_file_cases[] = {
    {"/foo/bar\n", "foo/bar", true}, // "/foo/bar" and "foo/bar" are the same
    {"./foo\n", "foo/x", true},
    {"a\n!./a\n", "a", false},
    {"a\n! /a\n", "a", false},
    {"# *.go\n", "x.go", false},
    {"  # x\n", "# x", true}, // '#' only starts a comment in column 1
    {"\xEF\xBB\xBF*.go\n", "x.go", true},
    {"*.go\r\n!keep.go\r\n", "keep.go", false},
    {"node_modules\n**/*.log\n!important.log\n", "src/debug.log", true},
    {"node_modules\n**/*.log\n!important.log\n", "important.log", false},
    {"node_modules\n**/*.log\n!important.log\n", "node_modules/x/index.js", true},
    {"", "anything", false},
};
INSTANTIATE_TEST_SUITE_P(Files, FileTable, ::testing::ValuesIn(k_file_cases));

// ---------------------------------------------------------------------------
// Reading.

struct ReadCase {
  std::string contents;
  std::vector<std::string> patterns;
};

// NOLINTNEXTLINE(readability-identifier-naming): gtest's printer hook
void PrintTo(const ReadCase& c, std::ostream* os) { *os << "file \"" << c.contents << "\""; }

class ReadTable : public ::testing::TestWithParam<ReadCase> {};

TEST_P(ReadTable, Reads) {
  const ReadCase& c = GetParam();
  auto rules = read_dockerignore(c.contents);
  ASSERT_TRUE(rules.has_value()) << rules.error().to_string();
  std::vector<std::string> got;
  for (const auto& r : *rules) got.push_back(r.pattern);
  EXPECT_EQ(got, c.patterns);
}

const ReadCase k_read_cases[] = {
    // The reference reader's own example.
    {"test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ",
     {"test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"}},
    {"", {}},
    {"\n\n   \n\t\n", {}},
    {"\xEF\xBB\xBF"
     "a\n",
     {"a"}},
    {"\xEF\xBB\xBF# comment\nb", {"b"}},
    {"a\n\xEF\xBB\xBF"
     "b",
     {"a", "\xEF\xBB\xBF"
           "b"}}, // only the file's first bytes
    {"a\r\nb\r\n", {"a", "b"}},
    {" # not a comment", {"# not a comment"}},
    {"./a/../b/", {"b"}},
    {"a//b///c", {"a/b/c"}},
    {"!./x", {"!x"}},
    {"!\t/x/", {"!x"}},
    {"/", {"/"}},
    {"//a", {"a"}},
    {"/../a", {"a"}},
    {"../a", {"../a"}},
    {".", {"."}},
    {"\t*.go \xC2\xA0", {"*.go"}},        // U+00A0 is white space
    {"a\xE2\x80\x8B", {"a\xE2\x80\x8B"}}, // U+200B is not
    {"!!a", {"!!a"}},
};
INSTANTIATE_TEST_SUITE_P(Reading, ReadTable, ::testing::ValuesIn(k_read_cases));

TEST(ReadDockerignore, KeepsLineNumbers) {
  auto rules = read_dockerignore("a\n\n# c\n  b\n");
  ASSERT_TRUE(rules.has_value());
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].line, 1u);
  EXPECT_EQ((*rules)[1].line, 4u);
}

TEST(ReadDockerignore, RejectsLinesOf64KiB) {
  EXPECT_TRUE(read_dockerignore(std::string(65535, 'a') + "\n").has_value());
  auto r = read_dockerignore("ok\n" + std::string(65536, 'a'));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), util::ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message().find("line 2"), std::string::npos) << r.error().message();
}

// ---------------------------------------------------------------------------
// Errors.

struct ErrorCase {
  std::vector<std::string> patterns;
  util::ErrorCode code;
  std::string message_part;
};

// NOLINTNEXTLINE(readability-identifier-naming): gtest's printer hook
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << show(c.patterns); }

class ErrorTable : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorTable, Rejects) {
  const ErrorCase& c = GetParam();
  auto m = IgnoreMatcher::create(c.patterns);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), c.code);
  EXPECT_NE(m.error().message().find(c.message_part), std::string::npos) << m.error().message();
}

const ErrorCase k_error_cases[] = {
    {{"!"}, util::ErrorCode::invalid_argument, "illegal exclusion pattern \"!\""},
    {{"  !  "}, util::ErrorCode::invalid_argument, "illegal exclusion"},
    {{"["}, util::ErrorCode::invalid_argument, "invalid pattern \"[\": syntax error in pattern"},
    {{"a["}, util::ErrorCode::invalid_argument, "unterminated character class"},
    {{"[^"}, util::ErrorCode::invalid_argument, "pattern \"[^\""},
    {{"[^bc"}, util::ErrorCode::invalid_argument, "unterminated character class"},
    {{"[]a]"}, util::ErrorCode::invalid_argument, "empty character class"},
    {{"[-]"}, util::ErrorCode::invalid_argument, "unescaped '-'"},
    {{"[x-]"}, util::ErrorCode::invalid_argument, "without an upper bound"},
    {{"[a-b-c]"}, util::ErrorCode::invalid_argument, "unescaped '-'"},
    {{"a\\"}, util::ErrorCode::invalid_argument, "trailing backslash"},
    {{"ok", "*.go", "x*["},
     util::ErrorCode::invalid_argument,
     "pattern \"x*[\""}, // whole glob checked
    // Valid as the rewritten regexp, but not as a glob: after the first '*'
    // too (Go's filepath.Match checks the whole pattern since Go 1.20).
    {{"a*[-x]"}, util::ErrorCode::invalid_argument, "unescaped '-'"},
    {{"a*b*[x-]"}, util::ErrorCode::invalid_argument, "without an upper bound"},
    {{"!a["}, util::ErrorCode::invalid_argument, "pattern \"!a[\""},
    {{"[z-a]"}, util::ErrorCode::invalid_argument, "invalid character class range z-a"},
    {{"[Local-Only]/"}, util::ErrorCode::invalid_argument, "invalid character class range l-O"},
    {{"a\\q*"}, util::ErrorCode::invalid_argument, "invalid escape sequence \\q"},
    {{"x{1001}*"}, util::ErrorCode::invalid_argument, "invalid repeat count"},
    {{"a\\pL*"}, util::ErrorCode::unsupported, "\\p"},
    {{"a\\Q*"}, util::ErrorCode::unsupported, "\\Q"},
};
INSTANTIATE_TEST_SUITE_P(Errors, ErrorTable, ::testing::ValuesIn(k_error_cases));

TEST(IgnoreErrors, NameTheLineOfTheFile) {
  auto m = IgnoreMatcher::from_dockerignore("a\n\n# x\n[b\n", "app/Dockerfile.dockerignore");
  ASSERT_FALSE(m.has_value());
  const std::string text = m.error().to_string();
  EXPECT_NE(text.find("parse app/Dockerfile.dockerignore: "), std::string::npos) << text;
  EXPECT_NE(text.find("pattern \"[b\" on line 4"), std::string::npos) << text;
}

TEST(IgnoreErrors, LoneExclamationOnItsLine) {
  auto m = IgnoreMatcher::from_dockerignore("a\n!\n");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("\"!\" on line 2"), std::string::npos) << m.error().message();
}

// ---------------------------------------------------------------------------
// The walker interface.

TEST(IgnoreMatcher, EmptyMatcher) {
  IgnoreMatcher m;
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.has_exceptions());
  EXPECT_FALSE(m.excluded("a"));
  EXPECT_FALSE(m.may_reinclude_under("a"));
  auto blank = IgnoreMatcher::from_dockerignore("# only comments\n\n");
  ASSERT_TRUE(blank.has_value());
  EXPECT_TRUE(blank->empty());
}

TEST(IgnoreMatcher, CountsPatternsAndExceptions) {
  auto m = IgnoreMatcher::create({"a", "", "!b"});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->size(), 2u);
  EXPECT_TRUE(m->has_exceptions());
}

// Walks a small tree as the build engine will, pruning with
// may_reinclude_under, and checks the kept set.
TEST(IgnoreMatcher, WalkKeepsReincludedFilesAndPrunes) {
  auto m = IgnoreMatcher::from_dockerignore("build\n!build/keep/*.txt\nnode_modules\n*.log\n");
  ASSERT_TRUE(m.has_value());
  struct Entry {
    std::string path;
    std::vector<Entry> children;
  };
  const Entry root{"",
                   {
                       {"build",
                        {{"build/out.o", {}},
                         {"build/keep", {{"build/keep/a.txt", {}}, {"build/keep/b.bin", {}}}}}},
                       {"node_modules", {{"node_modules/x", {{"node_modules/x/i.js", {}}}}}},
                       {"src", {{"src/main.cc", {}}, {"src/debug.log", {}}}},
                       {"x.log", {}},
                   }};
  std::set<std::string> kept;
  std::set<std::string> visited_dirs;
  auto walk = [&](auto&& self, const Entry& dir, const IgnoreMatcher::DirState& state) -> void {
    for (const Entry& e : dir.children) {
      IgnoreMatcher::DirState child;
      const bool out = m->excluded_given_parent(e.path, state, &child);
      EXPECT_EQ(out, m->excluded(e.path)) << e.path;
      if (!out) kept.insert(e.path);
      if (!e.children.empty() && (!out || m->may_reinclude_under(e.path))) {
        visited_dirs.insert(e.path);
        self(self, e, child);
      }
    }
  };
  walk(walk, root, IgnoreMatcher::DirState{});
  // "*.log" only matches at the root: src/debug.log stays.
  EXPECT_EQ(kept,
            (std::set<std::string>{"build/keep/a.txt", "src", "src/main.cc", "src/debug.log"}));
  EXPECT_EQ(visited_dirs, (std::set<std::string>{"build", "build/keep", "src"}));
}

struct ReincludeCase {
  std::vector<std::string> patterns;
  std::string dir;
  bool may_reinclude;
};

// NOLINTNEXTLINE(readability-identifier-naming): gtest's printer hook
void PrintTo(const ReincludeCase& c, std::ostream* os) {
  *os << show(c.patterns) << " dir \"" << c.dir << "\"";
}

class ReincludeTable : public ::testing::TestWithParam<ReincludeCase> {};

TEST_P(ReincludeTable, Answers) {
  const ReincludeCase& c = GetParam();
  auto m = IgnoreMatcher::create(c.patterns);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->may_reinclude_under(c.dir), c.may_reinclude);
}

const ReincludeCase k_reinclude_cases[] = {
    {{"node_modules"}, "node_modules", false}, // no exceptions at all
    {{"vendor", "!vendor/keep"}, "vendor", true},
    {{"vendor", "!vendor/keep"}, "vendor/keep2", false},
    {{"vendor", "!vendor/keep"}, "other", false},
    {{"vendor", "!vendor"}, "vendor", false}, // matches the dir, nothing below it
    {{"docs", "!docs/*.md"}, "docs", true},
    {{"docs", "!docs/*.md"}, "docs/sub", false},
    {{"docs", "!docs/*.md"}, "src", false},
    {{"a", "!a/**"}, "a", true},
    {{"a", "!a**"}, "a/b", true},
    {{"a", "!b/**"}, "a", false},
    {{"*", "!**/*.keep"}, "anything/deep", true},
    {{"*", "!**/keep"}, "x", true},
    {{"*", "!x|y*"}, "z", true}, // regexp alternation: unanchored
};
INSTANTIATE_TEST_SUITE_P(Reinclude, ReincludeTable, ::testing::ValuesIn(k_reinclude_cases));

// ---------------------------------------------------------------------------
// Which ignore file applies.

TEST(ChooseDockerignore, PrefersTheOneBesideTheDockerfile) {
  const std::set<std::string> files{"ctx/app/Dockerfile.dockerignore", "ctx/.dockerignore"};
  auto is_file = [&](const std::string& p) { return files.contains(p); };
  EXPECT_EQ(choose_dockerignore("ctx/app/Dockerfile", "ctx", is_file),
            "ctx/app/Dockerfile.dockerignore");
  EXPECT_EQ(choose_dockerignore("ctx/app/Other", "ctx", is_file), "ctx/.dockerignore");
  EXPECT_EQ(choose_dockerignore("", "ctx/", is_file), "ctx/.dockerignore");
  EXPECT_EQ(choose_dockerignore("ctx/app/Dockerfile", "elsewhere", is_file),
            "ctx/app/Dockerfile.dockerignore");
  EXPECT_EQ(choose_dockerignore("Dockerfile", "", is_file), std::nullopt);
}

TEST(ChooseDockerignore, ContextRootSpelling) {
  auto only_root = [](const std::string& p) { return p == ".dockerignore"; };
  EXPECT_EQ(choose_dockerignore("Dockerfile", "", only_root), ".dockerignore");
  auto none = [](const std::string&) { return false; };
  EXPECT_EQ(choose_dockerignore("build/Dockerfile.dev", ".", none), std::nullopt);
  std::vector<std::string> asked;
  auto record = [&](const std::string& p) {
    asked.push_back(p);
    return false;
  };
  choose_dockerignore("build/Dockerfile.dev", ".", record);
  EXPECT_EQ(asked,
            (std::vector<std::string>{"build/Dockerfile.dev.dockerignore", "./.dockerignore"}));
}

} // namespace
} // namespace mason::frontend
