// tree_usage: blocks and apparent sizes, hard links once, symlinks not
// followed, a missing name is zero.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/sys/dir.h"
#include "mason/sys/temp_dir.h"

namespace mason::sys {
namespace {

TEST(TreeUsage, CountsHardLinksOnceAndDoesNotFollowSymlinks) {
  auto tmp = TempDir::create("mason-dir-test-");
  ASSERT_TRUE(tmp);
  const std::string root = tmp->path() + "/t";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  std::ofstream(root + "/a") << std::string(10000, 'a');
  ASSERT_EQ(::link((root + "/a").c_str(), (root + "/b").c_str()), 0);
  ASSERT_EQ(::symlink("/usr", (root + "/s").c_str()), 0);
  auto used = tree_usage(tmp->fd(), "t");
  ASSERT_TRUE(used) << used.error().to_string();
  EXPECT_EQ(used->entries, 3); // t, a (b is the same inode), s
  EXPECT_EQ(used->apparent, 10000 + 4);
  EXPECT_GE(used->bytes, 10000);
  EXPECT_LT(used->bytes, 1'000'000) << "the symlink to /usr was followed";
  auto none = tree_usage(tmp->fd(), "missing");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->entries, 0);
}

} // namespace
} // namespace mason::sys
