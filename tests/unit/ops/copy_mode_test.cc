// --chmod: octal and symbolic modes. The symbolic cases are checked
// against chmod(1) run with a zero umask where GNU and BSD agree, and
// against BuildKit's own test (testChmodNonOctal) otherwise.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/ops/copy_mode.h"
#include "mason/sys/temp_dir.h"

namespace mason::ops {
namespace {

mode_t apply(const char* spec, mode_t mode, bool dir = false) {
  auto m = ModeSpec::parse(spec);
  EXPECT_TRUE(m) << spec << ": " << m.error().to_string();
  return m ? m->apply(mode, dir) : 0;
}

TEST(ModeSpec, Octal) {
  auto m = ModeSpec::parse("0644");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->octal(), 0644u);
  EXPECT_EQ(m->apply(0700, false), 0644u);
  EXPECT_EQ(m->created_dir_mode(), 0644u);
  EXPECT_EQ(apply("4755", 0600), 04755u);
  EXPECT_EQ(ModeSpec::parse("4755")->created_dir_mode(), 0755u);
  EXPECT_EQ(apply("0", 0644), 0u);
  EXPECT_EQ(ModeSpec::parse("")->empty(), true);
  EXPECT_EQ(ModeSpec::parse("u+x")->created_dir_mode(), 0755u);
}

TEST(ModeSpec, Invalid) {
  for (const char* bad : {"64a", "10000", "8", "0x7", "9u+x", "99999999999999"}) {
    auto m = ModeSpec::parse(bad);
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().message(), std::string("invalid chmod parameter: '") + bad +
                                       "'. it should be octal string and between 0 and 07777");
  }
  for (const char* bad : {"u", "u+x,", "q+x", "u+x-q", "u*x", "a=r w"})
    EXPECT_FALSE(ModeSpec::parse(bad)) << bad;
}

TEST(ModeSpec, BuildKitNonOctalCases) {
  // frontend/dockerfile testChmodNonOctal: file 0666, dir 0124.
  EXPECT_EQ(apply("go-w", 0666), 0644u);
  EXPECT_EQ(apply("u=rw,g=r,o=r", 0666), 0644u);
  EXPECT_EQ(apply("a+X", 0666), 0666u);
  EXPECT_EQ(apply("go-w", 0124, true), 0104u);
  EXPECT_EQ(apply("u+rw,g+r,o-x,o+w", 0124, true), 0766u);
  EXPECT_EQ(apply("a+X", 0124, true), 0135u);
}

TEST(ModeSpec, SymbolicDetails) {
  EXPECT_EQ(apply("+x", 0644), 0755u);
  EXPECT_EQ(apply("u+x", 0644), 0744u);
  EXPECT_EQ(apply("=r", 0777), 0444u);
  EXPECT_EQ(apply("u=rwx,go=rx", 0), 0755u);
  EXPECT_EQ(apply("go=", 0777), 0700u);
  EXPECT_EQ(apply("g=u", 0740), 0770u);
  EXPECT_EQ(apply("go=u-w", 0755), 0755u);
  EXPECT_EQ(apply("u=rwx,go=u-w", 0), 0755u);
  EXPECT_EQ(apply("+X", 0644), 0644u);
  EXPECT_EQ(apply("+X", 0744), 0755u);
  EXPECT_EQ(apply("+X", 0600, true), 0711u);
  EXPECT_EQ(apply("u+s", 0755), 04755u);
  EXPECT_EQ(apply("g+s", 0755), 02755u);
  EXPECT_EQ(apply("o+s", 0755), 0755u); // set-id bits need u or g
  EXPECT_EQ(apply("+t", 0755), 01755u);
  EXPECT_EQ(apply("o+t", 0755), 0755u);
  EXPECT_EQ(apply("u-x+w,o-r", 0555), 0651u);
  EXPECT_EQ(apply("a-rwx", 04777), 04000u);
  EXPECT_EQ(apply("=", 04777), 0u);
}

// The cases above, run through the system's chmod with umask 0.
TEST(ModeSpec, AgreesWithChmod) {
  auto dir = sys::TempDir::create("mason-chmod-");
  ASSERT_TRUE(dir);
  const std::string f = dir->path() + "/f";
  const struct {
    const char* spec;
    mode_t mode;
  } table[] = {{"go-w", 0666}, {"u=rw,g=r,o=r", 0666}, {"+x", 0644},     {"=r", 0777},
               {"go=", 0777},  {"g=u", 0740},          {"go=u-w", 0755}, {"+X", 0744},
               {"u+s", 0755},  {"u-x+w,o-r", 0555},    {"a-rwx", 0777},  {"u=rwx,go=rx", 0}};
  const mode_t old_umask = ::umask(0);
  for (const auto& c : table) {
    ::close(::open(f.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    ASSERT_EQ(::chmod(f.c_str(), c.mode), 0);
    const std::string cmd = std::string("chmod '") + c.spec + "' " + f;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(apply(c.spec, c.mode), st.st_mode & 07777) << c.spec << " on " << std::oct << c.mode;
  }
  ::umask(old_umask);
}

} // namespace
} // namespace mason::ops
