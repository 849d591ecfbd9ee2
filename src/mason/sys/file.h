// Whole-file reads and whole-file replacement. Thread-safety: free
// functions without shared state; an AtomicFile belongs to one thread.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "mason/sys/unique_fd.h"
#include "mason/util/error.h"

namespace mason::sys {

// The bytes of the file at `path` (symlinks followed). Errors name the
// path: not_found when it does not exist, invalid_argument when it is
// larger than `limit` bytes, else the errno's code (errno_error).
util::Result<std::string> read_file(const std::string& path,
                                    std::size_t limit = std::numeric_limits<std::size_t>::max());

// Whether `path` is a regular file (symlinks followed); false when it
// cannot be stat'ed.
bool is_regular_file(const std::string& path);

// Whether a replacement must survive a crash (fsync of the file and of its
// directory), or is a cache that may be lost.
enum class Durability { synced, best_effort };

// A file replaced whole: written under a unique temporary name beside
// `path` ("<path>.XXXXXX"), made visible by commit() (fsync, rename, fsync
// of the directory): a reader sees the old file or the new one, never a
// part. Destroyed uncommitted, the temporary file is removed.
class AtomicFile {
public:
  static util::Result<AtomicFile> create(std::string path, mode_t mode = 0644,
                                         Durability durability = Durability::synced);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return m_fd.get(); }
  const std::string& temp_path() const { return m_temp; }
  util::Status write(std::string_view data);
  // Replaces `path` by what was written; errors name the temporary file.
  util::Status commit();

private:
  AtomicFile(std::string path, std::string temp, UniqueFd fd, Durability durability)
      : m_path(std::move(path)), m_temp(std::move(temp)), m_fd(std::move(fd)),
        m_durability(durability) {}
  std::string m_path;
  std::string m_temp; // "" once committed or moved from
  UniqueFd m_fd;
  Durability m_durability;
};

// AtomicFile holding `data`.
util::Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                               Durability durability = Durability::synced);

} // namespace mason::sys
