// USER and --chown resolution against a root's /etc/passwd and /etc/group
// (BuildKit's GetUser/GetExecUser for USER, readUser for --chown).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/ops/copy.h"
#include "mason/ops/user.h"
#include "mason/sys/temp_dir.h"

namespace mason::ops {
namespace {

class UserTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto tmp = sys::TempDir::create("mason-user-");
    ASSERT_TRUE(tmp);
    m_tmp.emplace(std::move(*tmp));
    ASSERT_EQ(::mkdirat(m_tmp->fd(), "etc", 0755), 0);
  }

  void write(const std::string& rel, const std::string& text) {
    const std::string p = m_tmp->path() + "/" + rel;
    util::UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  void standard_files() {
    write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                        "# comment\n"
                        "\n"
                        "daemon:x:1:1::/:/sbin/nologin\n"
                        "alice:x:1001:1002::/home/alice:/bin/sh\n"
                        "num:x:2000:2001::/:/bin/sh\n");
    write("etc/group", "root:x:0:root\n"
                       "daemon:x:1:\n"
                       "wheel:x:10:root,alice\n"
                       "staff:x:50:alice\n"
                       "alice:x:1002:\n");
  }

  std::string user(const std::string& spec, bool groups = true) {
    auto id = resolve_user(m_tmp->fd(), spec, groups);
    if (!id) return "error: " + id.error().to_string();
    std::string out = std::to_string(id->uid) + ":" + std::to_string(id->gid);
    for (const auto g : id->additional_gids) out += "," + std::to_string(g);
    return out;
  }

  std::string chown(const std::string& spec) {
    auto o = resolve_chown(m_tmp->fd(), spec);
    if (!o) return "error: " + o.error().to_string();
    return std::to_string(o->uid) + ":" + std::to_string(o->gid);
  }

  std::optional<sys::TempDir> m_tmp;
};

TEST_F(UserTest, UserSpecs) {
  standard_files();
  EXPECT_EQ(user(""), "0:0,0,10");
  EXPECT_EQ(user("root"), "0:0,0,10");
  EXPECT_EQ(user("alice"), "1001:1002,10,50");
  EXPECT_EQ(user("alice", false), "1001:1002");
  EXPECT_EQ(user("1001"), "1001:1002,10,50"); // a numeric uid with an entry is that user
  EXPECT_EQ(user("alice:staff"), "1001:50");
  EXPECT_EQ(user("alice:7"), "1001:7");
  EXPECT_EQ(user("1000:1000"), "1000:1000");
  EXPECT_EQ(user("root:root"), "0:0");
  EXPECT_EQ(user("5000"), "5000:0");
  EXPECT_EQ(user("5000:staff"), "5000:50");
  EXPECT_EQ(user(":staff"), "0:50");
  EXPECT_EQ(user("daemon"), "1:1");
}

TEST_F(UserTest, UnknownNamesAreErrors) {
  standard_files();
  const auto bob = user("bob");
  EXPECT_NE(bob.find("unable to find user \"bob\": no matching entries in /etc/passwd"),
            std::string::npos)
      << bob;
  const auto grp = user("alice:nogroup");
  EXPECT_NE(grp.find("unable to find group \"nogroup\": no matching entries in /etc/group"),
            std::string::npos)
      << grp;
  auto id = resolve_user(m_tmp->fd(), "bob", false);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code(), util::ErrorCode::not_found);
}

TEST_F(UserTest, MissingFiles) {
  EXPECT_EQ(user(""), "0:0");
  EXPECT_EQ(user("1000"), "1000:0");
  EXPECT_EQ(user("1000:1000"), "1000:1000");
  EXPECT_NE(user("alice").find("unable to find user"), std::string::npos);
  EXPECT_EQ(chown("alice"), "0:0");
  EXPECT_EQ(chown("1000"), "1000:1000");
}

TEST_F(UserTest, ChownSpecs) {
  standard_files();
  EXPECT_EQ(chown("alice"), "1001:1002");
  EXPECT_EQ(chown("1001"), "1001:1001"); // numeric: uid and gid both
  EXPECT_EQ(chown("alice:staff"), "1001:50");
  EXPECT_EQ(chown("alice:7"), "1001:7");
  EXPECT_EQ(chown("root"), "0:0");
  EXPECT_EQ(chown("root:staff"), "0:50");
  EXPECT_EQ(chown("nosuch"), "0:0");
  EXPECT_EQ(chown("nosuch:staff"), "0:50");
  EXPECT_EQ(chown("alice:nosuch"), "1001:1002");
  EXPECT_EQ(chown(":staff"), "0:50");
  EXPECT_EQ(chown("alice:"), "1001:0");
  EXPECT_EQ(chown("-1"), "4294967295:4294967295");
}

// What a --link copy (an empty root) cannot resolve: a name, as
// BuildKit's WithUser sees one (anything but "root" or a 32-bit decimal).
TEST(ChownNames, NamesAreWhatIsNotAnId) {
  for (const char* id : {"", "0", "1000", "1000:1000", "root", "root:0", ":7", "7:", "-1", "+5"})
    EXPECT_FALSE(chown_names_someone(id)) << id;
  for (const char* name :
       {"nobody", "nobody:0", "0:staff", ":staff", "root:wheel", "4294967296", "1000:app"})
    EXPECT_TRUE(chown_names_someone(name)) << name;
}

TEST_F(UserTest, FilesAreReadInsideTheRoot) {
  // /etc/passwd -> /../../../../etc/passwd resolves to <root>/etc/passwd.x
  write("etc/passwd.x", "alice:x:42:43::/:/bin/sh\n");
  ASSERT_EQ(::symlinkat("/../../../../etc/passwd.x", m_tmp->fd(), "etc/passwd"), 0);
  EXPECT_EQ(chown("alice"), "42:43");
  EXPECT_EQ(user("alice"), "42:43");
}

TEST_F(UserTest, NonRegularFileIsAnError) {
  ASSERT_EQ(::mkdirat(m_tmp->fd(), "etc/passwd", 0755), 0);
  EXPECT_NE(chown("alice").find("not a regular file"), std::string::npos);
}

} // namespace
} // namespace mason::ops
