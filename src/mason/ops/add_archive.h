// ADD's local archives: which files are archives, and their extraction.
//
// Detection is BuildKit's (solver/llbsolver/file/unpack.go isArchivePath
// with moby/go-archive's DecompressStream): a regular file whose first
// bytes name a compression (bzip2 "BZh", gzip 1f 8b 08, xz fd 37 7a 58 5a
// 00, zstd 28 b5 2f fd or a zstd skippable frame) or none, and whose
// decompressed stream starts with a readable tar header. The file name
// plays no part: "x.tar" holding text is copied as is, "data.bin" holding
// a tar.gz is extracted.
//
// Extraction is go-archive's Untar as BuildKit calls it (chrooted in the
// destination directory, which is the root for every path of the
// archive):
//  - names: leading '/' dropped, cleaned; "." skipped; a name that climbs
//    above the root is an error (invalid_argument); parents are resolved
//    inside the root (symlinks followed, confined) and created 0755 when
//    missing;
//  - an existing entry is replaced (removed first) unless both it and the
//    new entry are directories (then merged);
//  - hard links must point inside the root; symlink targets are stored
//    verbatim;
//  - owners: the archive's, or `chown` for every entry; modes (with
//    setuid/setgid/sticky) and mtimes from the archive; directories' mtimes
//    set again at the end; SCHILY xattrs applied, EPERM/ENOTSUP skipped;
//  - whiteouts (".wh.*") are NOT interpreted: they are ordinary files.
// Devices are created when running as root and skipped otherwise (as
// docker does in a user namespace). Archive owners are applied only as
// root; an explicit `chown` is always applied.
// On error the destination is partly extracted; nothing outside it is
// touched. Thread-safety: no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mason/ops/user.h"
#include "mason/util/error.h"

namespace mason::ops {

enum class ArchiveCompression { none, gzip, bzip2, xz, zstd };

// From the first bytes of a file (10 are enough).
ArchiveCompression detect_archive_compression(std::string_view head);

// `fd`: the file, open for reading at offset 0 (it is consumed). False for
// anything that is not a tar archive; errors only for I/O failures.
util::Result<bool> is_tar_archive(int fd);

struct ExtractOptions {
  std::optional<Owner> chown; // --chown: owner of every entry
};

struct ExtractStats {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t bytes = 0;
};

// Extracts the archive in `fd` (offset 0) under the directory `dest_fd`.
// Errors name the entry: `entry "a/b": ...`.
util::Result<ExtractStats> extract_archive(int fd, int dest_fd, const ExtractOptions& options);

} // namespace mason::ops
