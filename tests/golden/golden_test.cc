// Golden tests of the mason binary. Each folder tests/golden/<case>/ has
//   args     the command-line arguments, one per line
//   stdout   the expected standard output (optional: absent means empty)
//   stderr   the expected standard error (optional: absent means empty)
//   exit     the expected exit code (optional: absent means 0)
// plus whatever files the command reads (a Dockerfile, ...); the command
// runs in the case folder. MASON_UPDATE_GOLDEN=1 rewrites the expected
// files from the actual output: review the diff before committing.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Outcome {
  std::string out, err;
  int code = -1;
};

Outcome run_case(const fs::path& dir) {
  std::string cmd = "cd " + shell_quote(dir.string()) + " && " + shell_quote(MASON_BINARY);
  std::istringstream args(slurp(dir / "args"));
  for (std::string line; std::getline(args, line);)
    if (!line.empty()) cmd += " " + shell_quote(line);
  const auto err_file = fs::temp_directory_path() / ("mason-golden-" + dir.filename().string());
  cmd += " 2>" + shell_quote(err_file.string()) + " </dev/null";
  Outcome o;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return o;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) o.out.append(buf, n);
  const int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.err = slurp(err_file);
  fs::remove(err_file);
  return o;
}

void update(const fs::path& dir, const Outcome& o) {
  auto write = [&](const char* name, const std::string& s, bool keep) {
    if (!keep) {
      fs::remove(dir / name);
      return;
    }
    std::ofstream(dir / name, std::ios::binary) << s;
  };
  write("stdout", o.out, !o.out.empty());
  write("stderr", o.err, !o.err.empty());
  write("exit", std::to_string(o.code) + "\n", o.code != 0);
}

class Golden : public testing::TestWithParam<fs::path> {};

TEST_P(Golden, Matches) {
  const auto dir = GetParam();
  const auto o = run_case(dir);
  if (const char* u = std::getenv("MASON_UPDATE_GOLDEN"); u && std::string(u) == "1") {
    update(dir, o);
    GTEST_SKIP() << "updated";
  }
  const auto want_code = fs::exists(dir / "exit") ? std::stoi(slurp(dir / "exit")) : 0;
  EXPECT_EQ(o.code, want_code);
  EXPECT_EQ(o.out, fs::exists(dir / "stdout") ? slurp(dir / "stdout") : "");
  EXPECT_EQ(o.err, fs::exists(dir / "stderr") ? slurp(dir / "stderr") : "");
}

std::vector<fs::path> cases() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(MASON_GOLDEN_DIR))
    if (e.is_directory() && fs::exists(e.path() / "args")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cli, Golden, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<fs::path>& param_info) {
                           std::string name = param_info.param.filename().string();
                           for (auto& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

} // namespace
