// Helpers shared by the snapshot tests: layers built with the archive API,
// openers, tree descriptions for comparisons, diffs read back, mounts left
// behind.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

#include "mason/archive/compression.h"
#include "mason/archive/layer.h"
#include "mason/archive/tar_reader.h"
#include "mason/archive/tar_writer.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/sys/temp_dir.h"
#include "mason/sys/unique_fd.h"
#include "mason/sys/xattr.h"
#include "mason/util/sha256.h"

namespace mason::snapshot::testing {

inline constexpr std::int64_t k_time = 1700000000;

inline bool is_root() { return ::geteuid() == 0; }

// A layer (plain tar) built entry by entry.
class LayerBuilder {
public:
  LayerBuilder& dir(const std::string& name, std::uint32_t mode = 0755, std::int64_t uid = 0,
                    std::int64_t gid = 0) {
    return add(entry(name + "/", archive::EntryType::directory, mode, uid, gid));
  }
  LayerBuilder& file(const std::string& name, std::string_view data, std::uint32_t mode = 0644,
                     std::int64_t uid = 0, std::int64_t gid = 0) {
    EXPECT_TRUE(m_tar.add_file(entry(name, archive::EntryType::regular, mode, uid, gid), data));
    return *this;
  }
  LayerBuilder& symlink(const std::string& name, const std::string& target) {
    auto e = entry(name, archive::EntryType::symlink, 0777, 0, 0);
    e.linkname = target;
    return add(e);
  }
  LayerBuilder& hardlink(const std::string& name, const std::string& target) {
    auto e = entry(name, archive::EntryType::hardlink, 0644, 0, 0);
    e.linkname = target;
    return add(e);
  }
  LayerBuilder& fifo(const std::string& name) {
    return add(entry(name, archive::EntryType::fifo, 0644, 0, 0));
  }
  LayerBuilder& whiteout(const std::string& dir, const std::string& name) {
    return file((dir.empty() ? "" : dir + "/") + ".wh." + name, "", 0600);
  }
  LayerBuilder& opaque(const std::string& dir) { return file(dir + "/.wh..wh..opq", "", 0755); }
  std::string take() {
    EXPECT_TRUE(m_tar.finish());
    return m_sink.take();
  }

private:
  static archive::TarEntry entry(const std::string& name, archive::EntryType type,
                                 std::uint32_t mode, std::int64_t uid, std::int64_t gid) {
    archive::TarEntry e;
    e.name = name;
    e.type = type;
    e.mode = mode;
    e.uid = uid;
    e.gid = gid;
    e.mtime = k_time;
    return e;
  }
  LayerBuilder& add(const archive::TarEntry& e) {
    EXPECT_TRUE(m_tar.add(e));
    return *this;
  }
  archive::StringSink m_sink;
  archive::TarWriter m_tar{m_sink};
};

// A Source that owns its bytes.
class OwningSource final : public archive::Source {
public:
  explicit OwningSource(std::shared_ptr<const std::string> data)
      : m_data(std::move(data)), m_source(*m_data) {}
  util::Result<std::size_t> read(archive::MutableBytes out) override { return m_source.read(out); }

private:
  std::shared_ptr<const std::string> m_data;
  archive::MemorySource m_source;
};

inline LayerOpener opener(std::string bytes, std::atomic<int>* calls = nullptr) {
  auto data = std::make_shared<const std::string>(std::move(bytes));
  return [data, calls]() -> util::Result<std::unique_ptr<archive::Source>> {
    if (calls != nullptr) ++*calls;
    return std::unique_ptr<archive::Source>(std::make_unique<OwningSource>(data));
  };
}

inline std::string chain_id(const std::optional<std::string>& parent, const std::string& layer) {
  return "sha256:" + util::Sha256::hex_of(parent.value_or("") + "\n" + layer);
}

inline void write_file(const std::string& path, std::string_view data, mode_t mode = 0644) {
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  ASSERT_TRUE(fd.valid()) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<missing>";
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

inline std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

enum class Links { compare, ignore };

struct DescribeOptions {
  Links links = Links::compare;
  bool dir_mtimes = false;
  bool file_mtimes = true;
};

// path → "type mode uid:gid [content|target|dev] [mtime] [xattrs] [link group]" of every
// entry below `root` (not the root itself).
inline void describe_into(const std::string& root, const std::string& rel,
                          const DescribeOptions& options, std::map<std::string, std::string>& out,
                          std::map<std::pair<dev_t, ino_t>, std::string>& inodes) {
  for (const auto& name : list_dir(root + (rel.empty() ? "" : "/" + rel))) {
    const std::string path = rel.empty() ? name : rel + "/" + name;
    const std::string full = root + "/" + path;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) continue;
    std::string d;
    if (S_ISDIR(st.st_mode))
      d = "dir";
    else if (S_ISREG(st.st_mode))
      d = "file[" + read_file(full) + "]";
    else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      const ssize_t n = ::readlink(full.c_str(), target, sizeof target);
      d = "symlink->" + std::string(target, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    } else if (S_ISFIFO(st.st_mode))
      d = "fifo";
    else if (S_ISCHR(st.st_mode))
      d = "chr" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    else
      d = "other";
    char mode[16];
    std::snprintf(mode, sizeof mode, " %04o ", st.st_mode & 07777);
    d += mode + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
    if (S_ISDIR(st.st_mode) ? options.dir_mtimes : options.file_mtimes)
      d += " t" + std::to_string(st.st_mtim.tv_sec);
    auto xattrs = sys::list_xattrs_at(AT_FDCWD, full);
    if (xattrs)
      for (const auto& x : *xattrs)
        if (!x.name.starts_with("trusted.overlay.")) d += " " + x.name + "=" + x.value;
    if (options.links == Links::compare && !S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      const auto [it, first] = inodes.try_emplace({st.st_dev, st.st_ino}, path);
      if (!first) d += " link=" + it->second;
    }
    out[path] = d;
    if (S_ISDIR(st.st_mode)) describe_into(root, path, options, out, inodes);
  }
}

inline std::map<std::string, std::string> describe(const std::string& root,
                                                   const DescribeOptions& options = {}) {
  std::map<std::string, std::string> out;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes;
  describe_into(root, "", options, out, inodes);
  return out;
}

struct DiffEntry {
  archive::TarEntry entry;
  std::string data;
};

// The entries of a plain (uncompressed) tar, in order.
inline std::vector<DiffEntry> read_tar(const std::string& tar) {
  archive::MemorySource source(tar);
  archive::TarReader reader(source);
  std::vector<DiffEntry> out;
  for (;;) {
    auto next = reader.next();
    EXPECT_TRUE(next) << next.error().to_string();
    if (!next || !*next) break;
    DiffEntry e{**next, ""};
    char buf[4096];
    for (;;) {
      auto n = reader.read_data(std::as_writable_bytes(std::span(buf)));
      if (!n || *n == 0) break;
      e.data.append(buf, *n);
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Applies a tar in merged form onto `root`.
inline void apply_merged(const std::string& tar, const std::string& root) {
  sys::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  archive::MemorySource source(tar);
  auto applied = archive::apply_layer(source, fd.get(), {});
  ASSERT_TRUE(applied) << applied.error().to_string();
}

// Mount points at or below `path`.
inline std::vector<std::string> mounts_below(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f[5];
    for (auto& x : f) fields >> x;
    if (f[4] == path || f[4].starts_with(path + "/")) out.push_back(f[4]);
  }
  return out;
}

} // namespace mason::snapshot::testing
