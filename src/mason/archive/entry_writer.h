// EntryWriter: one entry of a directory tree → tar entries, the step that
// write_tree (tree_writer.h) repeats over a whole tree and that the copy
// snapshotter's diff uses on the entries that changed, in its own order.
//
// Form of an entry: numeric owners, mode = the 07777 bits, whole-second
// mtimes clamped to TarOptions::clamp_mtime when set (SOURCE_DATE_EPOCH);
// a non-directory whose inode was already written (same st_dev, st_ino)
// becomes a hard link to its first path; sockets are skipped (tar cannot
// hold them); regular files are read in full (holes as zeros) and must
// not shrink meanwhile.
//
// xattrs: all of them, except trusted.overlay.* (overlay's own
// bookkeeping, never image content) and security.selinux (a host label,
// not image content); XattrSelection::none writes none.
//
// TreeForm::overlay_upper reads an overlayfs upperdir and converts
// overlay's deletion markers into OCI whiteouts:
//   - a character device 0:0 → an empty regular file ".wh.<name>" (mode
//     0600, owner and mtime of the device), never a hard link, even when
//     several whiteouts share one inode;
//   - a directory with <ns>.overlay.opaque = "y" → the directory entry
//     (without that xattr) followed at once by "<dir>/.wh..wh..opq" (an
//     empty regular file with the directory's permission bits, owner and
//     mtime);
//   - <ns>.overlay.redirect or .metacopy (redirect_dir / metacopy mounts)
//     → error `unsupported`: such an upperdir does not hold the full
//     content.
//
// Ownership: borrows the TarWriter and the options. Thread-safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "mason/archive/tar_writer.h"
#include "mason/archive/whiteout.h"
#include "mason/util/error.h"

namespace mason::archive {

enum class TreeForm { plain, overlay_upper };
enum class XattrSelection { all, none };

struct TarOptions {
  TreeForm form = TreeForm::plain;
  OverlayXattrs overlay_xattrs = OverlayXattrs::trusted; // for TreeForm::overlay_upper
  std::optional<std::int64_t> clamp_mtime;               // mtimes above it are written as it
  XattrSelection xattrs = XattrSelection::all;
};

struct TreeStats {
  std::uint64_t entries = 0; // tar entries written (whiteouts included)
  std::uint64_t regular_files = 0;
  std::uint64_t data_bytes = 0;
  std::uint64_t hardlinks = 0;
  std::uint64_t whiteouts = 0;
  std::uint64_t opaque_dirs = 0;
  std::uint64_t skipped_sockets = 0;
};

class EntryWriter {
public:
  EntryWriter(const TarOptions& options, TarWriter& out) : m_opt(options), m_out(out) {}

  // Writes entry `name` of directory `dir_fd` (any descriptor, O_PATH is
  // fine; `st` its lstat) as `rel`. A directory is written alone, as
  // "rel/" (and its opaque marker), not its contents. Errors carry `rel`.
  util::Status write(int dir_fd, const std::string& name, const std::string& rel,
                     const struct stat& st);
  // Writes the whiteout of a deleted `rel`: an empty regular file
  // "<dir>/.wh.<base>", mode 0600, owner 0:0, mtime `mtime` (clamped).
  util::Status write_whiteout(const std::string& rel, std::int64_t mtime);

  const TreeStats& stats() const { return m_stats; }

private:
  util::Result<std::map<std::string, std::string>> xattrs_of(int dir_fd, const std::string& name,
                                                             bool& opaque);
  util::Status write_data(int dir_fd, const std::string& name, std::int64_t size);
  util::Status write_entry(int dir_fd, const std::string& name, const std::string& rel,
                           const struct stat& st);
  TarEntry base_entry(const std::string& rel, const struct stat& st) const;
  std::int64_t clamp(std::int64_t mtime) const;
  util::Status add(const TarEntry& e) {
    ++m_stats.entries;
    return m_out.add(e);
  }

  const TarOptions& m_opt;
  TarWriter& m_out;
  TreeStats m_stats;
  std::map<std::pair<dev_t, ino_t>, std::string> m_links;
  std::vector<std::byte> m_buf;
};

} // namespace mason::archive
