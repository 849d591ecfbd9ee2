// One tree entry → tar entries (the form is stated in entry_writer.h).
//
// lstat comes from the caller; xattrs are listed without following the
// name; hard links are found by (st_dev, st_ino) among the entries written
// so far; regular files are streamed in 1 MiB chunks.
#include "mason/archive/entry_writer.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mason/sys/errors.h"
#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"

namespace mason::archive {

namespace {

constexpr std::size_t k_read_chunk = 1 << 20;

util::Result<std::string> link_target(int dir_fd, const std::string& name, const struct stat& st) {
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

} // namespace

std::int64_t EntryWriter::clamp(std::int64_t mtime) const {
  return m_opt.clamp_mtime && mtime > *m_opt.clamp_mtime ? *m_opt.clamp_mtime : mtime;
}

TarEntry EntryWriter::base_entry(const std::string& rel, const struct stat& st) const {
  TarEntry e;
  e.name = rel;
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mtime = clamp(st.st_mtim.tv_sec);
  return e;
}

util::Result<std::map<std::string, std::string>>
EntryWriter::xattrs_of(int dir_fd, const std::string& name, bool& opaque) {
  opaque = false;
  std::map<std::string, std::string> out;
  const bool overlay = m_opt.form == TreeForm::overlay_upper;
  if (m_opt.xattrs == XattrSelection::none && !overlay) return out;
  MASON_TRY_ASSIGN(auto list, sys::list_xattrs_at(dir_fd, name));
  const std::string ns(overlay_xattr_prefix(m_opt.overlay_xattrs));
  for (auto& x : list) {
    if (overlay && x.name.starts_with(ns)) {
      const auto key = std::string_view(x.name).substr(ns.size());
      if (key == "opaque") opaque = x.value == "y";
      if (key == "redirect" || key == "metacopy")
        return util::make_error(util::ErrorCode::unsupported,
                                "overlay " + std::string(key) +
                                    " xattr found: upperdirs of redirect_dir or metacopy "
                                    "mounts cannot be archived");
      continue;
    }
    if (x.name.starts_with("trusted.overlay.") || x.name == "security.selinux") continue;
    if (m_opt.xattrs == XattrSelection::all) out.emplace(std::move(x.name), std::move(x.value));
  }
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
    MASON_TRY(m_out.write_data(std::span(m_buf).first(static_cast<std::size_t>(n))));
    left -= static_cast<std::uint64_t>(n);
  }
  m_stats.data_bytes += static_cast<std::uint64_t>(size);
  return {};
}

util::Status EntryWriter::write_entry(int dir_fd, const std::string& name, const std::string& rel,
                                      const struct stat& st) {
  if (S_ISSOCK(st.st_mode)) {
    ++m_stats.skipped_sockets;
    return {};
  }
  if (m_opt.form == TreeForm::overlay_upper && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
    TarEntry wh = base_entry(rel, st);
    wh.name = rel.substr(0, rel.rfind('/') + 1) + std::string(k_whiteout_prefix) + name;
    wh.mode = 0600;
    ++m_stats.whiteouts;
    return add(wh);
  }
  bool opaque = false;
  MASON_TRY_ASSIGN(auto xattrs, xattrs_of(dir_fd, name, opaque));
  TarEntry e = base_entry(rel, st);
  e.xattrs = std::move(xattrs);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    const auto [it, first] = m_links.try_emplace({st.st_dev, st.st_ino}, rel);
    if (!first) {
      e.type = EntryType::hardlink;
      e.linkname = it->second;
      ++m_stats.hardlinks;
      return add(e);
    }
  }
  if (S_ISREG(st.st_mode)) {
    e.type = EntryType::regular;
    e.size = st.st_size;
    MASON_TRY(add(e));
    ++m_stats.regular_files;
    return write_data(dir_fd, name, st.st_size);
  }
  if (S_ISLNK(st.st_mode)) {
    MASON_TRY_ASSIGN(e.linkname, link_target(dir_fd, name, st));
    e.type = EntryType::symlink;
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
  MASON_TRY(add(e));
  if (opaque && S_ISDIR(st.st_mode)) {
    TarEntry marker = base_entry(rel + "/" + std::string(k_whiteout_opaque), st);
    marker.mode = st.st_mode & 0777;
    ++m_stats.opaque_dirs;
    return add(marker);
  }
  return {};
}

util::Status EntryWriter::write(int dir_fd, const std::string& name, const std::string& rel,
                                const struct stat& st) {
  if (auto ok = write_entry(dir_fd, name, rel, st); !ok)
    return std::unexpected(std::move(ok.error()).with_context("archive \"" + rel + "\""));
  return {};
}

util::Status EntryWriter::write_whiteout(const std::string& rel, std::int64_t mtime) {
  const auto slash = rel.rfind('/');
  TarEntry e;
  e.name = rel.substr(0, slash + 1) + std::string(k_whiteout_prefix) + rel.substr(slash + 1);
  e.mode = 0600;
  e.mtime = clamp(mtime);
  ++m_stats.whiteouts;
  return add(e);
}

} // namespace mason::archive
