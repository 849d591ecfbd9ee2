// Unit tests for the shell-word lexer (mason/frontend/dockerfile/shell.h).
// The expected values are upstream BuildKit's results for the same input
// (checked by running upstream's lexer), except where a test says that we
// deliberately differ.
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "mason/frontend/dockerfile/shell.h"

namespace mason::frontend::dockerfile {
namespace {

using Vars = std::initializer_list<std::pair<std::string_view, std::string_view>>;
using Names = std::set<std::string>;
using Words = std::vector<std::string>;

EnvList make_env(Vars vars) {
  EnvList env;
  for (const auto& [name, value] : vars) env.set(name, value);
  return env;
}

LexOptions heredoc_scan_options() {
  LexOptions options;
  options.raw_quotes = true;
  options.raw_escapes = true;
  options.skip_unset_env = true;
  return options;
}

// A process_word case. `expected` nullopt means the input must fail.
struct WordCase {
  std::string_view input;
  Vars vars;
  std::optional<std::string_view> expected;
  Names matched = {};
  Names unmatched = {};
};

void check_word_cases(const Lexer& lexer, std::initializer_list<WordCase> cases, bool check_names) {
  for (const WordCase& c : cases) {
    SCOPED_TRACE(std::string("input: ") + std::string(c.input));
    const EnvList env = make_env(c.vars);
    const auto got = lexer.process_word(c.input, env);
    if (!c.expected) {
      EXPECT_FALSE(got) << "unexpected success: \"" << got->result << "\"";
      if (!got) {
        EXPECT_EQ(got.error().code(), util::ErrorCode::invalid_argument);
      }
      continue;
    }
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->result, *c.expected);
    if (check_names) {
      EXPECT_EQ(got->matched, c.matched);
      EXPECT_EQ(got->unmatched, c.unmatched);
    }
  }
}

struct WordsCase {
  std::string_view input;
  Words expected;
};

void check_words_cases(const Lexer& lexer, const EnvGetter& env,
                       std::initializer_list<WordsCase> cases) {
  for (const WordsCase& c : cases) {
    SCOPED_TRACE(std::string("input: ") + std::string(c.input));
    const auto got = lexer.process_words(c.input, env);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(*got, c.expected);
  }
}

// An input that must fail with a message containing `message`.
struct ErrorCase {
  std::string_view input;
  Vars vars;
  std::string_view message;
};

void check_error_cases(const Lexer& lexer, std::initializer_list<ErrorCase> cases) {
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(std::string("input: ") + std::string(c.input));
    const EnvList env = make_env(c.vars);
    const auto got = lexer.process_word(c.input, env);
    ASSERT_FALSE(got) << "unexpected success: \"" << got->result << "\"";
    EXPECT_EQ(got.error().code(), util::ErrorCode::invalid_argument);
    EXPECT_NE(got.error().message().find(c.message), std::string::npos)
        << "message: " << got.error().message();
  }
}

// ---------------------------------------------------------------------------

TEST(EnvList, SetReplacesInPlaceAndKeepsOrder) {
  EnvList env;
  EXPECT_FALSE(env.get("A"));
  env.set("A", "1");
  env.set("B", "2");
  env.set("C", "");
  env.set("A", "3");
  ASSERT_EQ(env.items().size(), 3u);
  EXPECT_EQ(env.items()[0], (std::pair<std::string, std::string>("A", "3")));
  EXPECT_EQ(env.items()[1].first, "B");
  EXPECT_EQ(env.items()[2].first, "C");
  EXPECT_EQ(env.get("A"), "3");
  EXPECT_EQ(env.get("C"), ""); // defined but empty
  EXPECT_TRUE(env.contains("C"));
  EXPECT_FALSE(env.contains("a")); // case-sensitive
}

TEST(Lexer, PlainAndDefaultForms) {
  const Lexer lexer;
  check_word_cases(lexer,
                   {
                       {"x", {{"DUMMY", "dummy"}}, "x"},
                       {"x ${UNUSED}", {}, "x ", {}, {"UNUSED"}},
                       {"x ${FOO}", {{"FOO", "y"}}, "x y", {"FOO"}},
                       {"$FOO$BAR", {{"FOO", "a"}}, "a", {"FOO"}, {"BAR"}},
                       {"${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}",
                        {{"FOO", "xxx"}, {"BAR", ""}},
                        "xxx  ccc",
                        {"FOO", "BAR"},
                        {"BAZ"}},
                       {"${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
                        {{"FOO", "xxx"}, {"BAR", ""}},
                        "xxx bbb ccc",
                        {"FOO", "BAR"},
                        {"BAZ"}},
                       {"${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}",
                        {{"FOO", "xxx"}, {"BAR", ""}},
                        "aaa bbb ",
                        {"FOO", "BAR"},
                        {"BAZ"}},
                       {"${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}",
                        {{"FOO", "xxx"}, {"BAR", ""}},
                        "aaa  ",
                        {"FOO", "BAR"},
                        {"BAZ"}},
                       {"${FOO:-}", {{"FOO", "xxx"}}, "xxx", {"FOO"}},
                       {"${FOO:-}", {}, "", {}, {"FOO"}},
                       // The operand is lexed: quotes, escapes and nested expansions.
                       {"${A:-'a b'\\}\"$B\"}", {{"B", "x"}}, "a b}x", {"B"}, {"A"}},
                       {"${A:-${B:-${C:-deep}}}", {}, "deep", {}, {"A", "B", "C"}},
                       {"${A:+${B}}", {{"A", "1"}, {"B", "2"}}, "2", {"A", "B"}},
                       {"${aaa}}", {{"aaa", "v"}}, "v}", {"aaa"}},
                       {"something-${V}.${OS}-${ARCH}${VARIANT:+-${VARIANT}}.tar.gz",
                        {{"V", "v1"}, {"OS", "linux"}, {"ARCH", "arm"}, {"VARIANT", "v7"}},
                        "something-v1.linux-arm-v7.tar.gz",
                        {"V", "OS", "ARCH", "VARIANT"}},
                       {"something-${V}.${OS}-${ARCH}${VARIANT:+-${VARIANT}}.tar.gz",
                        {{"V", "v1"}, {"OS", "linux"}, {"ARCH", "arm64"}, {"VARIANT", ""}},
                        "something-v1.linux-arm64.tar.gz",
                        {"V", "OS", "ARCH", "VARIANT"}},
                   },
                   true);
}

TEST(Lexer, NamesPositionalAndSpecial) {
  const Lexer lexer;
  check_word_cases(
      lexer,
      {
          {"$999aaa", {}, "aaa", {}, {"999"}},
          {"${10}x", {{"10", "ten"}}, "tenx", {"10"}},
          {"$0$1", {}, "", {}, {"0", "1"}},
          {"$@ $* $# $? $- $$ $!", {}, "      ", {}, {"@", "*", "#", "?", "-", "$", "!"}},
          {"${#}", {{"#", "3"}}, "3", {"#"}},
          {"a$", {}, "a$"},
          {"$.", {}, "$."},
          {"$ x", {}, "$ x"},
          {"$a_1-b", {{"a_1", "v"}}, "v-b", {"a_1"}},
          {"$_x", {{"_x", "v"}}, "v", {"_x"}},
      },
      true);
}

TEST(Lexer, RequiredVariables) {
  const Lexer lexer;
  const std::string_view no_empty = "${VAR:?message here$ARG}";
  const std::string_view no_unset = "${VAR?message here$ARG}";
  const EnvList set = make_env({{"VAR", "plain"}, {"ARG", "x"}});
  const EnvList empty = make_env({{"VAR", ""}, {"ARG", "x"}});
  const EnvList unset = make_env({{"ARG", "x"}});

  EXPECT_EQ(lexer.process_word(no_empty, set).value().result, "plain");
  EXPECT_EQ(lexer.process_word(no_unset, set).value().result, "plain");
  EXPECT_EQ(lexer.process_word(no_unset, empty).value().result, "");

  for (const EnvList* env : {&empty, &unset}) {
    const auto got = lexer.process_word(no_empty, *env);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().message(),
              "failed to process \"${VAR:?message here$ARG}\": VAR: message herex");
  }
  const auto got = lexer.process_word(no_unset, unset);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message(),
            "failed to process \"${VAR?message here$ARG}\": VAR: message herex");

  check_error_cases(lexer, {
                               {"${FOO?}", {}, "FOO: is not allowed to be unset"},
                               {"${FOO:?}", {}, "FOO: is not allowed to be unset"},
                               {"${FOO:?}", {{"FOO", ""}}, "FOO: is not allowed to be empty"},
                               {"a ${FOO:?'must be set'}", {}, "FOO: must be set"},
                           });
  check_word_cases(lexer,
                   {
                       {"${FOO?aaa}", {{"FOO", "xxx"}}, "xxx", {"FOO"}},
                       {"${FOO:?aaa}", {{"FOO", "xxx"}}, "xxx", {"FOO"}},
                       {"${BAR?bbb}", {{"BAR", ""}}, "", {"BAR"}},
                   },
                   true);
}

TEST(Lexer, PrefixAndSuffixPatterns) {
  const Lexer lexer;
  check_word_cases(
      lexer,
      {
          // Regular-expression characters are literal; \} and \/ protect the
          // character from ending the operand.
          {"${FOO#()[]{\\}^$.\\*\\?|\\\\}", {{"FOO", "()[]{}^$.*?|\\x"}}, "x", {"FOO"}},
          {"${FOO%%\\**}", {{"FOO", "xx**"}}, "xx", {"FOO"}},
          {"${FOO#*x*y}", {{"FOO", "xxyy"}}, "y", {"FOO"}},
          {"${FOO##*x*y}", {{"FOO", "xxyy"}}, "", {"FOO"}},
          {"${FOO#*}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
          {"${FOO##*}", {{"FOO", "xxyy"}}, "", {"FOO"}},
          {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", "x"}}, "xyy", {"FOO", "BAR"}},
          {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy", {"FOO", "BAR"}},
          {"${FOO#}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
          {"${FOO##*x}", {{"FOO", "xxyy"}}, "yy", {"FOO"}},
          {"${FOO##}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
          {"${FOO#?\\?}", {{"FOO", "???y"}}, "?y", {"FOO"}},
          {"${FOO#y}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}}, // anchored at the start
          {"${ABC:-.}${FOO%x}${ABC:-.}", {{"FOO", "xxyy"}}, ".xxyy.", {"FOO"}, {"ABC"}},
          {"${FOO%y}", {{"FOO", "xxyy"}}, "xxy", {"FOO"}},
          {"${FOO%%\\**\\*}", {{"FOO", "a***yy*"}}, "a", {"FOO"}},
          {"${FOO%}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
          {"${FOO%%$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy", {"FOO", "BAR"}},
          {"${FOO%.*}", {{"FOO", "archive.tar.gz"}}, "archive.tar", {"FOO"}},
          {"${FOO%%.*}", {{"FOO", "archive.tar.gz"}}, "archive", {"FOO"}},
          {"${FOO##*/}", {{"FOO", "/usr/local/bin/tool"}}, "tool", {"FOO"}},
          {"${FOO#*/}", {{"FOO", "/usr/local/bin/tool"}}, "usr/local/bin/tool", {"FOO"}},
          {"${FOO%/*}", {{"FOO", "/usr/local/bin/tool"}}, "/usr/local/bin", {"FOO"}},
          {"${UNSET#x}", {}, "", {}, {"UNSET"}},
          // Quotes inside the pattern are removed but do not make * literal.
          {"${FOO#'*'b}", {{"FOO", "aabab"}}, "ab", {"FOO"}},
          // `*` and `?` never match a newline.
          {"${FOO#*b}", {{"FOO", "a\nb"}}, "a\nb", {"FOO"}},
          {"${FOO#??}", {{"FOO", "a\nb"}}, "a\nb", {"FOO"}},
          {"${FOO%%b*}", {{"FOO", "ab\nb"}}, "ab\n", {"FOO"}},
          // Whole code points, not bytes.
          {"${FOO#?}", {{"FOO", "한국어"}}, "국어", {"FOO"}},
          {"${FOO%?}", {{"FOO", "한국어"}}, "한국", {"FOO"}},
          {"${FOO%%국*}", {{"FOO", "한국어"}}, "한", {"FOO"}},
          // The operator doubles when the *expanded* operand repeats it.
          {"${FOO#$P}", {{"FOO", "aaab"}, {"P", "#*a"}}, "b", {"FOO", "P"}},
          // Upstream checks a suffix pattern only in reversed form, where a
          // trailing backslash escapes what precedes it: `*\` acts as `\*`.
          {"${FOO%$P}", {{"FOO", "ab*"}, {"P", "*\\"}}, "ab", {"FOO", "P"}},
      },
      true);
}

TEST(Lexer, ReplacementPatterns) {
  const Lexer lexer;
  check_word_cases(
      lexer,
      {
          {"${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
           {{"FOO", "/foo*/*/*.txt"}, {"NEEDLE", "\\*/"}},
           "/foo.*/*.txt - /foo..*.txt",
           {"FOO", "NEEDLE"}},
          {"${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
           {{"FOO", "/tmp/tmp/bar.txt"}, {"NEEDLE", "/tmp"}},
           "/tmp/bar.txt - /bar.txt",
           {"FOO", "NEEDLE"}},
          {"${FOO/$NEEDLE/$R} - ${FOO//$NEEDLE/$R}",
           {{"FOO", "/a/foo/b/c.txt"}, {"NEEDLE", "/?/"}, {"R", "/"}},
           "/foo/b/c.txt - /foo/c.txt",
           {"FOO", "NEEDLE", "R"}},
          {"${FOO/$NEEDLE/$R}",
           {{"FOO", "http://google.de"}, {"NEEDLE", "http://"}, {"R", "https://"}},
           "https://google.de",
           {"FOO", "NEEDLE", "R"}},
          {"${FOO//\\//\\/}", {{"FOO", "/tmp/foo.txt"}}, "\\/tmp\\/foo.txt", {"FOO"}},
          {"${FOO/a*/X}", {{"FOO", "banana"}}, "bX", {"FOO"}}, // leftmost, then longest
          {"${FOO//a?/X}", {{"FOO", "banana"}}, "bXXa", {"FOO"}},
          {"${FOO//?/X}", {{"FOO", "한국"}}, "XX", {"FOO"}},
          {"${FOO/$BAR/ww}", {{"FOO", "xxyy"}, {"BAR", ""}}, "wwxxyy", {"FOO", "BAR"}},
          {"${FOO///}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
          {"${FOO///}", {}, "", {}, {"FOO"}},
          // An empty pattern matches between all characters.
          {"${FOO///-}", {{"FOO", "ab"}}, "-a-b-", {"FOO"}},
          // `*` matches the rest; the empty match at the end is not replaced twice.
          {"${FOO//*/X}", {{"FOO", "abc"}}, "X", {"FOO"}},
          {"${FOO//x*/-}", {{"FOO", "ax1\nx2"}}, "a-\n-", {"FOO"}},
          // Upstream replaces all matches with Go's ReplaceAllString, whose
          // template syntax makes $0 the match and $$ a dollar; the single
          // replacement is literal. Reproduced on purpose.
          {"${FOO//o/$R}", {{"FOO", "foo"}, {"R", "<$0>"}}, "f<o><o>", {"FOO", "R"}},
          {"${FOO//o/$R}", {{"FOO", "foo"}, {"R", "$$-${0}"}}, "f$-o$-o", {"FOO", "R"}},
          {"${FOO//o/$R}", {{"FOO", "foo"}, {"R", "$1$x$"}}, "f$$", {"FOO", "R"}},
          {"${FOO/o/$R}", {{"FOO", "foo"}, {"R", "<$0>"}}, "f<$0>o", {"FOO", "R"}},
      },
      true);
}

TEST(Lexer, Errors) {
  const Lexer lexer;
  check_error_cases(
      lexer,
      {
          {"${foo", {}, "failed to process \"${foo\": syntax error: missing '}'"},
          {"he${", {}, "missing '}'"},
          {"${X:-abc", {}, "missing '}'"},
          {"${X:-'abc", {}, "missing '}'"},
          {"${X:-${Y?}", {}, "missing '}'"}, // an inner error at end of input
          {"${X:-${Y?}}", {}, "Y: is not allowed to be unset"},
          {"${}", {}, "failed to process \"${}\": syntax error: bad substitution"},
          {"${:}", {}, "bad substitution"},
          {"${{x}}", {}, "bad substitution"},
          {"${:-x}", {}, "bad substitution"},
          {"he${.}", {}, "unsupported modifier (.) in substitution"},
          {"${FOO=aaa}", {{"FOO", "xxx"}}, "unsupported modifier (=) in substitution"},
          {"${FOO:=aaa}", {{"FOO", "xxx"}}, "unsupported modifier (:=) in substitution"},
          {"${FOO=:aaa}", {}, "unsupported modifier (=)"},
          {"${XXX:YYY}", {}, "unsupported modifier (:Y)"},
          {"${FOO:#}", {}, "unsupported modifier (:#)"},
          {"${FOO:##}", {}, "unsupported modifier (:#)"},
          {"${FOO:%}", {}, "unsupported modifier (:%)"},
          {"${FOO:%%}", {}, "unsupported modifier (:%)"},
          {"${FOO//ww}", {{"FOO", "xxyy"}}, "syntax error: missing '/' in ${}"},
          {"${FOO//}", {{"FOO", "xxyy"}}, "missing '/'"},
          {"${FOO/a/b", {{"FOO", "xxyy"}}, "missing '}'"},
          {"${FOO#\\x}", {{"FOO", "xxyy"}}, "invalid pattern (\\x) in substitution"},
          {"${FOO%\\x}", {}, "invalid pattern (\\x) in substitution"},
          {"${FOO/\\x/y}", {}, "invalid pattern (\\x) in substitution"},
          {"${FOO#$P}", {{"P", "a\\"}}, "invalid pattern (a\\)"},
          {"${FOO#$P}", {{"P", "*\\"}}, "invalid escape '\\' at end of pattern"},
          {"${FOO%$P}",
           {{"P", "y\\"}},
           "invalid pattern (y\\) in substitution: invalid escape '\\'"},
          {"'abc", {}, "unexpected end of statement while looking for matching single-quote"},
          {"\"abc", {}, "unexpected end of statement while looking for matching double-quote"},
          {"\"abc\\\"", {}, "matching double-quote"},
          {"\"abc\\", {}, "matching double-quote"},
          {"${X:-a\\", {}, "missing '}'"},
          // The input is quoted Go-style in the message.
          {"a\tb\"${", {}, "failed to process \"a\\tb\\\"${\":"},
      });
}

TEST(Lexer, EscapeAndQuotes) {
  const Lexer lexer;
  check_word_cases(lexer,
                   {
                       {"he\\'llo", {}, "he'llo"},
                       {"abc\\tdef", {}, "abctdef"},
                       {"\"abc\\tdef\"", {}, "abc\\tdef"},
                       {"\"a\\\"b\\$c\\\\d\"", {}, "a\"b$c\\d"},
                       {"'a\\b$c'", {}, "a\\b$c"},
                       {"hello\\", {}, "hello"},
                       {"\\$X", {{"X", "v"}}, "$X"},
                       {"\"\"''", {}, ""},
                       {"\"$X '$X'\"", {{"X", "v"}}, "v 'v'"},
                       {"a\\ b", {}, "a b"},
                   },
                   false);
}

TEST(Lexer, BacktickEscape) {
  const Lexer lexer(LexOptions{.escape = U'`'});
  check_word_cases(lexer,
                   {
                       {"C:\\Windows\\$X", {{"X", "v"}}, "C:\\Windows\\v"},
                       {"a`$X", {{"X", "v"}}, "a$X"},
                       {"a``b", {}, "a`b"},
                       {"a`", {}, "a"},
                       {"\"a`\"b\"", {}, "a\"b"},
                       {"\"a`$X\"", {{"X", "v"}}, "a$X"},
                       {"\"a\\$X\"", {{"X", "v"}}, "a\\v"},
                       {"\"a`b\"", {}, "a`b"},
                       {"${X:-`}}", {}, "}"},
                       // Pattern escapes are always backslashes.
                       {"${X#\\*}", {{"X", "*a"}}, "a"},
                       {"${X#`*}", {{"X", "`*a"}}, "*a"},
                   },
                   false);
  const EnvList env = make_env({{"X", "v"}});
  check_words_cases(lexer, env,
                    {
                        {"a` b c", {"a b", "c"}},
                        {"a\\ b", {"a\\", "b"}},
                    });
}

TEST(Lexer, WordList) {
  const Lexer lexer;
  const EnvList env = make_env({{"SPACE", "abc  def"}, {"LEAD", "  ab c"}, {"EMPTY", ""}});
  check_words_cases(lexer, env,
                    {
                        {"hello there", {"hello", "there"}},
                        {"  a\t\tb\n c  ", {"a", "b", "c"}},
                        {"hello${SPACE}bye", {"helloabc", "defbye"}},
                        {"hello\"${SPACE}\"bye", {"helloabc  defbye"}},
                        {"x${LEAD}", {"x", "ab", "c"}},
                        {"a \"\" b", {"a", "b"}}, // an empty quoted string makes no word
                        {"a '' b ''", {"a", "b"}},
                        {"$EMPTY", {}},
                        {"\"$EMPTY\"", {}},
                        {"a\\ b c\\", {"a b", "c"}},
                        {"hello\\\" there", {"hello\"", "there"}},
                        // `<<` keeps the blanks after it, so the heredoc word stays together.
                        {"cat << EOF", {"cat", "<< EOF"}},
                        {"a<b <<\tc", {"a<b", "<<\tc"}},
                    });
}

// Upstream loses the start of a word when a ${name<modifier>} form follows
// it in word-list mode (its nested reader shares the enclosing word's
// buffer): `hello${XXX:-abc}` gives [abc] there. We do not copy that defect.
TEST(Lexer, WordListModifierKeepsEarlierPartOfWord) {
  const Lexer lexer;
  const EnvList env = make_env({{"X", "a b"}, {"P", "/tmp/x"}});
  check_words_cases(lexer, env,
                    {
                        {"hello${XXX:-abc}", {"helloabc"}},
                        {"hello${XXX:-abc}bye", {"helloabcbye"}},
                        {"pre ${XXX-a}${XXX+b}${X:+c}", {"pre", "ac"}},
                        {"dir=${P%/*}/y", {"dir=/tmp/y"}},
                        {"v${X/ /_}", {"va_b"}},
                        // The expansion is still split at its blanks.
                        {"hello${XXX:-\"a b\"}", {"helloa", "b"}},
                    });
  // The single-string mode agrees.
  EXPECT_EQ(lexer.process_word("hello${XXX:-abc}", env).value().result, "helloabc");
  EXPECT_EQ(lexer.process_word("hello${XXX:-abc}", env).value().words, Words{"helloabc"});
}

// The combinations the parser uses to find heredocs: first the whole line
// with raw quotes, raw escapes and unset variables left alone, then the
// delimiter with raw quotes off and on to see whether part of it is quoted.
TEST(Lexer, HeredocDetection) {
  const Lexer scan(heredoc_scan_options());
  const EnvList none;
  check_words_cases(
      scan, none,
      {
          {"cat <<EOF", {"cat", "<<EOF"}},
          {"cat <<'EOF'", {"cat", "<<'EOF'"}},
          {"cat << \"EOF\" > $FILE", {"cat", "<< \"EOF\"", ">", "$FILE"}},
          {"COPY <<EOF1 <<-EOF2 /dest/", {"COPY", "<<EOF1", "<<-EOF2", "/dest/"}},
          {"RUN 3<<EOF cat <&3", {"RUN", "3<<EOF", "cat", "<&3"}},
          {"cat <<\\EOF", {"cat", "<<\\EOF"}},
          {"echo \"a b\" 'c d' ${X} ${X:-y}", {"echo", "\"a b\"", "'c d'", "${X}", "${X:-y}"}},
          // Raw escapes in double quotes: an escape that escapes nothing is
          // written twice, like upstream (the delimiter pass undoes it).
          {"cat <<\"E\\OF\"", {"cat", "<<\"E\\\\OF\""}},
          {"\"a\\\"b\"", {"\"a\\\"b\""}},
          // The operand of :- is read with escapes consumed, even here.
          {"${X:-\\q} ${X#\\q}", {"${X:-q}", "${X#\\q}"}},
      });

  LexOptions plain;
  plain.skip_unset_env = true;
  LexOptions raw = plain;
  raw.raw_quotes = true;
  const Lexer unquote(plain);
  const Lexer keep(raw);
  struct Delimiter {
    std::string_view word;
    std::string_view unquoted;
    std::string_view raw;
  };
  for (const Delimiter& d : std::initializer_list<Delimiter>{
           {"EOF", "EOF", "EOF"},
           {"'EOF'", "EOF", "'EOF'"},
           {"\"EOF\"", "EOF", "\"EOF\""},
           {"E\"O\"F", "EOF", "E\"O\"F"},
           {"\"E\\\\OF\"", "E\\OF", "\"E\\OF\""},
           {"$EOF", "$EOF", "$EOF"},
       }) {
    SCOPED_TRACE(std::string(d.word));
    EXPECT_EQ(unquote.process_words(d.word, none).value(), Words{std::string(d.unquoted)});
    EXPECT_EQ(keep.process_words(d.word, none).value(), Words{std::string(d.raw)});
  }
}

TEST(Lexer, SkipUnsetEnv) {
  LexOptions options;
  options.skip_unset_env = true;
  const Lexer lexer(options);
  check_word_cases(
      lexer,
      {
          {"$X ${X} $1 $$", {}, "$X ${X} $1 $$", {}, {"X", "1", "$"}},
          {"${X:-a\\ b} ${X+w} ${X?} ${X:?m}", {}, "${X:-a b} ${X+w} ${X?} ${X:?m}", {}, {"X"}},
          {"${X#\\*} ${X%%*}", {}, "${X#\\*} ${X%%*}", {}, {"X"}},
          {"${X/a/b}", {}, "${X/a/b}", {}, {"X"}},
          // Upstream writes one `/` back for `//`. Reproduced.
          {"${X//a/b}", {}, "${X/a/b}", {}, {"X"}},
          // Unsupported `:x` modifiers and bad patterns pass when unset ...
          {"${X:Y}", {}, "${X:Y}", {}, {"X"}},
          {"${X#\\q}", {}, "${X#\\q}", {}, {"X"}},
          // ... and set variables expand as usual.
          {"$Y ${Y:-d} ${E-d}", {{"Y", "y"}, {"E", ""}}, "y y ", {"Y", "E"}},
      },
      true);
  check_error_cases(lexer, {
                               {"${Y:Y}", {{"Y", "y"}}, "unsupported modifier (:Y)"},
                               {"${E:?}", {{"E", ""}}, "E: is not allowed to be empty"},
                               {"${X=a}", {}, "unsupported modifier (=)"},
                           });
}

TEST(Lexer, RawQuotesAndEscapes) {
  LexOptions options;
  options.raw_quotes = true;
  check_word_cases(Lexer(options),
                   {
                       {"'a b'\"$X\"", {{"X", "v"}}, "'a b'\"v\""},
                       {"\\'x", {}, "'x"},
                   },
                   false);
  options = {};
  options.raw_escapes = true;
  check_word_cases(Lexer(options),
                   {
                       {"a\\ b\\$X", {{"X", "v"}}, "a\\ b\\$X"},
                       {"\"\\$X\\\\\"", {{"X", "v"}}, "\\$X\\\\"},
                       {"\"\\a\"", {}, "\\\\a"},
                       {"a\\", {}, "a\\"},
                   },
                   false);
}

TEST(Lexer, SkipProcessQuotes) {
  LexOptions options;
  options.skip_process_quotes = true;
  const Lexer lexer(options);
  const EnvList env = make_env({{"X", "v"}});
  check_words_cases(lexer, env,
                    {
                        {"'a b' \"$X\"", {"'a", "b'", "\"v\""}},
                        {"'unclosed", {"'unclosed"}},
                    });
  EXPECT_EQ(lexer.process_word("'$X'", env).value().result, "'v'");
}

TEST(Lexer, NonAscii) {
  const Lexer lexer;
  check_word_cases(lexer,
                   {
                       {"안'녕'하세요", {}, "안녕하세요"},
                       {"안녕\\'하세요", {}, "안녕'하세요"},
                       {"$KOREAN!", {{"KOREAN", "한국어"}}, "한국어!", {"KOREAN"}},
                       // Names take Unicode letters and digits, like upstream.
                       {"$한국어.", {{"한국어", "ko"}}, "ko.", {"한국어"}},
                       {"${café}", {{"café", "x"}}, "x", {"café"}},
                       {"$٣x", {}, "x", {}, {"٣"}},
                       // A byte order mark opening the input is dropped; elsewhere it stays.
                       {"\xEF\xBB\xBF"
                        "a\xEF\xBB\xBF",
                        {},
                        "a\xEF\xBB\xBF"},
                       // Invalid UTF-8 passes through unchanged.
                       {"a\xFF\xC3(b", {}, "a\xFF\xC3(b"},
                       {"'\xFF'${X:-\xFE}", {}, "\xFF\xFE", {}, {"X"}},
                   },
                   true);
  const EnvList env = make_env({{"NB", "a\xC2\xA0"
                                       "b"},
                                {"BAD", "x\xFFy z"}});
  check_words_cases(lexer, env,
                    {
                        // Unicode white space from an expansion splits words.
                        {"$NB", {"a", "b"}},
                        {"\"$NB\"",
                         {"a\xC2\xA0"
                          "b"}},
                        {"w\xE3\x80\x80v", {"w", "v"}},
                        {"$BAD", {"x\xFFy", "z"}},
                    });
}

TEST(Lexer, ProcessWordAlsoReportsWords) {
  const Lexer lexer;
  const EnvList env = make_env({{"A", "1 2"}});
  const auto got = lexer.process_word("x$A \"y z\"", env);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->result, "x1 2 y z");
  EXPECT_EQ(got->words, (Words{"x1", "2", "y z"}));
}

TEST(Lexer, IsReusableAndKeepsOptions) {
  LexOptions options;
  options.escape = U'`';
  options.raw_quotes = true;
  const Lexer lexer(options);
  EXPECT_EQ(lexer.options().escape, U'`');
  EXPECT_TRUE(lexer.options().raw_quotes);
  const EnvList env = make_env({{"A", "1"}});
  // No state leaks from one call (or one failure) into the next.
  EXPECT_FALSE(lexer.process_word("${A", env));
  const auto first = lexer.process_word("$A$B", env);
  const auto second = lexer.process_word("$A", env);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->unmatched, Names{"B"});
  EXPECT_TRUE(second->unmatched.empty());
  EXPECT_EQ(second->matched, Names{"A"});
}

} // namespace
} // namespace mason::frontend::dockerfile

// Nested global replacements multiply the length at every level; mason
// bounds an expansion (4 MiB) so such input fails instead of hanging.
TEST(Lexer, RunawayNestedReplacementIsAnError) {
  mason::frontend::dockerfile::EnvList env;
  env.set("P", "abcdefghijklmnopqrstuvw");
  const mason::frontend::dockerfile::Lexer lexer;
  const auto r = lexer.process_word("${P///${P///${P///${P///${P///${P///Z}}}}}}", env);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("larger than 4 MiB"), std::string::npos);
  // One level stays fine.
  const auto ok = lexer.process_word("${P///-}", env);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->result.size(), 23u * 2 + 1);
}
