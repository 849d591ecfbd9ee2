// The internal pieces: id escaping, tree copy, tree diff.
#include <gtest/gtest.h>

#include <sys/xattr.h>

#include "../kernel_scratch.h"
#include "mason/snapshot/names.h"
#include "mason/snapshot/tree_copy.h"
#include "mason/snapshot/tree_diff.h"
#include "snapshot_test_util.h"

namespace mason::snapshot::testing {
namespace {

using detail::copy_tree;
using detail::dir_name_of;
using detail::write_diff;

TEST(Names, IdsAreEscapedInjectively) {
  EXPECT_EQ(*dir_name_of("sha256:ab12"), "sha256+3aab12");
  EXPECT_EQ(*dir_name_of("a+b"), "a+2bb");
  EXPECT_EQ(*dir_name_of("a/b"), "a+2fb");
  EXPECT_EQ(*dir_name_of("snapshot-x_y.z"), "snapshot-x_y.z");
  for (const char* bad : {"", ".", "..", "tmp", "l", "flat", "empty", "kind"})
    EXPECT_FALSE(dir_name_of(bad)) << bad;
  EXPECT_FALSE(dir_name_of(std::string(100, ':')));
}

TEST(Names, DirectoryNamesGiveTheirIdsBack) {
  for (const char* id : {"sha256:ab12", "a+b", "a/b", "snapshot-x_y.z", "\x01\xff"})
    EXPECT_EQ(detail::id_of_dir_name(*dir_name_of(id)), std::optional<std::string>(id)) << id;
  for (const char* name : {"tmp", "l", "a+2", "a+zz", "a+2B", "a:b", "+"})
    EXPECT_FALSE(detail::id_of_dir_name(name)) << name;
}

class TreeTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto dir = sys::TempDir::create_in(test::scratch_base(), "mason-snapshot-test-");
    ASSERT_TRUE(dir);
    m_dir.emplace(std::move(*dir));
  }
  std::string make(const std::string& name) {
    const std::string path = m_dir->path() + "/" + name;
    EXPECT_EQ(::mkdir(path.c_str(), 0755), 0);
    return path;
  }
  static sys::UniqueFd open_dir(const std::string& path) {
    return sys::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  std::optional<sys::TempDir> m_dir;
};

void set_times(const std::string& path, std::int64_t sec, long nsec) {
  const timespec t[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// A tree with every kind of entry and metadata copy_tree must keep.
void fill(const std::string& root) {
  ASSERT_EQ(::mkdir((root + "/dir").c_str(), 0755), 0);
  write_file(root + "/dir/file", "content", 0640);
  ASSERT_EQ(::link((root + "/dir/file").c_str(), (root + "/link").c_str()), 0);
  write_file(root + "/suid", "s", 0755);
  ASSERT_EQ(::chmod((root + "/suid").c_str(), 04755), 0);
  ASSERT_EQ(::symlink("dir/file", (root + "/sym").c_str()), 0);
  ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::setxattr((root + "/dir/file").c_str(), "user.note", "v\0w", 3, 0), 0);
  // Sparse: 1 MiB hole, then data.
  {
    sys::UniqueFd fd(::open((root + "/sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::pwrite(fd.get(), "end", 3, 1 << 20), 3);
  }
  if (is_root()) {
    ASSERT_EQ(::mknod((root + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::lchown((root + "/dir/file").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::lchown((root + "/sym").c_str(), 42, 43), 0);
    ASSERT_EQ(::setxattr((root + "/dir").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    ASSERT_EQ(::setxattr((root + "/dir").c_str(), "trusted.mine", "t", 1, 0), 0);
  }
  ASSERT_EQ(::mkdir((root + "/ro").c_str(), 0555), 0);
  for (const char* p : {"/dir/file", "/sym", "/fifo", "/sparse", "/suid"})
    set_times(root + p, 1600000000, 123456789);
  set_times(root + "/dir", 1500000000, 5);
  set_times(root + "/ro", 1500000001, 6);
}

TEST_F(TreeTest, CopyKeepsEverything) {
  const std::string src = make("src");
  const std::string dest = make("dest");
  fill(src);
  ASSERT_EQ(::chmod(src.c_str(), 0711), 0);
  auto s = open_dir(src);
  auto d = open_dir(dest);
  auto stats = copy_tree(s.get(), d.get());
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(stats->hardlinks, 1U);
  const DescribeOptions all{Links::compare, true};
  EXPECT_EQ(describe(dest, all), describe(src, all));
  struct stat a {
  }, b{};
  ASSERT_EQ(::lstat((src + "/dir/file").c_str(), &a), 0);
  ASSERT_EQ(::lstat((dest + "/dir/file").c_str(), &b), 0);
  EXPECT_EQ(b.st_mtim.tv_nsec, a.st_mtim.tv_nsec);
  ASSERT_EQ(::lstat((dest + "/dir").c_str(), &b), 0);
  EXPECT_EQ(b.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(b.st_mtim.tv_nsec, 5);
  ASSERT_EQ(::lstat((dest + "/sparse").c_str(), &b), 0);
  EXPECT_EQ(b.st_size, (1 << 20) + 3);
  EXPECT_LT(b.st_blocks, 100); // the hole stayed a hole
  ASSERT_EQ(::lstat(dest.c_str(), &b), 0);
  EXPECT_EQ(b.st_mode & 07777, 0711U);
  if (is_root()) {
    char value[8];
    EXPECT_LT(::lgetxattr((dest + "/dir").c_str(), "trusted.overlay.opaque", value, sizeof value),
              0);
    EXPECT_EQ(::lgetxattr((dest + "/dir").c_str(), "trusted.mine", value, sizeof value), 1);
  }
}

std::string diff_of(int lower, int upper, const std::optional<timespec>& copied_at = {}) {
  archive::StringSink sink;
  archive::TarWriter tar(sink);
  auto stats = write_diff(lower, upper, {}, copied_at, tar);
  EXPECT_TRUE(stats) << stats.error().to_string();
  EXPECT_TRUE(tar.finish());
  return sink.take();
}

std::vector<std::string> names(const std::string& tar) {
  std::vector<std::string> out;
  for (const auto& e : read_tar(tar)) {
    out.push_back(e.entry.name);
    if (e.entry.type == archive::EntryType::hardlink) out.back() += " -> " + e.entry.linkname;
  }
  return out;
}

TEST_F(TreeTest, DiffOfACopyWithNothingChangedIsEmpty) {
  const std::string lower = make("lower");
  const std::string upper = make("upper");
  fill(lower);
  auto l = open_dir(lower);
  auto u = open_dir(upper);
  ASSERT_TRUE(copy_tree(l.get(), u.get()));
  EXPECT_EQ(names(diff_of(l.get(), u.get())), std::vector<std::string>{});
}

TEST_F(TreeTest, DiffFindsEveryKindOfChange) {
  const std::string lower = make("lower");
  const std::string upper = make("upper");
  fill(lower);
  auto l = open_dir(lower);
  auto u = open_dir(upper);
  ASSERT_TRUE(copy_tree(l.get(), u.get()));
  // Content only (same size and mtime), an xattr, a mode, a link target,
  // a deletion, a new hard link to an unchanged file.
  write_file(upper + "/suid", "t");
  ASSERT_EQ(::chmod((upper + "/suid").c_str(), 04755), 0);
  set_times(upper + "/suid", 1600000000, 123456789);
  ASSERT_EQ(::setxattr((upper + "/sparse").c_str(), "user.new", "1", 1, 0), 0);
  ASSERT_EQ(::chmod((upper + "/ro").c_str(), 0500), 0);
  ASSERT_EQ(::unlink((upper + "/sym").c_str()), 0);
  ASSERT_EQ(::symlink("elsewhere", (upper + "/sym").c_str()), 0);
  set_times(upper + "/sym", 1600000000, 123456789);
  ASSERT_EQ(::unlink((upper + "/fifo").c_str()), 0);
  ASSERT_EQ(::link((upper + "/link").c_str(), (upper + "/dir/third").c_str()), 0);
  set_times(upper + "/dir", 1500000000, 5);
  const std::vector<std::string> expected = {
      "dir/", "dir/file", "dir/third -> dir/file", ".wh.fifo", "link -> dir/file", "ro/", "sparse",
      "suid", "sym"};
  EXPECT_EQ(names(diff_of(l.get(), u.get())), expected);
  // With the copy's time stamp, the content-only change of an untouched
  // file is trusted away only when its ctime is older than the stamp.
  const timespec long_ago{1, 0};
  EXPECT_EQ(names(diff_of(l.get(), u.get(), long_ago)), expected);
  // (A stamp after the change: its content is not compared.)
  const timespec later{::time(nullptr) + 3600, 0};
  auto trusted = expected;
  std::erase(trusted, "suid");
  EXPECT_EQ(names(diff_of(l.get(), u.get(), later)), trusted);
}

} // namespace
} // namespace mason::snapshot::testing
