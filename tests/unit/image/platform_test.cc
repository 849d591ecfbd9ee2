// Platform parsing, normalisation and matching (mason/image/platform.h).
// Expectations follow containerd's platforms package: database.go
// (normalizeArch), platforms_test.go (Parse cases), compare.go
// (platformVector / Only) and compare_test.go (matching cases); the one
// difference is that parse results are always fully normalised.
#include <sys/utsname.h>

#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/image/platform.h"

namespace mason::image {
namespace {

using ::testing::HasSubstr;

// ----- parsing -----

struct ParseRow {
  std::string_view specifier;
  std::string_view expected; // formatted, or "!" + error substring
};

std::string host_os() { return host_platform().os; }
std::string host_arch() { return format_platform(host_platform()).substr(host_os().size() + 1); }

void PrintTo(const ParseRow& row, std::ostream* os) { *os << '"' << row.specifier << '"'; }

class ParseTable : public testing::TestWithParam<ParseRow> {};

TEST_P(ParseTable, Normalises) {
  const auto& row = GetParam();
  auto p = parse_platform(row.specifier);
  if (row.expected.starts_with('!')) {
    ASSERT_FALSE(p.has_value()) << format_platform(*p);
    EXPECT_EQ(p.error().code(), util::ErrorCode::invalid_argument);
    EXPECT_THAT(p.error().to_string(),
                HasSubstr("invalid platform \"" + std::string(row.specifier) + "\""));
    EXPECT_THAT(p.error().to_string(), HasSubstr(row.expected.substr(1)));
    return;
  }
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  std::string expected(row.expected);
  if (expected.starts_with("HOSTOS/")) expected = host_os() + expected.substr(6);
  if (expected.ends_with("/HOSTARCH"))
    expected = expected.substr(0, expected.size() - 9) + "/" + host_arch();
  EXPECT_EQ(format_platform(*p), expected);
  EXPECT_EQ(*p, normalize_platform(*p)); // already normal
}

const ParseRow k_parse[] = {
    {"linux/amd64", "linux/amd64"},
    {"linux/x86_64", "linux/amd64"},
    {"linux/x86-64", "linux/amd64"},
    {"linux/amd64/v1", "linux/amd64"},
    {"linux/amd64/v3", "linux/amd64/v3"},
    {"linux/aarch64", "linux/arm64"},
    {"linux/arm64/v8", "linux/arm64"},
    {"linux/arm64/8", "linux/arm64"},
    {"linux/aarch64/v8.0", "linux/arm64"},
    {"linux/arm64/v9.0", "linux/arm64/v9"},
    {"linux/arm64/v8.2", "linux/arm64/v8.2"},
    {"linux/armhf", "linux/arm/v7"},
    {"linux/armel", "linux/arm/v6"},
    {"linux/arm", "linux/arm/v7"},
    {"linux/arm/7", "linux/arm/v7"},
    {"linux/arm/6", "linux/arm/v6"},
    {"linux/arm/v5", "linux/arm/v5"},
    {"linux/i386", "linux/386"},
    {"linux/386", "linux/386"},
    {"LINUX/AMD64", "linux/amd64"},
    {"macos/arm64", "darwin/arm64"},
    {"windows/amd64", "windows/amd64"},
    {"linux/ppc64le", "linux/ppc64le"},
    {"linux/s390x", "linux/s390x"},
    {"linux/riscv64", "linux/riscv64"},
    {"x86_64", "HOSTOS/amd64"},
    {"aarch64", "HOSTOS/arm64"},
    {"armhf", "HOSTOS/arm/v7"},
    {"arm", "HOSTOS/arm/v7"},
    {"i386", "HOSTOS/386"},
    {"linux", "linux/HOSTARCH"},
    {"", "!invalid os component"},
    {"linux/*", "!wildcards are not supported"},
    {"linux/amd64/v8/extra", "!expected os[/arch[/variant]]"},
    {"foo", "!unknown operating system or architecture"},
    {"linux/", "!invalid component \"\""},
    {"li nux/amd64", "!invalid os component \"li nux\""},
    {"linux/am d64", "!invalid component \"am d64\""},
};

INSTANTIATE_TEST_SUITE_P(Containerd, ParseTable, testing::ValuesIn(k_parse));

TEST(ParsePlatform, OsVersionAndFeatures) {
  auto p = parse_platform("windows(10.0.17763+win32k+a%2Bb)/amd64");
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_EQ(p->os, "windows");
  EXPECT_EQ(p->os_version, "10.0.17763");
  EXPECT_EQ(p->os_features, (std::vector<std::string>{"a+b", "win32k"}));
}

TEST(NormalizePlatform, SortsFeaturesAndKeepsUnknownArchitectures) {
  const auto p = normalize_platform(Platform{"Linux", "MIPS64LE", "", "", {"b", "a", "b"}});
  EXPECT_EQ(p.os, "linux");
  EXPECT_EQ(p.architecture, "mips64le");
  EXPECT_EQ(p.os_features, (std::vector<std::string>{"a", "b"}));
}

TEST(FormatPlatform, AsWritten) {
  EXPECT_EQ(format_platform(Platform{"linux", "arm64", "v8", "", {}}), "linux/arm64/v8");
  EXPECT_EQ(format_platform(Platform{}), "unknown");
}

// ----- host -----

struct UnameRow {
  std::string_view machine;
  std::string_view expected;
};

void PrintTo(const UnameRow& row, std::ostream* os) { *os << row.machine; }

class UnameTable : public testing::TestWithParam<UnameRow> {};

TEST_P(UnameTable, Maps) {
  EXPECT_EQ(format_platform(platform_from_uname("Linux", GetParam().machine)), GetParam().expected);
}

const UnameRow k_uname[] = {
    {"x86_64", "linux/amd64"},    {"aarch64", "linux/arm64"},       {"armv7l", "linux/arm/v7"},
    {"armv6l", "linux/arm/v6"},   {"armv5tel", "linux/arm/v5"},     {"armv8l", "linux/arm/v8"},
    {"i686", "linux/386"},        {"ppc64le", "linux/ppc64le"},     {"s390x", "linux/s390x"},
    {"riscv64", "linux/riscv64"}, {"loongarch64", "linux/loong64"},
};

INSTANTIATE_TEST_SUITE_P(Machines, UnameTable, testing::ValuesIn(k_uname));

TEST(HostPlatform, ComesFromUname) {
  struct utsname names {};
  ASSERT_EQ(uname(&names), 0);
  const auto host = host_platform();
  EXPECT_EQ(host, platform_from_uname(names.sysname, names.machine));
  EXPECT_EQ(host.os, "linux");
  EXPECT_FALSE(host.architecture.empty());
}

// ----- matching -----

std::vector<std::string> formatted(const std::vector<Platform>& platforms) {
  std::vector<std::string> out;
  for (const auto& p : platforms) out.push_back(format_platform(p));
  return out;
}

TEST(CompatiblePlatforms, OrderedVectors) {
  const auto p = [](std::string_view s) { return parse_platform(s).value(); };
  EXPECT_EQ(formatted(compatible_platforms(p("linux/amd64"))),
            (std::vector<std::string>{"linux/amd64", "linux/386"}));
  EXPECT_EQ(
      formatted(compatible_platforms(p("linux/amd64/v3"))),
      (std::vector<std::string>{"linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"}));
  EXPECT_EQ(formatted(compatible_platforms(p("linux/arm/v7"))),
            (std::vector<std::string>{"linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}));
  EXPECT_EQ(formatted(compatible_platforms(p("linux/arm64"))),
            (std::vector<std::string>{"linux/arm64", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6",
                                      "linux/arm/v5"}));
  EXPECT_EQ(
      formatted(compatible_platforms(p("linux/arm64/v8.2"))),
      (std::vector<std::string>{"linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64",
                                "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}));
  EXPECT_EQ(formatted(compatible_platforms(p("linux/s390x"))),
            std::vector<std::string>{"linux/s390x"});
}

struct MatchRow {
  Platform wanted;
  Platform candidate;
  int rank; // -1: no match
};

void PrintTo(const MatchRow& row, std::ostream* os) {
  *os << format_platform(row.wanted) << " <- " << format_platform(row.candidate);
}

class MatchTable : public testing::TestWithParam<MatchRow> {};

TEST_P(MatchTable, RanksLikeContainerd) {
  const auto& row = GetParam();
  const auto rank = platform_rank(row.wanted, row.candidate);
  EXPECT_EQ(rank.has_value() ? static_cast<int>(*rank) : -1, row.rank)
      << format_platform(row.wanted) << " <- " << format_platform(row.candidate);
  EXPECT_EQ(platform_matches(row.wanted, row.candidate), row.rank >= 0);
}

Platform pl(std::string os, std::string arch, std::string variant = {},
            std::vector<std::string> features = {}) {
  return Platform{std::move(os), std::move(arch), std::move(variant), "", std::move(features)};
}

const MatchRow k_match[] = {
    {pl("linux", "amd64"), pl("linux", "amd64"), 0},
    {pl("linux", "amd64"), pl("linux", "x86_64"), 0},
    {pl("linux", "amd64"), pl("linux", "386"), 1},
    {pl("linux", "amd64"), pl("linux", "arm64"), -1},
    {pl("linux", "amd64"), pl("windows", "amd64"), -1},
    {pl("linux", "amd64", "v3"), pl("linux", "amd64", "v2"), 1},
    {pl("linux", "amd64", "v3"), pl("linux", "amd64"), 2},
    {pl("linux", "amd64", "v3"), pl("linux", "386"), 3},
    {pl("linux", "amd64", "v2"), pl("linux", "amd64", "v4"), -1},
    {pl("linux", "arm64"), pl("linux", "arm64", "v8"), 0},
    {pl("linux", "arm64", "v8"), pl("linux", "arm64"), 0},
    {pl("linux", "aarch64"), pl("linux", "arm64"), 0},
    {pl("linux", "arm64"), pl("linux", "arm", "v8"), 1},
    {pl("linux", "arm64"), pl("linux", "arm", "v7"), 2},
    {pl("linux", "arm64"), pl("linux", "arm64", "v8.1"), -1},
    {pl("linux", "arm64", "v8.2"), pl("linux", "arm64", "v8.1"), 1},
    {pl("linux", "arm64", "v8.2"), pl("linux", "arm64"), 2},
    {pl("linux", "arm64", "v9"), pl("linux", "arm64", "v8.5"), 1},
    {pl("linux", "arm64", "v9"), pl("linux", "arm64", "v8.6"), -1},
    {pl("linux", "arm", "v7"), pl("linux", "arm"), 0},
    {pl("linux", "arm", "v7"), pl("linux", "arm", "v6"), 1},
    {pl("linux", "arm", "v7"), pl("linux", "arm", "v5"), 2},
    {pl("linux", "arm", "v7"), pl("linux", "arm", "v8"), -1},
    {pl("linux", "arm", "v6"), pl("linux", "arm", "v7"), -1},
    {pl("linux", "armhf"), pl("linux", "arm", "7"), 0},
    {pl("linux", "amd64", "", {"a"}), pl("linux", "amd64", "", {"a"}), 0},
    {pl("linux", "amd64", "", {"a", "b"}), pl("linux", "amd64", "", {"b"}), 0},
    {pl("linux", "amd64", "", {"a"}), pl("linux", "amd64", "", {"b"}), -1},
    {pl("linux", "amd64"), pl("linux", "amd64", "", {"a"}), -1},
};

INSTANTIATE_TEST_SUITE_P(DefaultMatcher, MatchTable, testing::ValuesIn(k_match));

} // namespace
} // namespace mason::image
