// EntryWriter: single entries of a directory tree as tar entries, in the
// form archive::write_tree gives them (see archive/tree_writer.h: numeric
// owners, mode = the 07777 bits, whole-second mtimes clamped to
// TarOptions::clamp_mtime, xattrs except trusted.overlay.* and
// security.selinux, sockets skipped, a non-directory whose inode was
// already written becomes a hard link to its first path).
//
// write_tree walks a whole tree; the copy snapshotter's diff writes only
// the entries that changed, in its own order, so it needs the per-entry
// step on its own. (archive could export this step; until then this is the
// same logic for TreeForm::plain.)
//
// Ownership: borrows the TarWriter. Thread-safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "mason/archive/tree_writer.h"
#include "mason/util/error.h"

namespace mason::snapshot::detail {

class EntryWriter {
public:
  EntryWriter(const archive::TarOptions& options, archive::TarWriter& out)
      : m_opt(options), m_out(out) {}

  // Writes entry `name` of directory `dir_fd` (any descriptor, O_PATH is
  // fine; `st` its lstat) as `rel`. A directory is written alone, as
  // "rel/", not its contents. Errors carry `rel`.
  util::Status write(int dir_fd, const std::string& name, const std::string& rel,
                     const struct stat& st);
  // Writes the whiteout of a deleted `rel`: an empty regular file
  // "<dir>/.wh.<base>", mode 0600, owner 0:0, mtime `mtime` (clamped).
  util::Status write_whiteout(const std::string& rel, std::int64_t mtime);

  const archive::TreeStats& stats() const { return m_stats; }

private:
  util::Result<std::map<std::string, std::string>> xattrs_of(int dir_fd, const std::string& name);
  util::Status write_data(int dir_fd, const std::string& name, std::int64_t size);
  util::Result<std::string> link_target(int dir_fd, const std::string& name, const struct stat& st);
  archive::TarEntry base_entry(const std::string& rel, const struct stat& st) const;
  std::int64_t clamp(std::int64_t mtime) const;
  util::Status write_typed(int dir_fd, const std::string& name, archive::TarEntry e,
                           const struct stat& st);
  util::Status add(const archive::TarEntry& e) {
    ++m_stats.entries;
    return m_out.add(e);
  }

  const archive::TarOptions& m_opt;
  archive::TarWriter& m_out;
  archive::TreeStats m_stats;
  std::map<std::pair<dev_t, ino_t>, std::string> m_links;
  std::vector<std::byte> m_buf;
};

} // namespace mason::snapshot::detail
