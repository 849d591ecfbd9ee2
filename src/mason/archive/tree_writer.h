// write_tree: a directory tree → tar entries, deterministically.
//
// Order: depth first, each directory's entries sorted by name (bytes); a
// directory's entry comes before its contents; the root itself is not
// written. Names are relative ("a/b", directories "a/"). Each entry is
// written by EntryWriter (entry_writer.h: owners, modes, mtimes, xattrs,
// hard links, and the overlay_upper form's whiteouts and opaque markers).
//
// Symlinks are never followed: every directory is opened with O_NOFOLLOW
// from its parent's descriptor. One descriptor is held per directory level.
// Thread-safety: none; the tree should not change while it is written
// (a file that shrinks meanwhile is an error).
#pragma once

#include "mason/archive/entry_writer.h"
#include "mason/archive/tar_writer.h"
#include "mason/util/error.h"

namespace mason::archive {

// Writes the entries of the tree at `root_fd` (a directory descriptor,
// O_PATH is fine) to `out`. Does not call out.finish(). Errors carry the
// path of the entry that failed.
util::Result<TreeStats> write_tree(int root_fd, const TarOptions& options, TarWriter& out);

} // namespace mason::archive
