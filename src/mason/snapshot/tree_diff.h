// write_diff: the changes of a full tree against another full tree, as
// tar entries (the copy snapshotter's diff).
//
// A double walk in the manner of containerd's continuity: both trees are
// listed side by side in sorted order, and
//   - a name only in `lower` is deleted: a whiteout ".wh.<name>" (a deleted
//     directory is one whiteout, its contents are not visited);
//   - a name only in `upper` is added: written in full (a directory with
//     everything below it);
//   - a name in both whose type differs is replaced: the new entry is
//     written in full (applying it removes the old one, whatever it was);
//   - a name in both with the same type is changed when its mode, owner,
//     mtime (with nanoseconds), size, device number, link target, xattrs
//     (unless TarOptions::xattrs is none) or content differ; directories
//     are compared by metadata and always walked.
// Content is compared byte by byte when all metadata is equal, unless the
// upper file's ctime is before `copied_at`: the upper tree was made as a
// copy of the lower one that finished at `copied_at`, and a file nobody
// touched since still has the ctime of its copy (ctime cannot be set from
// user space; a clock stepped backwards could hide a content-only change
// that kept mtime and size).
//
// Every written entry is preceded by its parent directories (from upper),
// as an overlay upperdir has them. Hard links inside upper stay links: when
// one path of a multiply linked inode is written, all its paths are, the
// first in full and the others as links to it. Deleted entries are written
// where their names sort; a whiteout has mode 0600, owner 0:0 and the mtime
// of its parent directory in upper. Entry form as archive::write_tree
// (see archive/entry_writer.h).
//
// Thread-safety: none; neither tree should change meanwhile.
#pragma once

#include <ctime>
#include <optional>

#include "mason/archive/tree_writer.h"
#include "mason/util/error.h"

namespace mason::snapshot::detail {

// `lower_fd`, `upper_fd`: directory descriptors (O_PATH is fine).
util::Result<archive::TreeStats> write_diff(int lower_fd, int upper_fd,
                                            const archive::TarOptions& options,
                                            const std::optional<timespec>& copied_at,
                                            archive::TarWriter& out);

} // namespace mason::snapshot::detail
