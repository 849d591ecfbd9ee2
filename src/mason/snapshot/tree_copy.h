// copy_tree: a faithful copy of a directory tree.
//
// Copies everything below `src_fd` into the empty directory `dest_fd`, and
// the root's own owner, mode, xattrs and times: regular files (reflinked
// with FICLONE where the file system can, else copied in-kernel with holes
// kept), directories, symlinks (targets verbatim), character and block
// devices (mknod), fifos and sockets; owners (as root), permission bits
// including setuid/setgid/sticky, xattrs except trusted.overlay.* (overlay
// bookkeeping), access and modification times with nanoseconds
// (directories last, after their contents). Non-directories that share an
// inode in the source (st_nlink > 1, same st_dev/st_ino) share one in the
// copy. Symlinks are never followed: each directory is opened with
// O_NOFOLLOW from its parent's descriptor.
//
// Not as root, owners are left to the caller and xattrs that cannot be set
// (EPERM, EOPNOTSUPP) are skipped. Errors name the entry that failed; the
// destination is then partly copied (the caller discards it).
// Thread-safety: no shared state; the source should not change meanwhile.
#pragma once

#include <cstdint>

#include "mason/util/error.h"

namespace mason::snapshot::detail {

struct CopyStats {
  std::uint64_t entries = 0;
  std::uint64_t hardlinks = 0;
  std::uint64_t data_bytes = 0;
};

// How non-directories are copied: their data and metadata, or as hard
// links to the source's inodes (no data copied; the two trees then share
// those files, so neither may be changed in place afterwards).
enum class FileCopy { data, hard_link };

util::Result<CopyStats> copy_tree(int src_fd, int dest_fd, FileCopy files = FileCopy::data);

// Copies the data of regular file `in` (`size` bytes) into the empty file
// `out`: FICLONE, else copy_file_range/sendfile of the data segments
// (SEEK_DATA/SEEK_HOLE), then ftruncate to `size` so holes stay holes.
util::Status copy_file_data(int in, int out, std::int64_t size);

} // namespace mason::snapshot::detail
