// COPY metadata: owners (context 0:0, stages keep theirs, --chown by id
// and by name through the destination's /etc/passwd and /etc/group),
// mtimes, hard links, xattrs, the owner and mode of directories created on
// the way, and the statistics.
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include "copy_test_util.h"

namespace mason::ops::test {
namespace {

class CopyMetadata : public CopyFixture {
protected:
  void SetUp() override {
    CopyFixture::SetUp();
    file("a.txt", "A", 0644);
    dir("dir", 0750);
    file("dir/x.txt", "XX", 0640);
    hardlink("dir/x.txt", "dir/y.txt");
    ASSERT_EQ(::mkdir(dst("etc").c_str(), 0755), 0);
    write_host(dst("etc/passwd"),
               "root:x:0:0:root:/root:/bin/sh\nalice:x:1001:1002::/home/alice:/bin/sh\n", 0644);
    write_host(dst("etc/group"), "root:x:0:\nstaff:x:50:alice\nalice:x:1002:\n", 0644);
  }

  void chown_src(const std::string& rel, uid_t uid, gid_t gid) {
    ASSERT_EQ(::lchown(src(rel).c_str(), uid, gid), 0);
  }
};

TEST_F(CopyMetadata, ContextFilesBelongToRoot) {
  if (!is_root()) GTEST_SKIP() << "needs root to own files as others";
  chown_src("a.txt", 1234, 5678);
  ASSERT_TRUE(run(copy({"a.txt"}, "/x")));
  EXPECT_EQ(owner("x"), "0:0");
}

TEST_F(CopyMetadata, StageFilesKeepTheirOwners) {
  if (!is_root()) GTEST_SKIP() << "needs root to own files as others";
  chown_src("dir", 11, 12);
  chown_src("dir/x.txt", 1234, 5678);
  ASSERT_TRUE(run(copy({"dir"}, "/d"), SourceOrigin::stage));
  EXPECT_EQ(owner("d"), "0:0"); // the top directory is created, not copied
  EXPECT_EQ(owner("d/x.txt"), "1234:5678");
  ASSERT_TRUE(run(copy({"/"}, "/all/"), SourceOrigin::stage));
  EXPECT_EQ(owner("all/dir"), "11:12");
}

TEST_F(CopyMetadata, ChownSpecs) {
  if (!is_root()) GTEST_SKIP() << "needs root for --chown";
  const std::vector<std::pair<std::string, std::string>> table = {
      {"1000", "1000:1000"},      {"1000:2000", "1000:2000"},    {"alice", "1001:1002"},
      {"alice:staff", "1001:50"}, {"alice:7", "1001:7"},         {"root", "0:0"},
      {"nosuch", "0:0"},          {"nosuch:staff", "0:50"},      {":staff", "0:50"},
      {"alice:", "1001:0"},       {"alice:nosuch", "1001:1002"},
  };
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& [spec, want] = table[i];
    CopyRequest r = copy({"a.txt"}, "/o/" + std::to_string(i) + "/");
    r.chown = spec;
    ASSERT_TRUE(run(r)) << spec;
    EXPECT_EQ(owner("o/" + std::to_string(i) + "/a.txt"), want) << spec;
  }
}

TEST_F(CopyMetadata, ChownAppliesToCreatedDirectoriesOnly) {
  if (!is_root()) GTEST_SKIP() << "needs root for --chown";
  ASSERT_EQ(::mkdir(dst("existing").c_str(), 0700), 0);
  CopyRequest r = copy({"dir"}, "/existing");
  r.chown = "7:8";
  ASSERT_TRUE(run(r));
  EXPECT_EQ(owner("existing"), "0:0");
  EXPECT_EQ(dst_stat("existing")->st_mode & 07777, 0700u);
  EXPECT_EQ(owner("existing/x.txt"), "7:8");
  r = copy({"a.txt"}, "/p/q/");
  r.chown = "alice";
  ASSERT_TRUE(run(r));
  EXPECT_EQ(owner("p"), "1001:1002");
  EXPECT_EQ(owner("p/q"), "1001:1002");
  EXPECT_EQ(owner("p/q/a.txt"), "1001:1002");
  r = copy({"dir"}, "/new");
  r.chown = "9";
  ASSERT_TRUE(run(r));
  EXPECT_EQ(owner("new"), "9:9");
}

TEST_F(CopyMetadata, ChownNamesComeFromTheDestination) {
  if (!is_root()) GTEST_SKIP() << "needs root for --chown";
  // A /etc/passwd symlink is followed inside the destination root only.
  ASSERT_EQ(::rename(dst("etc/passwd").c_str(), dst("etc/real-passwd").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/real-passwd", dst("etc/passwd").c_str()), 0);
  CopyRequest r = copy({"a.txt"}, "/x");
  r.chown = "alice";
  ASSERT_TRUE(run(r));
  EXPECT_EQ(owner("x"), "1001:1002");
}

TEST_F(CopyMetadata, TimesAreKept) {
  const timespec t[2] = {{1000000000, 0}, {1100000000, 5}};
  ASSERT_EQ(::utimensat(AT_FDCWD, src("a.txt").c_str(), t, 0), 0);
  const timespec d[2] = {{1200000000, 0}, {1300000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, src("dir").c_str(), d, 0), 0);
  ASSERT_TRUE(run(copy({"a.txt"}, "/x")));
  EXPECT_EQ(dst_stat("x")->st_mtim.tv_sec, 1100000000);
  EXPECT_EQ(dst_stat("x")->st_mtim.tv_nsec, 5);
  ASSERT_TRUE(run(copy({"dir"}, "/d")));
  // The top directory is created on the way but gets the source's times.
  EXPECT_EQ(dst_stat("d")->st_mtim.tv_sec, 1300000000);
  EXPECT_EQ(dst_stat("d")->st_mode & 07777, 0755u);
}

TEST_F(CopyMetadata, HardLinksStayLinked) {
  ASSERT_TRUE(run(copy({"dir"}, "/d")));
  const auto x = dst_stat("d/x.txt");
  const auto y = dst_stat("d/y.txt");
  ASSERT_TRUE(x && y);
  EXPECT_EQ(x->st_ino, y->st_ino);
  EXPECT_EQ(x->st_nlink, 2u);
}

TEST_F(CopyMetadata, XattrsAreKept) {
  if (::setxattr(src("a.txt").c_str(), "user.mason", "v1", 2, 0) != 0)
    GTEST_SKIP() << "no user xattrs here: " << std::strerror(errno);
  ASSERT_TRUE(run(copy({"a.txt"}, "/x")));
  char buf[16] = {};
  ASSERT_EQ(::getxattr(dst("x").c_str(), "user.mason", buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "v1");
}

TEST_F(CopyMetadata, Stats) {
  auto r = run(copy({"dir"}, "/d"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->files, 2u);
  EXPECT_EQ(r->bytes, 2u); // the hard link is not copied twice
}

TEST_F(CopyMetadata, HeredocFiles) {
  CopyRequest r = copy({}, "/h/");
  r.contents = {{"EOF", "hello\n", true}, {"second", "2", true}};
  ASSERT_TRUE(run(r));
  EXPECT_EQ(listing().substr(listing().find("h/")),
            "h/ 0755\nh/EOF 0644 hello\n\nh/second 0644 2\n");
  r = copy({}, "/f.sh");
  r.contents = {{"EOT", "#!/bin/sh\n", true}};
  r.chmod = "755";
  ASSERT_TRUE(run(r));
  EXPECT_EQ(read_host(dst("f.sh")), "#!/bin/sh\n");
  EXPECT_EQ(dst_stat("f.sh")->st_mode & 07777, 0755u);
  if (is_root()) {
    r = copy({}, "/o/");
    r.contents = {{"EOF", "x", true}};
    r.chown = "alice";
    ASSERT_TRUE(run(r));
    EXPECT_EQ(owner("o/EOF"), "1001:1002");
  }
}

TEST_F(CopyMetadata, SpecialFiles) {
  if (!is_root()) GTEST_SKIP() << "needs root for device nodes";
  ASSERT_EQ(::mknod(src("chr").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  ASSERT_EQ(::mknod(src("blk").c_str(), S_IFBLK | 0600, makedev(7, 0)), 0);
  ASSERT_TRUE(run(copy({"chr", "blk"}, "/dev/")));
  const auto chr = dst_stat("dev/chr");
  ASSERT_TRUE(chr);
  EXPECT_TRUE(S_ISCHR(chr->st_mode));
  EXPECT_EQ(chr->st_rdev, makedev(1, 3));
  // fsutil clears S_IFSOCK's bits from the mode: a block device comes out
  // as a character device (BuildKit does the same).
  EXPECT_TRUE(S_ISCHR(dst_stat("dev/blk")->st_mode));
}

TEST_F(CopyMetadata, SocketBecomesAnEmptyFile) {
  // BuildKit's testCopySocket: a socket is copied as a stub regular file.
  const std::string p = src("sock");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(p.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  util::UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_TRUE(run(copy({"."}, "/c/")));
  const auto st = dst_stat("c/sock");
  ASSERT_TRUE(st);
  EXPECT_TRUE(S_ISREG(st->st_mode));
  EXPECT_EQ(st->st_size, 0);
}

} // namespace
} // namespace mason::ops::test
