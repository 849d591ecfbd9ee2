// Shared fixture for the COPY/ADD tests: a scratch directory holding a
// source root ("src"), a destination root ("dst") and an "outside"
// directory with a sentinel that no copy may read or change; builders for
// source trees and a compact listing of the destination tree.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

#include "mason/ops/copy.h"
#include "mason/sys/dir.h"
#include "mason/sys/temp_dir.h"

namespace mason::ops::test {

inline std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

class CopyFixture : public ::testing::Test {
public:
  void SetUp() override {
    ::umask(022);
    auto tmp = sys::TempDir::create("mason-copy-test-");
    ASSERT_TRUE(tmp) << tmp.error().to_string();
    m_tmp.emplace(std::move(*tmp));
    for (const char* d : {"src", "dst", "outside", "scratch"})
      ASSERT_EQ(::mkdirat(m_tmp->fd(), d, 0755), 0);
    write_host(path("outside/secret"), "SECRET", 0644);
    m_src = util::UniqueFd(::openat(m_tmp->fd(), "src", O_PATH | O_DIRECTORY | O_CLOEXEC));
    m_dst = util::UniqueFd(::openat(m_tmp->fd(), "dst", O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(m_src.valid() && m_dst.valid());
  }

  void TearDown() override {
    if (!m_tmp) return;
    EXPECT_EQ(read_host(path("outside/secret")), "SECRET");
    auto names = sys::read_dir_names(
        util::UniqueFd(::openat(m_tmp->fd(), "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC)).get());
    ASSERT_TRUE(names);
    EXPECT_EQ(*names, std::vector<std::string>{"secret"}) << "something was written outside";
  }

  static bool is_root() { return ::geteuid() == 0; }

  std::string path(const std::string& rel) const { return m_tmp->path() + "/" + rel; }
  std::string src(const std::string& rel) const { return path("src/" + rel); }
  std::string dst(const std::string& rel) const { return path("dst/" + rel); }

  static void write_host(const std::string& p, const std::string& data, mode_t mode) {
    util::UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    ASSERT_TRUE(fd.valid()) << p << ": " << std::strerror(errno);
    ASSERT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ASSERT_EQ(::fchmod(fd.get(), mode), 0);
  }

  static std::string read_host(const std::string& p) {
    util::UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return "<missing>";
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

  // Source builders (paths relative to the source root).
  void file(const std::string& rel, const std::string& data, mode_t mode = 0644) {
    write_host(src(rel), data, mode);
  }
  void dir(const std::string& rel, mode_t mode = 0755) {
    ASSERT_EQ(::mkdir(src(rel).c_str(), mode), 0) << rel;
    ASSERT_EQ(::chmod(src(rel).c_str(), mode), 0);
  }
  void symlink(const std::string& rel, const std::string& target) {
    ASSERT_EQ(::symlink(target.c_str(), src(rel).c_str()), 0) << rel;
  }
  void hardlink(const std::string& existing, const std::string& rel) {
    ASSERT_EQ(::link(src(existing).c_str(), src(rel).c_str()), 0) << rel;
  }
  void fifo(const std::string& rel, mode_t mode = 0644) {
    ASSERT_EQ(::mkfifo(src(rel).c_str(), mode), 0) << rel;
    ASSERT_EQ(::chmod(src(rel).c_str(), mode), 0);
  }

  // Destination builders (for pre-existing content).
  void dst_dir(const std::string& rel, mode_t mode = 0755) {
    ASSERT_EQ(::mkdir(dst(rel).c_str(), mode), 0) << rel;
  }
  void dst_symlink(const std::string& rel, const std::string& target) {
    ASSERT_EQ(::symlink(target.c_str(), dst(rel).c_str()), 0) << rel;
  }

  util::Result<CopyStats> run(CopyRequest req, SourceOrigin origin = SourceOrigin::context,
                              const frontend::IgnoreMatcher& ignore = {}) {
    SourceRoot root;
    root.root_fd = m_src.get();
    root.origin = origin;
    root.ignore = ignore;
    if (req.scratch_dir.empty()) req.scratch_dir = path("scratch");
    return copy_files(root, m_dst.get(), req);
  }

  static CopyRequest copy(std::vector<std::string> sources, std::string dest) {
    CopyRequest req;
    req.sources = std::move(sources);
    req.dest = std::move(dest);
    return req;
  }

  std::optional<struct stat> dst_stat(const std::string& rel) const {
    struct stat st {};
    if (::lstat(dst(rel).c_str(), &st) != 0) return std::nullopt;
    return st;
  }

  // "path type mode [content | -> target]" for every entry below dst/,
  // in name order; directories end in "/".
  std::string listing() const { return list_dir(""); }

  std::string list_dir(const std::string& rel) const {
    std::string out;
    util::UniqueFd fd(::open(dst(rel).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto names = sys::read_dir_names(fd.get());
    if (!names) return "<unreadable " + rel + ">";
    for (const auto& name : *names) {
      const std::string p = rel.empty() ? name : rel + "/" + name;
      const auto st = *dst_stat(p);
      out += describe(p, st) + "\n";
      if (S_ISDIR(st.st_mode)) out += list_dir(p);
    }
    return out;
  }

  std::string describe(const std::string& p, const struct stat& st) const {
    if (S_ISDIR(st.st_mode)) return p + "/ " + mode_text(st.st_mode);
    if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      const ssize_t n = ::readlink(dst(p).c_str(), buf, sizeof buf);
      return p + " -> " + std::string(buf, static_cast<std::size_t>(n < 0 ? 0 : n));
    }
    if (S_ISFIFO(st.st_mode)) return p + " fifo " + mode_text(st.st_mode);
    if (S_ISCHR(st.st_mode)) return p + " chr " + mode_text(st.st_mode);
    if (S_ISBLK(st.st_mode)) return p + " blk " + mode_text(st.st_mode);
    return p + " " + mode_text(st.st_mode) + " " + read_host(dst(p));
  }

  std::string owner(const std::string& rel) const {
    const auto st = dst_stat(rel);
    if (!st) return "<missing>";
    return std::to_string(st->st_uid) + ":" + std::to_string(st->st_gid);
  }

  std::optional<sys::TempDir> m_tmp;
  util::UniqueFd m_src;
  util::UniqueFd m_dst;
};

} // namespace mason::ops::test
