#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../kernel_scratch.h"
#include "mason/sys/dir.h"
#include "mason/sys/in_root.h"
#include "mason/sys/temp_dir.h"
#include "mason/sys/xattr.h"

using namespace mason;
using namespace mason::sys;

namespace {

// <tmp>/root is the root under test; <tmp>/outside holds a sentinel file
// that no operation may reach or change.
class InRoot : public ::testing::Test {
protected:
  void SetUp() override {
    auto tmp = TempDir::create_in(test::scratch_base(), "mason-in-root-");
    ASSERT_TRUE(tmp) << tmp.error().to_string();
    m_tmp.emplace(std::move(*tmp));
    ASSERT_EQ(::mkdirat(m_tmp->fd(), "root", 0755), 0);
    ASSERT_EQ(::mkdirat(m_tmp->fd(), "outside", 0755), 0);
    m_root = UniqueFd(::openat(m_tmp->fd(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(m_root.valid());
    write_file(outside() + "/sentinel", "keep");
  }

  static void write_file(const std::string& path, const std::string& data) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid()) << path;
    ASSERT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }

  std::string root() const { return m_tmp->path() + "/root"; }
  std::string outside() const { return m_tmp->path() + "/outside"; }
  int root_fd() const { return m_root.get(); }

  // The outside world is exactly as SetUp left it.
  void expect_outside_untouched() const {
    auto names = read_dir_names(m_tmp->fd());
    ASSERT_TRUE(names);
    EXPECT_EQ(*names, (std::vector<std::string>{"outside", "root"}));
    UniqueFd out(::openat(m_tmp->fd(), "outside", O_PATH | O_DIRECTORY | O_CLOEXEC));
    auto inside = read_dir_names(out.get());
    ASSERT_TRUE(inside);
    EXPECT_EQ(*inside, (std::vector<std::string>{"sentinel"}));
    struct stat st {};
    ASSERT_EQ(::stat((outside() + "/sentinel").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 4);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
  }

  std::optional<TempDir> m_tmp;
  UniqueFd m_root;
};

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

} // namespace

TEST(CleanPath, NormalisesLexically) {
  EXPECT_EQ(clean_path("a/b/c").value(), "a/b/c");
  EXPECT_EQ(clean_path("/a//b/./c/").value(), "a/b/c");
  EXPECT_EQ(clean_path("./a/../b").value(), "b");
  EXPECT_EQ(clean_path("").value(), "");
  EXPECT_EQ(clean_path("/").value(), "");
  EXPECT_EQ(clean_path("a/..").value(), "");
  EXPECT_EQ(clean_path("...").value(), "...");
}

TEST(CleanPath, RejectsEscapes) {
  for (const char* bad : {"..", "../x", "a/../../x", "/../x", "a/b/../../.."}) {
    auto r = clean_path(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), util::ErrorCode::invalid_argument);
    EXPECT_NE(r.error().message().find("escapes the root"), std::string::npos);
  }
  EXPECT_FALSE(clean_path(std::string_view("a\0b", 3)));
}

TEST_F(InRoot, CreatesAndActsOnEntries) {
  ASSERT_TRUE(mkdir_in_root(root_fd(), "d", 0750));
  ASSERT_TRUE(symlink_in_root(root_fd(), "d/l", "../nowhere"));
  auto p = RootedPath::resolve(root_fd(), "/d/f");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->name(), "f");
  EXPECT_EQ(p->path(), "d/f");
  auto fd = p->open(O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd) << fd.error().to_string();
  ASSERT_TRUE(link_in_root(root_fd(), "d/f", "d/g"));
  ASSERT_TRUE(chmod_in_root(root_fd(), "d/g", 0640));
  ASSERT_TRUE(chmod_in_root(root_fd(), "d/l", 0600)); // no-op on a symlink
  const timespec t{1000000000, 5};
  ASSERT_TRUE(utimens_in_root(root_fd(), "d/l", t, t));
  struct stat st {};
  ASSERT_EQ(::lstat((root() + "/d/g").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(::lstat((root() + "/d/l").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  auto target = RootedPath::resolve(root_fd(), "d/l")->readlink();
  ASSERT_TRUE(target);
  EXPECT_EQ(*target, "../nowhere");
  ASSERT_TRUE(unlink_in_root(root_fd(), "d/g"));
  ASSERT_TRUE(remove_all_in_root(root_fd(), "d"));
  EXPECT_FALSE(exists(root() + "/d"));
  expect_outside_untouched();
}

TEST_F(InRoot, ResolveRejectsRootAndEscapes) {
  EXPECT_FALSE(RootedPath::resolve(root_fd(), ""));
  EXPECT_FALSE(RootedPath::resolve(root_fd(), "/"));
  EXPECT_FALSE(RootedPath::resolve(root_fd(), "../outside/sentinel"));
  EXPECT_FALSE(mkdir_in_root(root_fd(), "a/../../x", 0755));
  auto missing = RootedPath::resolve(root_fd(), "no/such/parent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), util::ErrorCode::not_found);
  expect_outside_untouched();
}

TEST_F(InRoot, AbsoluteSymlinkResolvesInsideTheRoot) {
  // l -> / : "l/x" must land in <root>/x, not in the host's /x.
  ASSERT_EQ(::symlink("/", (root() + "/l").c_str()), 0);
  const std::string outside_abs = outside();
  ASSERT_EQ(::symlink(outside_abs.c_str(), (root() + "/abs").c_str()), 0);
  auto fd = open_in_root(root_fd(), "l/created", O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_TRUE(exists(root() + "/created"));
  // <root>/abs points at the real outside dir by absolute path; inside the
  // root that path does not exist.
  auto p = RootedPath::resolve(root_fd(), "abs/sentinel");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), util::ErrorCode::not_found);
  EXPECT_FALSE(open_in_root(root_fd(), "abs/sentinel", O_RDONLY));
  expect_outside_untouched();
}

TEST_F(InRoot, DotDotSymlinkChainStaysInside) {
  ASSERT_EQ(::mkdir((root() + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("../../..", (root() + "/a/up").c_str()), 0);
  ASSERT_EQ(::symlink("a/up/../outside", (root() + "/chain").c_str()), 0);
  ASSERT_TRUE(mkdir_in_root(root_fd(), "a/up/x", 0755));
  EXPECT_TRUE(exists(root() + "/x"));
  // chain -> a/up/../outside -> (root)/outside: not there, so not found.
  EXPECT_FALSE(RootedPath::resolve(root_fd(), "chain/sentinel"));
  auto fd = open_in_root(root_fd(), "chain", O_RDONLY);
  EXPECT_FALSE(fd);
  expect_outside_untouched();
}

TEST_F(InRoot, FinalSymlinkIsNeverFollowed) {
  ASSERT_EQ(::symlink((outside() + "/sentinel").c_str(), (root() + "/s").c_str()), 0);
  auto p = RootedPath::resolve(root_fd(), "s");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->open(O_WRONLY | O_TRUNC)); // ELOOP
  ASSERT_TRUE(p->chmod(0600));               // symlink: no-op
  if (::geteuid() == 0) {
    ASSERT_TRUE(p->chown(1234, 1234));
  }
  ASSERT_TRUE(p->remove_all());
  EXPECT_FALSE(exists(root() + "/s"));
  expect_outside_untouched();
}

TEST_F(InRoot, CreateParentsThroughSymlinksInsideRoot) {
  ASSERT_EQ(::mkdir((root() + "/usr").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/usr", (root() + "/lib").c_str()), 0);
  ASSERT_EQ(::symlink("/nowhere", (root() + "/dangling").c_str()), 0);
  auto fd = open_dir_in_root(root_fd(), "lib/x/y", Parents::create);
  ASSERT_TRUE(fd) << fd.error().to_string();
  struct stat st {};
  ASSERT_EQ(::lstat((root() + "/usr/x/y").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  auto bad = open_dir_in_root(root_fd(), "dangling/z", Parents::create);
  EXPECT_FALSE(bad);
  EXPECT_FALSE(exists(root() + "/nowhere"));
  auto up = open_dir_in_root(root_fd(), "lib/../../escape", Parents::create);
  EXPECT_FALSE(up); // lexically above the root
  expect_outside_untouched();
}

TEST_F(InRoot, HardlinkThroughSymlinkCannotReachOutside) {
  ASSERT_EQ(::symlink(outside().c_str(), (root() + "/out").c_str()), 0);
  ASSERT_EQ(::symlink("../..", (root() + "/up").c_str()), 0);
  EXPECT_FALSE(link_in_root(root_fd(), "out/sentinel", "h1"));
  EXPECT_FALSE(link_in_root(root_fd(), "up/outside/sentinel", "h2"));
  EXPECT_FALSE(exists(root() + "/h1"));
  EXPECT_FALSE(exists(root() + "/h2"));
  expect_outside_untouched();
}

TEST_F(InRoot, XattrsOnFilesAndSymlinks) {
  ASSERT_EQ(::mknod((root() + "/f").c_str(), S_IFREG | 0644, 0), 0);
  ASSERT_EQ(::symlink("f", (root() + "/l").c_str()), 0);
  auto st = setxattr_in_root(root_fd(), "f", "user.mason", std::string("v\0w", 3));
  if (!st && st.error().sys_errno() == EOPNOTSUPP) {
    GTEST_SKIP() << "no user xattrs here";
  }
  ASSERT_TRUE(st) << st.error().to_string();
  auto f = RootedPath::resolve(root_fd(), "f");
  auto list = f->xattrs();
  ASSERT_TRUE(list);
  bool found = false;
  for (const auto& x : *list) found |= x.name == "user.mason" && x.value == std::string("v\0w", 3);
  EXPECT_TRUE(found);
  // user.* is not allowed on symlinks: the error proves the link itself
  // was addressed, not its target f.
  auto l = RootedPath::resolve(root_fd(), "l");
  EXPECT_FALSE(l->set_xattr("user.other", "x"));
  if (::geteuid() == 0) {
    ASSERT_TRUE(l->set_xattr("trusted.mason", "on-link"));
    auto v = get_xattr_at(l->dir_fd(), "l", "trusted.mason");
    ASSERT_TRUE(v && *v);
    EXPECT_EQ(**v, "on-link");
    auto on_target = get_xattr_at(f->dir_fd(), "f", "trusted.mason");
    ASSERT_TRUE(on_target);
    EXPECT_FALSE(*on_target);
  }
}

TEST_F(InRoot, MknodWhenPermitted) {
  MASON_NEED_KERNEL_SCRATCH();
  ASSERT_TRUE(mknod_in_root(root_fd(), "null", S_IFCHR | 0666, makedev(1, 3)));
  ASSERT_TRUE(mknod_in_root(root_fd(), "wh", S_IFCHR, makedev(0, 0)));
  struct stat st {};
  ASSERT_EQ(::lstat((root() + "/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
  ASSERT_TRUE(chown_in_root(root_fd(), "null", 5, 6));
  ASSERT_EQ(::lstat((root() + "/null").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(st.st_gid, 6u);
}
