// The content digests of a directory's files, remembered by path and
// stamp, so that an unchanged build context is not read again: an entry
// is used only while the file's inode, size, mtime and ctime are all what
// they were when it was hashed (ctime moves with any chmod, chown, rename
// or write, and cannot be set back by a user).
//
// A file changed within the granularity of the clock while it was hashed
// could keep its stamp with new content ("racy" entries, as git calls
// them): entries whose mtime or ctime is not older than the hashing
// started minus k_racy_window are never saved.
//
// File format (one per directory, rewritten whole and renamed into place):
//   mason-stat-cache-v1\n
//   <ino> <size> <mtime_ns> <ctime_ns> <64 hex> <path length>:<path>\n ...
// An unreadable or foreign file is an empty cache (it only costs reads).
//
// Thread-safety: lookup and store may be called from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <sys/stat.h>

#include "mason/util/error.h"

namespace mason::cache {

inline constexpr std::chrono::seconds k_racy_window{2};

class StatCache {
public:
  StatCache() = default; // in memory only (save() does nothing)
  // Loads `file` (missing: empty); save() writes it back. Entries changed
  // less than `racy_window` before the load are not kept (tests shorten it).
  static StatCache load(std::string file, std::chrono::nanoseconds racy_window = k_racy_window);

  StatCache(StatCache&& other) noexcept;
  StatCache& operator=(StatCache&& other) noexcept;

  // The sha256 hex of the file at `path` if its stamp is unchanged.
  std::optional<std::string> lookup(const std::string& path, const struct stat& st) const;
  void store(const std::string& path, const struct stat& st, const std::string& hex);
  // Forgets entries not looked up or stored since load (files gone).
  void drop_unused();
  // Writes the file when something changed (temp file + rename).
  util::Status save() const;

  std::size_t size() const;

private:
  struct Stamp {
    std::uint64_t ino = 0;
    std::int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Entry {
    Stamp stamp;
    std::string hex;
    mutable bool used = false;
  };
  static Stamp stamp_of(const struct stat& st);

  std::string m_file;
  std::int64_t m_started_ns = 0; // when this cache was loaded (racy check)
  std::int64_t m_racy_ns = 0;
  mutable std::mutex m_mutex;
  std::map<std::string, Entry> m_entries;
  bool m_changed = false;
};

} // namespace mason::cache
