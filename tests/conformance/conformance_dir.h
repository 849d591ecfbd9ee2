// Where the reference conformance vectors live. They are read in place
// (never copied into this repository): $MASON_CONFORMANCE_DIR, else the
// ../shared/conformance beside the source tree. Missing vectors fail the
// test under CI (CI=true) and are a visible skip elsewhere.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace mason::test {

inline std::filesystem::path conformance_dir() {
  if (const char* env = std::getenv("MASON_CONFORMANCE_DIR"); env && *env) return env;
  return MASON_CONFORMANCE_DEFAULT;
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::string(ci) != "false" && std::string(ci) != "0";
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Appends one line to build/conformance-summary.txt, which scripts/test.sh
// prints after ctest.
inline void record_summary(const std::string& line) {
  std::ofstream out(MASON_SUMMARY_FILE, std::ios::app);
  out << line << '\n';
  std::cout << "[conformance] " << line << std::endl;
}

} // namespace mason::test

// Use at the top of a conformance test body: declares `var` as the vector
// directory `sub`, or fails (CI) / skips (elsewhere) when it is missing.
#define MASON_CONFORMANCE_OR_SKIP(var, sub)                                                        \
  const auto var = ::mason::test::conformance_dir() / (sub);                                       \
  if (!std::filesystem::exists(var)) {                                                             \
    if (::mason::test::running_in_ci()) FAIL() << "conformance vectors missing: " << var;          \
    GTEST_SKIP() << "conformance vectors not found at " << var << " (set MASON_CONFORMANCE_DIR)";  \
  }
