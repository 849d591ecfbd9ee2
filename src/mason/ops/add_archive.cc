// ADD archive detection and extraction (see add_archive.h).
//
// The compression is chosen from the magic bytes exactly as go-archive
// does; libarchive then only decompresses (its "raw" format with the one
// filter forced, no bidding), and mason's own strict tar reader parses the
// stream, so names are taken byte for byte. Each entry is written with
// RootedPath calls on the destination directory's descriptor: parents are
// opened with RESOLVE_IN_ROOT, the entry itself with no-follow calls.
#include "mason/ops/add_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

#include "mason/archive/stream.h"
#include "mason/archive/tar_reader.h"
#include "mason/sys/dynlib.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/util/path.h"

namespace mason::ops {

namespace {

using archive::EntryType;
using archive::TarEntry;

constexpr std::size_t k_block = std::size_t{64} * 1024;

bool has_prefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// libarchive, opened on first use (sys/dynlib.h says why).
struct LibArchive {
  ::archive* (*read_new)() = nullptr;
  int (*read_free)(::archive*) = nullptr;
  int (*read_append_filter)(::archive*, int) = nullptr;
  int (*read_support_format_raw)(::archive*) = nullptr;
  int (*read_open_fd)(::archive*, int, std::size_t) = nullptr;
  int (*read_next_header)(::archive*, archive_entry**) = nullptr;
  la_ssize_t (*read_data)(::archive*, void*, std::size_t) = nullptr;
  const char* (*error_string)(::archive*) = nullptr;
};

util::Result<const LibArchive*> libarchive() {
  static const util::Result<LibArchive> loaded = []() -> util::Result<LibArchive> {
    MASON_TRY_ASSIGN(auto lib, sys::open_library("libarchive.so.13", "libarchive13"));
    LibArchive a;
    for (auto st :
         {sys::load_symbol(lib, "archive_read_new", a.read_new),
          sys::load_symbol(lib, "archive_read_free", a.read_free),
          sys::load_symbol(lib, "archive_read_append_filter", a.read_append_filter),
          sys::load_symbol(lib, "archive_read_support_format_raw", a.read_support_format_raw),
          sys::load_symbol(lib, "archive_read_open_fd", a.read_open_fd),
          sys::load_symbol(lib, "archive_read_next_header", a.read_next_header),
          sys::load_symbol(lib, "archive_read_data", a.read_data),
          sys::load_symbol(lib, "archive_error_string", a.error_string)})
      if (!st) return std::unexpected(st.error());
    return a;
  }();
  if (!loaded) return std::unexpected(loaded.error());
  return &*loaded;
}

// Decompressed bytes of a file, through libarchive's raw format.
class DecompressSource final : public archive::Source {
public:
  DecompressSource() = default;
  DecompressSource(const DecompressSource&) = delete;
  DecompressSource& operator=(const DecompressSource&) = delete;
  ~DecompressSource() override {
    if (m_archive != nullptr) m_lib->read_free(m_archive);
  }

  util::Status open(int fd, ArchiveCompression compression) {
    MASON_TRY_ASSIGN(auto lib, libarchive());
    m_lib = lib;
    m_archive = m_lib->read_new();
    if (m_archive == nullptr)
      return util::make_error(util::ErrorCode::internal, "archive_read_new");
    m_lib->read_append_filter(m_archive, filter_code(compression));
    m_lib->read_support_format_raw(m_archive);
    if (m_lib->read_open_fd(m_archive, fd, k_block) != ARCHIVE_OK) return failure("open");
    archive_entry* entry = nullptr;
    const int rc = m_lib->read_next_header(m_archive, &entry);
    if (rc == ARCHIVE_EOF)
      m_done = true;
    else if (rc < ARCHIVE_WARN)
      return failure("read");
    return {};
  }

  util::Result<std::size_t> read(archive::MutableBytes data) override {
    if (m_done || data.empty()) return 0;
    const la_ssize_t n = m_lib->read_data(m_archive, data.data(), data.size());
    if (n < 0) return failure("decompress");
    if (n == 0) m_done = true;
    return static_cast<std::size_t>(n);
  }

private:
  static int filter_code(ArchiveCompression c) {
    switch (c) {
    case ArchiveCompression::gzip: return ARCHIVE_FILTER_GZIP;
    case ArchiveCompression::bzip2: return ARCHIVE_FILTER_BZIP2;
    case ArchiveCompression::xz: return ARCHIVE_FILTER_XZ;
    case ArchiveCompression::zstd: return ARCHIVE_FILTER_ZSTD;
    case ArchiveCompression::none: break;
    }
    return ARCHIVE_FILTER_NONE;
  }

  std::unexpected<util::Error> failure(const char* what) const {
    const char* msg = m_lib->error_string(m_archive);
    return util::make_error(util::ErrorCode::corruption,
                            std::string(what) + " archive: " + (msg != nullptr ? msg : "error"));
  }

  const LibArchive* m_lib = nullptr;
  ::archive* m_archive = nullptr;
  bool m_done = false;
};

// Counts the bytes it hands out and remembers whether the stream ended.
class CountingSource final : public archive::Source {
public:
  explicit CountingSource(std::unique_ptr<archive::Source> inner) : m_inner(std::move(inner)) {}

  util::Result<std::size_t> read(archive::MutableBytes data) override {
    auto n = m_inner->read(data);
    if (n && *n == 0 && !data.empty()) m_ended = true;
    if (n) m_total += *n;
    return n;
  }

  // Go's tar reader takes a stream that ends cleanly where a header would
  // start as the end of the archive, end-of-archive blocks or not.
  bool ended_at(std::uint64_t offset) const {
    return m_ended && offset == m_total && m_total % 512 == 0;
  }

private:
  std::unique_ptr<archive::Source> m_inner;
  std::uint64_t m_total = 0;
  bool m_ended = false;
};

// The tar stream of an archive file: the file itself, or its decompression.
struct TarStream {
  std::unique_ptr<CountingSource> source;
};

util::Result<TarStream> open_tar_stream(int fd) {
  char head[10] = {};
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  if (n < 0) return sys::errno_error("read archive", errno);
  const auto compression =
      detect_archive_compression(std::string_view(head, static_cast<std::size_t>(n)));
  TarStream out;
  if (compression == ArchiveCompression::none) {
    out.source = std::make_unique<CountingSource>(std::make_unique<archive::FdSource>(fd));
    return out;
  }
  auto src = std::make_unique<DecompressSource>();
  MASON_TRY(src->open(fd, compression));
  out.source = std::make_unique<CountingSource>(std::move(src));
  return out;
}

} // namespace

ArchiveCompression detect_archive_compression(std::string_view head) {
  if (has_prefix(head, "BZh")) return ArchiveCompression::bzip2;
  if (has_prefix(head, "\x1f\x8b\x08")) return ArchiveCompression::gzip;
  if (has_prefix(head, std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6)))
    return ArchiveCompression::xz;
  if (has_prefix(head, "\x28\xb5\x2f\xfd")) return ArchiveCompression::zstd;
  if (head.size() >= 8) {
    // A zstd skippable frame: magic 0x184D2A50..0x184D2A5F, little endian.
    const auto b = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(head[i]));
    };
    const std::uint32_t magic = b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24;
    if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) return ArchiveCompression::zstd;
  }
  return ArchiveCompression::none;
}

util::Result<bool> is_tar_archive(int fd) {
  auto stream = open_tar_stream(fd);
  if (!stream) {
    if (stream.error().code() == util::ErrorCode::corruption) return false;
    return std::unexpected(std::move(stream.error()));
  }
  archive::TarReader reader(*stream->source);
  auto entry = reader.next();
  return entry.has_value() && entry->has_value();
}

namespace {

struct DirTimes {
  std::string name;
  timespec mtime{};
};

// Writes the entries of one archive under a destination directory.
class Extractor {
public:
  Extractor(int dest_fd, const ExtractOptions& options)
      : m_dest(dest_fd), m_options(options), m_set_owners(options.chown || ::geteuid() == 0) {}

  util::Result<ExtractStats> run(archive::TarReader& reader, const CountingSource& source) {
    for (;;) {
      auto entry = reader.next();
      if (!entry && source.ended_at(reader.offset())) break;
      if (!entry) return std::unexpected(std::move(entry.error()));
      if (!*entry) break;
      if (auto st = extract(reader, **entry); !st)
        return std::unexpected(
            std::move(st.error()).with_context("entry " + sys::quote((*entry)->name)));
    }
    for (const auto& d : m_dirs) {
      MASON_TRY_ASSIGN(auto p, sys::RootedPath::resolve(m_dest, d.name));
      MASON_TRY(p.set_times(d.mtime, d.mtime));
    }
    return m_stats;
  }

private:
  util::Status extract(archive::TarReader& reader, const TarEntry& e) {
    MASON_TRY_ASSIGN(auto name, entry_name(e.name));
    if (name.empty()) return {};
    MASON_TRY_ASSIGN(auto path, sys::RootedPath::resolve(m_dest, name, sys::Parents::create));
    if (auto st = clear_way(path, e); !st) return st;
    std::optional<sys::RootedPath> link_target;
    if (auto st = create(reader, e, path, link_target); !st) return st;
    if (m_skipped) {
      m_skipped = false;
      return {};
    }
    return finish(e, path, link_target);
  }

  // The cleaned, root-relative name ("" for the root itself). As BuildKit,
  // which extracts chrooted into the destination, a name is taken as if
  // joined to "/": "../x" and "/x" both land at <dest>/x, never above it.
  static util::Result<std::string> entry_name(std::string_view raw) {
    auto clean = sys::clean_path(util::path_clean_rooted(raw));
    if (!clean)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "invalid entry name " + sys::quote(raw));
    return clean;
  }

  // Removes what is in the way, unless a directory meets a directory.
  static util::Status clear_way(const sys::RootedPath& path, const TarEntry& e) {
    MASON_TRY_ASSIGN(auto st, path.lstat());
    if (!st) return {};
    if (S_ISDIR(st->st_mode) && e.type == EntryType::directory) return {};
    return path.remove_all();
  }

  util::Status create(archive::TarReader& reader, const TarEntry& e, const sys::RootedPath& path,
                      std::optional<sys::RootedPath>& link_target) {
    switch (e.type) {
    case EntryType::directory: return create_dir(e, path);
    case EntryType::regular: return create_file(reader, e, path);
    case EntryType::symlink: return count(path.symlink(e.linkname));
    case EntryType::hardlink: return create_hardlink(e, path, link_target);
    case EntryType::fifo: return count(path.mknod(S_IFIFO | (e.mode & 07777), 0));
    case EntryType::char_device:
    case EntryType::block_device: return create_device(e, path);
    case EntryType::unsupported: break;
    }
    return util::make_error(util::ErrorCode::unsupported,
                            std::string("unhandled tar entry type '") + e.typeflag + "'");
  }

  util::Status count(util::Status st) {
    if (st) ++m_stats.files;
    return st;
  }

  util::Status create_dir(const TarEntry& e, const sys::RootedPath& path) {
    MASON_TRY_ASSIGN(auto st, path.lstat());
    if (st && S_ISDIR(st->st_mode)) return {};
    ++m_stats.directories;
    return path.mkdir(e.mode & 0777);
  }

  util::Status create_file(archive::TarReader& reader, const TarEntry& e,
                           const sys::RootedPath& path) {
    MASON_TRY_ASSIGN(auto fd, path.open(O_WRONLY | O_CREAT | O_TRUNC, e.mode & 0777));
    archive::FdSink sink(fd.get());
    std::vector<std::byte> buf(k_block);
    for (;;) {
      MASON_TRY_ASSIGN(auto n, reader.read_data(buf));
      if (n == 0) break;
      if (auto st = sink.write(archive::ConstBytes(buf.data(), n)); !st)
        return std::unexpected(
            std::move(st.error()).with_context("write " + sys::quote(path.path())));
      m_stats.bytes += n;
    }
    ++m_stats.files;
    return fd.close();
  }

  util::Status create_hardlink(const TarEntry& e, const sys::RootedPath& path,
                               std::optional<sys::RootedPath>& link_target) {
    auto target = entry_name(e.linkname);
    if (!target || target->empty())
      return util::make_error(util::ErrorCode::invalid_argument,
                              "invalid hardlink target " + sys::quote(e.linkname));
    MASON_TRY_ASSIGN(auto existing, sys::RootedPath::resolve(m_dest, *target));
    if (auto st = path.link_to(existing); !st) return st;
    ++m_stats.files;
    link_target.emplace(std::move(existing));
    return {};
  }

  util::Status create_device(const TarEntry& e, const sys::RootedPath& path) {
    if (::geteuid() != 0) {
      m_skipped = true;
      return {};
    }
    const mode_t type = e.type == EntryType::char_device ? S_IFCHR : S_IFBLK;
    return count(path.mknod(type | (e.mode & 07777), makedev(e.dev_major, e.dev_minor)));
  }

  // Owner, xattrs, mode, times: in go-archive's order (chown clears setuid,
  // so the mode comes after it).
  util::Status finish(const TarEntry& e, const sys::RootedPath& path,
                      const std::optional<sys::RootedPath>& link_target) {
    if (auto st = set_owner(e, path); !st) return st;
    if (auto st = set_xattrs(e, path); !st) return st;
    const bool through_symlink = link_target && is_symlink(*link_target);
    if (e.type != EntryType::symlink && !through_symlink)
      if (auto st = path.chmod(e.mode & 07777); !st) return st;
    const timespec mtime{e.mtime < 0 ? 0 : e.mtime,
                         e.mtime < 0 ? 0 : static_cast<long>(e.mtime_nsec)};
    if (!through_symlink)
      if (auto st = path.set_times(mtime, mtime); !st) return st;
    if (e.type == EntryType::directory) m_dirs.push_back({path.path(), mtime});
    return {};
  }

  util::Status set_owner(const TarEntry& e, const sys::RootedPath& path) {
    if (!m_set_owners) return {};
    const Owner owner = m_options.chown ? *m_options.chown
                                        : Owner{static_cast<std::uint32_t>(e.uid),
                                                static_cast<std::uint32_t>(e.gid)};
    return path.chown(owner.uid, owner.gid);
  }

  static util::Status set_xattrs(const TarEntry& e, const sys::RootedPath& path) {
    for (const auto& [key, value] : e.xattrs) {
      auto st = path.set_xattr(key, value);
      if (st) continue;
      const int err = st.error().sys_errno();
      if (err == ENOTSUP || err == EOPNOTSUPP || err == EPERM) continue;
      return st;
    }
    return {};
  }

  static bool is_symlink(const sys::RootedPath& p) {
    auto st = p.lstat();
    return st && *st && S_ISLNK((*st)->st_mode);
  }

  int m_dest;
  const ExtractOptions& m_options;
  bool m_set_owners;
  bool m_skipped = false;
  ExtractStats m_stats;
  std::vector<DirTimes> m_dirs;
};

} // namespace

util::Result<ExtractStats> extract_archive(int fd, int dest_fd, const ExtractOptions& options) {
  MASON_TRY_ASSIGN(auto stream, open_tar_stream(fd));
  archive::TarReader reader(*stream.source);
  return Extractor(dest_fd, options).run(reader, *stream.source);
}

} // namespace mason::ops
