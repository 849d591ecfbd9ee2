// Working directory creation and mount-stub cleanup on a plain directory
// (no runtime needed).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/executor/root_prep.h"
#include "mason/sys/temp_dir.h"
#include "mason/sys/unique_fd.h"

using namespace mason;
using namespace mason::executor;

namespace {

class RootPrep : public ::testing::Test {
protected:
  void SetUp() override {
    auto tmp = sys::TempDir::create("mason-root-prep-");
    ASSERT_TRUE(tmp) << tmp.error().to_string();
    m_tmp.emplace(std::move(*tmp));
    ASSERT_EQ(::mkdir(path("root").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(path("outside").c_str(), 0755), 0);
    m_root = sys::UniqueFd(::open(path("root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(m_root.valid());
  }
  std::string path(const std::string& rel) const { return m_tmp->path() + "/" + rel; }
  bool exists(const std::string& rel) const {
    struct stat st {};
    return ::lstat(path(rel).c_str(), &st) == 0;
  }
  static void write(const std::string& p, const std::string& data) {
    std::ofstream(p, std::ios::binary) << data;
  }
  int root() const { return m_root.get(); }

  std::optional<sys::TempDir> m_tmp;
  sys::UniqueFd m_root;
};

} // namespace

TEST_F(RootPrep, WorkdirCreatesMissingParents) {
  ASSERT_EQ(::mkdir(path("root/a").c_str(), 0700), 0);
  ASSERT_TRUE(make_workdir(root(), "/a/b/c", ::getuid(), ::getgid()));
  struct stat st {};
  ASSERT_EQ(::stat(path("root/a/b/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat(path("root/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u); // existing directories are left alone
  EXPECT_TRUE(make_workdir(root(), "/", 0, 0));
  EXPECT_TRUE(make_workdir(root(), "/a/b/c", ::getuid(), ::getgid()));
}

TEST_F(RootPrep, WorkdirOwnedByTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  ASSERT_TRUE(make_workdir(root(), "/home/u", 1234, 4321));
  struct stat st {};
  ASSERT_EQ(::stat(path("root/home/u").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 4321u);
  ASSERT_EQ(::stat(path("root/home").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
}

TEST_F(RootPrep, WorkdirThroughSymlinkStaysInside) {
  ASSERT_EQ(::symlink("/../..", path("root/link").c_str()), 0);
  auto st = make_workdir(root(), "/link/x", ::getuid(), ::getgid());
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_TRUE(exists("root/x")); // the link resolves to the root itself
  // On the host this link leads to <tmp>/outside; inside the root it
  // names the missing /outside, so nothing is created anywhere.
  ASSERT_EQ(::symlink("../outside", path("root/out").c_str()), 0);
  EXPECT_FALSE(make_workdir(root(), "/out/y", ::getuid(), ::getgid()));
  EXPECT_FALSE(exists("outside/y"));
  EXPECT_FALSE(exists("root/outside"));
}

TEST_F(RootPrep, WorkdirOverAFileFails) {
  write(path("root/file"), "x");
  auto st = make_workdir(root(), "/file/sub", 0, 0);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().to_string().find("/file"), std::string::npos) << st.error().to_string();
}

TEST_F(RootPrep, StubsRecordMissingPathsAndParents) {
  ASSERT_EQ(::mkdir(path("root/proc").c_str(), 0755), 0);
  const auto stubs =
      MountStubs::record(root(), {"/proc", "/etc/hosts", "/etc/resolv.conf", "/mnt/a/b", "/"});
  EXPECT_EQ(stubs.paths(), (std::vector<std::string>{"mnt/a/b", "mnt/a", "etc/resolv.conf",
                                                     "etc/hosts", "mnt", "etc"}));
}

TEST_F(RootPrep, StubsRemovedOnlyWhenEmpty) {
  const auto stubs =
      MountStubs::record(root(), {"/etc/hosts", "/etc/resolv.conf", "/data/x", "/keep/file"});
  // What a runtime would create, plus content written during the run.
  for (const char* d : {"etc", "data", "data/x", "keep"})
    ASSERT_EQ(::mkdir(path(std::string("root/") + d).c_str(), 0755), 0);
  write(path("root/etc/hosts"), "");
  write(path("root/etc/resolv.conf"), "");
  write(path("root/data/x/made-by-run"), "1");
  write(path("root/keep/file"), "content");
  EXPECT_EQ(stubs.remove(root()), 3);
  EXPECT_FALSE(exists("root/etc"));
  EXPECT_TRUE(exists("root/data/x/made-by-run"));
  EXPECT_TRUE(exists("root/keep/file"));
}

TEST_F(RootPrep, StubsKeepParentTimes) {
  ASSERT_EQ(::mkdir(path("root/etc").c_str(), 0755), 0);
  const auto stubs = MountStubs::record(root(), {"/etc/hosts"});
  write(path("root/etc/hosts"), "");
  const timespec times[2] = {{1000, 0}, {2000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path("root/etc").c_str(), times, 0), 0);
  EXPECT_EQ(stubs.remove(root()), 1);
  struct stat st {};
  ASSERT_EQ(::stat(path("root/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
}

TEST_F(RootPrep, StubsNeverFollowSymlinksOut) {
  const auto stubs = MountStubs::record(root(), {"/etc/hosts"});
  // The run replaced the stub directory with a link to the host.
  ASSERT_EQ(::symlink(path("outside").c_str(), path("root/etc").c_str()), 0);
  write(path("outside/hosts"), "");
  stubs.remove(root());
  EXPECT_TRUE(exists("outside/hosts"));
  EXPECT_TRUE(exists("root/etc")); // a symlink is not a stub
}
