// The stat cache: hits only for the same stamp, survives a save/load, drops
// what was not used, refuses racy entries and ignores a damaged file.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/cache/stat_cache.h"
#include "mason/sys/temp_dir.h"

namespace mason::cache {
namespace {

const std::string k_hex(64, 'a');
const std::string k_hex2(64, 'b');

struct stat old_stat(std::uint64_t ino = 7, std::int64_t size = 10) {
  struct stat st {};
  st.st_ino = ino;
  st.st_size = size;
  st.st_mtim.tv_sec = 1'000'000'000; // 2001: far from racy
  st.st_ctim.tv_sec = 1'000'000'000;
  return st;
}

TEST(StatCache, HitsOnlyForTheSameStamp) {
  StatCache c;
  auto st = old_stat();
  c.store("a/b", st, k_hex);
  EXPECT_EQ(c.lookup("a/b", st), k_hex);
  EXPECT_FALSE(c.lookup("a/c", st));
  for (int field = 0; field < 4; ++field) {
    auto changed = st;
    if (field == 0) changed.st_ino = 8;
    if (field == 1) changed.st_size = 11;
    if (field == 2) changed.st_mtim.tv_nsec = 1;
    if (field == 3) changed.st_ctim.tv_sec += 1;
    EXPECT_FALSE(c.lookup("a/b", changed)) << field;
  }
}

TEST(StatCache, SavesAndLoadsPathsWithAnyBytes) {
  auto dir = sys::TempDir::create("mason-stat-cache-");
  ASSERT_TRUE(dir);
  const std::string file = dir->path() + "/ctx.stat";
  const std::string odd = "we ird\nname:with 9:colons";
  {
    auto c = StatCache::load(file);
    EXPECT_EQ(c.size(), 0u);
    c.store(odd, old_stat(1), k_hex);
    c.store("plain", old_stat(2), k_hex2);
    ASSERT_TRUE(c.save());
  }
  auto c = StatCache::load(file);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.lookup(odd, old_stat(1)), k_hex);
  EXPECT_EQ(c.lookup("plain", old_stat(2)), k_hex2);
}

TEST(StatCache, DropUnusedForgetsWhatNoBuildLookedAt) {
  auto dir = sys::TempDir::create("mason-stat-cache-");
  ASSERT_TRUE(dir);
  const std::string file = dir->path() + "/ctx.stat";
  {
    auto c = StatCache::load(file);
    c.store("keep", old_stat(1), k_hex);
    c.store("gone", old_stat(2), k_hex);
    ASSERT_TRUE(c.save());
  }
  {
    auto c = StatCache::load(file);
    EXPECT_TRUE(c.lookup("keep", old_stat(1)));
    c.drop_unused();
    ASSERT_TRUE(c.save());
  }
  auto c = StatCache::load(file);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_FALSE(c.lookup("gone", old_stat(2)));
}

TEST(StatCache, RecentlyChangedFilesAreNotTrusted) {
  auto dir = sys::TempDir::create("mason-stat-cache-");
  ASSERT_TRUE(dir);
  auto c = StatCache::load(dir->path() + "/ctx.stat");
  struct stat st = old_stat();
  st.st_mtim.tv_sec = ::time(nullptr); // modified just now: could change again unseen
  c.store("racy", st, k_hex);
  EXPECT_FALSE(c.lookup("racy", st));
}

TEST(StatCache, DamagedFileIsAnEmptyCache) {
  auto dir = sys::TempDir::create("mason-stat-cache-");
  ASSERT_TRUE(dir);
  const std::string file = dir->path() + "/ctx.stat";
  std::ofstream(file) << "mason-stat-cache-v1\n1 2 3 4 zz 5:abcde\n";
  EXPECT_EQ(StatCache::load(file).size(), 0u);
  std::ofstream(file) << "something else\n";
  EXPECT_EQ(StatCache::load(file).size(), 0u);
  std::ofstream(file) << "mason-stat-cache-v1\n1 2 3 4 " << k_hex << " 999999999:x\n";
  EXPECT_EQ(StatCache::load(file).size(), 0u);
}

} // namespace
} // namespace mason::cache
