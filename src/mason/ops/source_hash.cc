// hash_sources: resolve each source like the copy does, list every entry
// below each match (metadata only), hash the contents the stat cache does
// not know on a few threads, then fold everything in order.
#include "mason/ops/source_hash.h"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/ops/copy_match.h"
#include "mason/ops/copy_paths.h"
#include "mason/ops/copy_source.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/util/sha256.h"

namespace mason::ops {

namespace {

struct Item {
  std::string path; // root-relative
  struct stat st {};
  std::string link_target;
  std::string hardlink_of; // earlier path of the same inode in this selection
  std::string data_hex;    // regular files and directories: content + xattrs
};

// The extended attributes of an open file, sorted by name ("" if none).
util::Result<std::string> xattrs_of(int fd, const std::string& path) {
  std::string names(256, '\0');
  for (;;) {
    const ssize_t n = ::flistxattr(fd, names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<std::size_t>(n));
      break;
    }
    if (errno == ENOTSUP) return std::string();
    if (errno != ERANGE) return sys::errno_error("list xattrs of " + sys::quote(path), errno);
    names.resize(names.size() * 4);
  }
  std::map<std::string, std::string> attrs;
  for (std::size_t pos = 0; pos < names.size();) {
    const auto end = names.find('\0', pos);
    std::string name = names.substr(pos, end - pos);
    pos = end == std::string::npos ? names.size() : end + 1;
    if (name.empty()) continue;
    std::string value(256, '\0');
    for (;;) {
      const ssize_t n = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<std::size_t>(n));
        break;
      }
      if (errno == ENODATA) {
        value.clear();
        break;
      }
      if (errno != ERANGE) return sys::errno_error("read xattr of " + sys::quote(path), errno);
      value.resize(value.size() * 4);
    }
    attrs.emplace(std::move(name), std::move(value));
  }
  std::string out;
  for (const auto& [k, v] : attrs) out += fmt::format("{}:{}={}:{};", k.size(), k, v.size(), v);
  return out;
}

// sha256 of a regular file's content followed by its xattrs, or of a
// directory's xattrs.
util::Result<std::string> data_digest(int root_fd, const Item& item, std::uint64_t& bytes) {
  const bool dir = S_ISDIR(item.st.st_mode);
  MASON_TRY_ASSIGN(
      auto fd,
      item.path.empty()
          ? sys::open_in_root(root_fd, ".", O_RDONLY | O_DIRECTORY)
          : sys::open_in_root(root_fd, item.path, O_RDONLY | O_NOFOLLOW | (dir ? O_DIRECTORY : 0)));
  util::Sha256 h;
  if (!dir) {
    std::string buf(1 << 17, '\0');
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys::errno_error("read " + sys::quote("/" + item.path), errno);
      }
      if (n == 0) break;
      h.update(buf.data(), static_cast<std::size_t>(n));
      bytes += static_cast<std::uint64_t>(n);
    }
  }
  MASON_TRY_ASSIGN(auto x, xattrs_of(fd.get(), "/" + item.path));
  h.update(fmt::format("\nxattrs={}:", x.size()));
  h.update(x);
  return h.finish_hex();
}

class Hasher {
public:
  Hasher(int root_fd, const SourceHashOptions& options)
      : m_root(root_fd), m_options(options), m_tree(root_fd, options.ignore) {}

  util::Result<SourcesDigest> run(const std::vector<std::string>& sources) {
    std::string header;
    for (const auto& source : sources) {
      const std::string normalized = normalize_source(source);
      header += fmt::format("source={}:{}\n", normalized.size(), normalized);
      MASON_TRY_ASSIGN(auto matches, select(source));
      if (matches.empty()) header += "none\n";
      for (const auto& m : matches) {
        if (!m.second) {
          header += fmt::format("missing={}:{}\n", m.first.size(), m.first);
          continue;
        }
        header += fmt::format("match={}:{} items={}\n", m.first.size(), m.first, m_items.size());
        MASON_TRY(list(m.first));
      }
    }
    MASON_TRY(hash_contents());
    util::Sha256 top;
    top.update(header);
    SourcesDigest out;
    for (const auto& item : m_items) {
      const auto hex = util::Sha256::hex_of(record(item));
      top.update(fmt::format("{}:{} {}\n", item.path.size(), item.path, hex));
      if (S_ISREG(item.st.st_mode)) ++out.files;
      if (out.entries.size() < m_options.max_entries)
        out.entries.insert_or_assign(item.path, hex);
      else
        out.truncated = true;
    }
    out.digest = "sha256:" + top.finish_hex();
    out.hashed_bytes = m_bytes;
    return out;
  }

private:
  // The matches of one source word: (root-relative path, exists).
  util::Result<std::vector<std::pair<std::string, bool>>> select(const std::string& source) {
    const std::string normalized = normalize_source(source);
    std::vector<std::pair<std::string, bool>> out;
    if (contains_wildcards(normalized)) {
      auto found = m_tree.expand(normalized);
      if (!found) {
        if (found.error().code() == util::ErrorCode::not_found) return out;
        return std::unexpected(std::move(found.error()));
      }
      for (auto& m : *found) {
        MASON_TRY_ASSIGN(auto resolved, m_tree.resolve(m));
        MASON_TRY_ASSIGN(auto st, m_tree.stat(resolved));
        out.emplace_back(resolved, st.has_value());
      }
      return out;
    }
    auto resolved = m_tree.resolve(normalized);
    if (!resolved) {
      if (resolved.error().code() == util::ErrorCode::not_found) return out;
      return std::unexpected(std::move(resolved.error()));
    }
    MASON_TRY_ASSIGN(auto st, m_tree.stat(*resolved));
    out.emplace_back(*resolved, st.has_value());
    return out;
  }

  util::Status add_item(const std::string& path, const struct stat& st, int parent_fd,
                        const std::string& name) {
    Item item;
    item.path = path;
    item.st = st;
    if (S_ISLNK(st.st_mode)) {
      std::string target(4096, '\0');
      const ssize_t n = ::readlinkat(parent_fd, name.c_str(), target.data(), target.size());
      if (n < 0) return sys::errno_error("readlink " + sys::quote("/" + path), errno);
      target.resize(static_cast<std::size_t>(n));
      item.link_target = std::move(target);
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, added] = m_inodes.try_emplace({st.st_dev, st.st_ino}, path);
      if (!added) item.hardlink_of = it->second;
    }
    m_items.push_back(std::move(item));
    return {};
  }

  // Lists `path` (resolved, root-relative) and, for a directory, all below.
  util::Status list(const std::string& path) {
    MASON_TRY_ASSIGN(auto st, m_tree.stat(path));
    if (!st) return {};
    const std::string parent = parent_path(path);
    MASON_TRY_ASSIGN(auto parent_fd, parent.empty()
                                         ? sys::open_in_root(m_root, ".", O_PATH | O_DIRECTORY)
                                         : sys::open_in_root(m_root, parent, O_PATH | O_DIRECTORY));
    if (auto r = add_item(path, *st, parent_fd.get(), path.empty() ? "." : base_name(path)); !r)
      return r;
    if (!S_ISDIR(st->st_mode)) return {};
    MASON_TRY_ASSIGN(auto fd,
                     path.empty()
                         ? sys::open_in_root(m_root, ".", O_RDONLY | O_DIRECTORY)
                         : sys::open_in_root(m_root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    return list_children(fd.get(), path, m_tree.ignore_state(path));
  }

  util::Status list_children(int dir_fd, const std::string& dir_path,
                             const SourceTree::IgnoreState& state) {
    MASON_TRY_ASSIGN(auto names, sys::read_dir_names(dir_fd));
    for (const auto& name : names) {
      MASON_TRY_ASSIGN(auto st, sys::lstat_at(dir_fd, name));
      if (!st) continue;
      const std::string path = join_path(dir_path, name);
      SourceTree::IgnoreState child_state;
      MASON_TRY_ASSIGN(auto visible,
                       m_tree.visible_child(dir_fd, name, path, *st, state, &child_state));
      if (!visible) continue;
      if (auto r = add_item(path, *st, dir_fd, name); !r) return r;
      if (!S_ISDIR(st->st_mode)) continue;
      sys::UniqueFd child(
          ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) return sys::errno_error("open " + sys::quote("/" + path), errno);
      if (auto r = list_children(child.get(), path, child_state); !r) return r;
    }
    return {};
  }

  // Fills data_hex of every file and directory: from the stat cache, else
  // read on up to options.threads threads.
  util::Status hash_contents() {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < m_items.size(); ++i) {
      auto& item = m_items[i];
      if (!S_ISREG(item.st.st_mode) && !S_ISDIR(item.st.st_mode)) continue;
      if (!item.hardlink_of.empty()) continue;
      if (m_options.stats)
        if (auto hex = m_options.stats->lookup(key_of(item), item.st)) {
          item.data_hex = std::move(*hex);
          continue;
        }
      todo.push_back(i);
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::optional<util::Error> error;
    std::atomic<std::uint64_t> bytes{0};
    auto work = [&] {
      for (std::size_t k; !failed && (k = next++) < todo.size();) {
        auto& item = m_items[todo[k]];
        std::uint64_t read = 0;
        auto hex = data_digest(m_root, item, read);
        bytes += read;
        if (!hex) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::move(hex.error());
          failed = true;
          return;
        }
        item.data_hex = std::move(*hex);
        if (m_options.stats) m_options.stats->store(key_of(item), item.st, item.data_hex);
      }
    };
    const auto threads = static_cast<std::size_t>(std::max(1, m_options.threads));
    std::vector<std::jthread> pool;
    for (std::size_t t = 1; t < std::min(threads, todo.size()); ++t) pool.emplace_back(work);
    work();
    pool.clear(); // joins
    m_bytes = bytes;
    if (error) return std::unexpected(std::move(*error));
    return {};
  }

  // Directories and files share the cache; a directory's key ends in "/".
  static std::string key_of(const Item& item) {
    return S_ISDIR(item.st.st_mode) ? item.path + "/" : item.path;
  }

  static std::string record(const Item& item) {
    const auto& st = item.st;
    return fmt::format("type={:o} mode={:o} size={} link={}:{} hardlink={}:{} data={}",
                       st.st_mode & S_IFMT, st.st_mode & 07777,
                       S_ISREG(st.st_mode) ? st.st_size : 0, item.link_target.size(),
                       item.link_target, item.hardlink_of.size(), item.hardlink_of, item.data_hex);
  }

  int m_root;
  const SourceHashOptions& m_options;
  SourceTree m_tree;
  std::vector<Item> m_items;
  std::map<std::pair<dev_t, ino_t>, std::string> m_inodes;
  std::uint64_t m_bytes = 0;
};

} // namespace

util::Result<SourcesDigest> hash_sources(int root_fd, const std::vector<std::string>& sources,
                                         const SourceHashOptions& options) {
  return Hasher(root_fd, options).run(sources);
}

} // namespace mason::ops
