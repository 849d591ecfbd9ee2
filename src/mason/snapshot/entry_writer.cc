// One tree entry → one tar entry (write_tree's per-entry step, plain form).
//
// lstat comes from the caller; xattrs are listed without following the
// name; hard links are found by (st_dev, st_ino) among the entries written
// so far; regular files are streamed in 1 MiB chunks and must not shrink.
#include "mason/snapshot/entry_writer.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mason/archive/whiteout.h"
#include "mason/sys/errors.h"
#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"

namespace mason::snapshot::detail {

namespace {

constexpr std::size_t k_read_chunk = 1 << 20;

} // namespace

std::int64_t EntryWriter::clamp(std::int64_t mtime) const {
  return m_opt.clamp_mtime && mtime > *m_opt.clamp_mtime ? *m_opt.clamp_mtime : mtime;
}

archive::TarEntry EntryWriter::base_entry(const std::string& rel, const struct stat& st) const {
  archive::TarEntry e;
  e.name = rel;
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mtime = clamp(st.st_mtim.tv_sec);
  return e;
}

util::Result<std::map<std::string, std::string>> EntryWriter::xattrs_of(int dir_fd,
                                                                        const std::string& name) {
  std::map<std::string, std::string> out;
  if (m_opt.xattrs == archive::XattrSelection::none) return out;
  auto list = sys::list_xattrs_at(dir_fd, name);
  if (!list) return std::unexpected(std::move(list.error()));
  for (auto& x : *list)
    if (!x.name.starts_with("trusted.overlay.") && x.name != "security.selinux")
      out.emplace(std::move(x.name), std::move(x.value));
  return out;
}

util::Status EntryWriter::write_data(int dir_fd, const std::string& name, std::int64_t size) {
  sys::UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys::errno_error("open", errno);
  m_buf.resize(k_read_chunk);
  auto left = static_cast<std::uint64_t>(size);
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, m_buf.size()));
    const ssize_t n = ::read(fd.get(), m_buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("read", errno);
    if (n == 0)
      return util::make_error(util::ErrorCode::unavailable, "file shrank while being archived");
    if (auto st = m_out.write_data(std::span(m_buf).first(static_cast<std::size_t>(n))); !st)
      return st;
    left -= static_cast<std::uint64_t>(n);
  }
  m_stats.data_bytes += static_cast<std::uint64_t>(size);
  return {};
}

util::Result<std::string> EntryWriter::link_target(int dir_fd, const std::string& name,
                                                   const struct stat& st) {
  std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
  for (;;) {
    const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
    if (n < 0) return sys::errno_error("readlink", errno);
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

util::Status EntryWriter::write_typed(int dir_fd, const std::string& name, archive::TarEntry e,
                                      const struct stat& st) {
  using archive::EntryType;
  if (S_ISREG(st.st_mode)) {
    e.type = EntryType::regular;
    e.size = st.st_size;
    if (auto s = add(e); !s) return s;
    ++m_stats.regular_files;
    return write_data(dir_fd, name, st.st_size);
  }
  if (S_ISLNK(st.st_mode)) {
    auto target = link_target(dir_fd, name, st);
    if (!target) return std::unexpected(std::move(target.error()));
    e.type = EntryType::symlink;
    e.linkname = std::move(*target);
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    e.type = S_ISCHR(st.st_mode) ? EntryType::char_device : EntryType::block_device;
    e.dev_major = major(st.st_rdev);
    e.dev_minor = minor(st.st_rdev);
  } else if (S_ISFIFO(st.st_mode)) {
    e.type = EntryType::fifo;
  } else {
    e.type = EntryType::directory;
    e.name += '/';
  }
  return add(e);
}

util::Status EntryWriter::write(int dir_fd, const std::string& name, const std::string& rel,
                                const struct stat& st) {
  const auto here = [&](util::Error err) {
    return std::unexpected(std::move(err).with_context("archive \"" + rel + "\""));
  };
  if (S_ISSOCK(st.st_mode)) {
    ++m_stats.skipped_sockets;
    return {};
  }
  auto xattrs = xattrs_of(dir_fd, name);
  if (!xattrs) return here(std::move(xattrs.error()));
  archive::TarEntry e = base_entry(rel, st);
  e.xattrs = std::move(*xattrs);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    const auto [it, first] = m_links.try_emplace({st.st_dev, st.st_ino}, rel);
    if (!first) {
      e.type = archive::EntryType::hardlink;
      e.linkname = it->second;
      ++m_stats.hardlinks;
      return add(e);
    }
  }
  if (auto s = write_typed(dir_fd, name, std::move(e), st); !s) return here(std::move(s.error()));
  return {};
}

util::Status EntryWriter::write_whiteout(const std::string& rel, std::int64_t mtime) {
  const auto slash = rel.rfind('/');
  archive::TarEntry e;
  e.name =
      rel.substr(0, slash + 1) + std::string(archive::k_whiteout_prefix) + rel.substr(slash + 1);
  e.mode = 0600;
  e.mtime = clamp(mtime);
  ++m_stats.whiteouts;
  return add(e);
}

} // namespace mason::snapshot::detail
