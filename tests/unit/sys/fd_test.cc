#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/temp_dir.h"
#include "mason/sys/unique_fd.h"

using namespace mason;
using namespace mason::sys;

namespace {

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

} // namespace

TEST(UniqueFd, ClosesOnDestructionAndMoves) {
  int raw = -1;
  {
    UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(a.valid());
    raw = a.get();
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid()); // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_EQ(b.get(), raw);
    EXPECT_TRUE(fd_open(raw));
  }
  EXPECT_FALSE(fd_open(raw));
}

TEST(UniqueFd, ReleaseKeepsOpenAndDupIsIndependent) {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto b = a.dup();
  ASSERT_TRUE(b);
  EXPECT_NE(b->get(), a.get());
  const int raw = a.release();
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(fd_open(raw));
  EXPECT_TRUE(UniqueFd(raw).close().has_value());
  EXPECT_FALSE(fd_open(raw));
  EXPECT_TRUE(fd_open(b->get()));
}

TEST(Errors, ErrnoMapsToCodes) {
  EXPECT_EQ(code_of_errno(ENOENT), util::ErrorCode::not_found);
  EXPECT_EQ(code_of_errno(EPERM), util::ErrorCode::unauthorized);
  EXPECT_EQ(code_of_errno(ENOSYS), util::ErrorCode::unsupported);
  EXPECT_EQ(code_of_errno(EIO), util::ErrorCode::unavailable);
  EXPECT_EQ(errno_error("open \"x\"", ENOENT).error().to_string(),
            "open \"x\": No such file or directory");
  EXPECT_EQ(quote("a\nb\"c"), "\"a\\x0ab\\x22c\"");
}

TEST(TempDir, CreatesPrivateDirAndRemovesTreeWithoutFollowingSymlinks) {
  auto outside = TempDir::create("mason-sys-test-outside-");
  ASSERT_TRUE(outside) << outside.error().to_string();
  const std::string keep = outside->path() + "/keep";
  ASSERT_EQ(::mkdir(keep.c_str(), 0755), 0);
  std::string path;
  {
    auto dir = TempDir::create("mason-sys-test-");
    ASSERT_TRUE(dir) << dir.error().to_string();
    path = dir->path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(::mkdir((path + "/a").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((path + "/a/b").c_str(), 0755), 0);
    ASSERT_EQ(::symlink(keep.c_str(), (path + "/a/link").c_str()), 0);
    ASSERT_EQ(::symlink(outside->path().c_str(), (path + "/a/b/up").c_str()), 0);
    ASSERT_EQ(::chmod((path + "/a/b").c_str(), 0555), 0); // read-only: removable all the same
    TempDir moved = std::move(*dir);
    EXPECT_EQ(moved.path(), path);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  EXPECT_EQ(::access(keep.c_str(), F_OK), 0);
}

TEST(Dir, ReadDirNamesSortedAndRemoveChildren) {
  auto dir = TempDir::create("mason-sys-test-");
  ASSERT_TRUE(dir);
  for (const char* n : {"b", "a", "C", ".hidden"}) ASSERT_EQ(::mkdirat(dir->fd(), n, 0755), 0) << n;
  auto names = read_dir_names(dir->fd());
  ASSERT_TRUE(names) << names.error().to_string();
  EXPECT_EQ(*names, (std::vector<std::string>{".hidden", "C", "a", "b"}));
  auto st = lstat_at(dir->fd(), "a");
  ASSERT_TRUE(st && *st);
  EXPECT_TRUE(S_ISDIR((*st)->st_mode));
  auto missing = lstat_at(dir->fd(), "zz");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  ASSERT_TRUE(remove_children(dir->fd()));
  names = read_dir_names(dir->fd());
  ASSERT_TRUE(names);
  EXPECT_TRUE(names->empty());
  EXPECT_TRUE(remove_all_at(dir->fd(), "does-not-exist"));
}
