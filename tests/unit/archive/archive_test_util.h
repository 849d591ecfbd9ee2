// Helpers shared by the archive tests: temp trees with a sentinel outside
// them, tree descriptions for comparisons, tar building and shell commands.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

#include "../kernel_scratch.h"
#include "mason/archive/layer.h"
#include "mason/archive/tar_reader.h"
#include "mason/archive/tar_writer.h"
#include "mason/sys/dir.h"
#include "mason/sys/temp_dir.h"
#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"
#include "mason/util/sha256.h"

namespace mason::archive::testing {

inline bool is_root() { return ::geteuid() == 0; }

inline void write_file(const std::string& path, std::string_view data, mode_t mode = 0644) {
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  ASSERT_TRUE(fd.valid()) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(::fchmod(fd.get(), mode), 0);
}

inline std::string read_file(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "<missing>";
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

inline bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

inline void set_mtime(const std::string& path, std::int64_t sec) {
  const timespec t[2] = {{sec, 0}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// Runs a shell command; returns its stdout (nullopt if it failed).
inline std::optional<std::string> run(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  if (rc != 0) return std::nullopt;
  return out;
}

inline bool have_tool(const std::string& name) {
  return run("command -v " + name + " >/dev/null 2>&1").has_value();
}

inline std::string sha256(std::string_view data) { return util::Sha256::hex_of(data); }

// A line per entry: type, mode, owner, size/content hash, link target,
// device, xattrs (security.selinux left out). Directories' mtimes are
// included when `with_dir_mtimes`; other entries' always.
inline void describe_into(const std::string& root, const std::string& rel,
                          std::map<std::string, std::string>& out, bool with_dir_mtimes) {
  const std::string path = rel.empty() ? root : root + "/" + rel;
  sys::UniqueFd dir(::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  ASSERT_TRUE(dir.valid()) << path;
  auto names = sys::read_dir_names(dir.get());
  ASSERT_TRUE(names);
  for (const auto& name : *names) {
    const std::string child = rel.empty() ? name : rel + "/" + name;
    struct stat st {};
    ASSERT_EQ(::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0);
    std::string d;
    char buf[128];
    std::snprintf(buf, sizeof buf, "mode=%04o uid=%u gid=%u", st.st_mode & 07777, st.st_uid,
                  st.st_gid);
    d += buf;
    if (S_ISREG(st.st_mode)) {
      d += " file size=" + std::to_string(st.st_size) +
           " sha=" + sha256(read_file(root + "/" + child)).substr(0, 16);
      d += " nlink=" + std::to_string(st.st_nlink);
    } else if (S_ISDIR(st.st_mode)) {
      d += " dir";
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(4096, '\0');
      const ssize_t n = ::readlinkat(dir.get(), name.c_str(), target.data(), target.size());
      target.resize(static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
      d = "symlink -> " + target + " uid=" + std::to_string(st.st_uid);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      d += S_ISCHR(st.st_mode) ? " chr " : " blk ";
      d += std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      d += " fifo";
    }
    if (!S_ISDIR(st.st_mode) || with_dir_mtimes) d += " mtime=" + std::to_string(st.st_mtim.tv_sec);
    auto xattrs = sys::list_xattrs_at(dir.get(), name);
    ASSERT_TRUE(xattrs);
    for (const auto& x : *xattrs)
      if (x.name != "security.selinux")
        d += " xattr:" + x.name + "=" + sha256(x.value).substr(0, 8);
    out[child] = d;
    if (S_ISDIR(st.st_mode)) describe_into(root, child, out, with_dir_mtimes);
  }
}

inline std::map<std::string, std::string> describe(const std::string& root,
                                                   bool with_dir_mtimes = true) {
  std::map<std::string, std::string> out;
  describe_into(root, "", out, with_dir_mtimes);
  return out;
}

// Builds a tar in memory with TarWriter.
class TarBuilder {
public:
  TarBuilder& file(std::string name, std::string_view data, std::uint32_t mode = 0644) {
    TarEntry e;
    e.name = std::move(name);
    e.mode = mode;
    e.mtime = 1700000000;
    EXPECT_TRUE(m_tar.add_file(e, data));
    return *this;
  }
  TarBuilder& dir(std::string name, std::uint32_t mode = 0755) {
    return add(entry(std::move(name), EntryType::directory, mode));
  }
  TarBuilder& symlink(std::string name, std::string target) {
    TarEntry e = entry(std::move(name), EntryType::symlink, 0777);
    e.linkname = std::move(target);
    return add(e);
  }
  TarBuilder& hardlink(std::string name, std::string target) {
    TarEntry e = entry(std::move(name), EntryType::hardlink, 0644);
    e.linkname = std::move(target);
    return add(e);
  }
  TarBuilder& add(const TarEntry& e) {
    EXPECT_TRUE(m_tar.add(e));
    return *this;
  }
  std::string finish() {
    EXPECT_TRUE(m_tar.finish());
    return m_out.take();
  }
  static TarEntry entry(std::string name, EntryType type, std::uint32_t mode) {
    TarEntry e;
    e.name = std::move(name);
    e.type = type;
    e.mode = mode;
    e.mtime = 1700000000;
    return e;
  }

private:
  StringSink m_out;
  TarWriter m_tar{m_out};
};

// Entries of a tar as read by our reader (data of regular entries included).
struct ReadEntry {
  TarEntry entry;
  std::string data;
};

inline util::Result<std::vector<ReadEntry>> read_all(std::string_view tar) {
  MemorySource src(tar);
  TarReader reader(src);
  std::vector<ReadEntry> out;
  for (;;) {
    auto e = reader.next();
    if (!e) return std::unexpected(std::move(e.error()));
    if (!*e) break;
    ReadEntry r{std::move(**e), {}};
    std::string buf(4096, '\0');
    for (;;) {
      auto n = reader.read_data(std::as_writable_bytes(std::span(buf)));
      if (!n) return std::unexpected(std::move(n.error()));
      if (*n == 0) break;
      r.data.append(buf.data(), *n);
    }
    out.push_back(std::move(r));
  }
  return out;
}

// <tmp>/src, <tmp>/dest and <tmp>/outside/sentinel; nothing may ever
// change outside dest when applying.
class Dirs : public ::testing::Test {
protected:
  void SetUp() override {
    auto tmp = sys::TempDir::create_in(test::scratch_base(), "mason-archive-test-");
    ASSERT_TRUE(tmp) << tmp.error().to_string();
    m_tmp.emplace(std::move(*tmp));
    for (const char* d : {"src", "dest", "outside"}) ASSERT_EQ(::mkdirat(m_tmp->fd(), d, 0755), 0);
    write_file(outside() + "/sentinel", "sentinel");
    m_dest = sys::UniqueFd(::open(dest().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(m_dest.valid());
  }

  std::string tmp() const { return m_tmp->path(); }
  std::string src() const { return m_tmp->path() + "/src"; }
  std::string dest() const { return m_tmp->path() + "/dest"; }
  std::string outside() const { return m_tmp->path() + "/outside"; }
  int dest_fd() const { return m_dest.get(); }

  util::Result<ApplyStats> apply(std::string_view layer, ApplyOptions options = {}) {
    MemorySource src(layer);
    return apply_layer(src, dest_fd(), options);
  }

  void expect_outside_untouched() const {
    auto names = sys::read_dir_names(m_tmp->fd());
    ASSERT_TRUE(names);
    EXPECT_EQ(*names, (std::vector<std::string>{"dest", "outside", "src"}));
    sys::UniqueFd out(::openat(m_tmp->fd(), "outside", O_PATH | O_DIRECTORY | O_CLOEXEC));
    auto inside = sys::read_dir_names(out.get());
    ASSERT_TRUE(inside);
    EXPECT_EQ(*inside, (std::vector<std::string>{"sentinel"}));
    EXPECT_EQ(read_file(outside() + "/sentinel"), "sentinel");
    struct stat st {};
    ASSERT_EQ(::lstat((outside() + "/sentinel").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
  }

  std::optional<sys::TempDir> m_tmp;
  sys::UniqueFd m_dest;
};

} // namespace mason::archive::testing
