// COPY and ADD: docker's file semantics between two roots.
//
// Sources are read from a source root (the build context, a stage's
// snapshot, or an image's root) and written into the destination root,
// every path on both sides resolved inside its root (a symlink can never
// lead outside). The semantics are BuildKit's (dockerfile2llb dispatchCopy
// + the file op's docopy + fsutil's copy package); the details live in
// copy_tree.h (the tree copy), copy_paths.h (destination spelling),
// copy_mode.h (--chmod), user.h (--chown), add_archive.h (ADD's archives),
// add_remote.h and fetch_http.h (ADD <url>):
//   - a source is a path or a glob (filepath.Match syntax) relative to the
//     source root (a leading "/" is the root); a symlink given as a source
//     is followed (inside the root); a directory copies its contents; a
//     path that does not exist is an error naming it (not_found), but a
//     glob that matches nothing copies nothing (BuildKit's
//     AllowEmptyWildcard); a glob whose directory part is missing is
//     not_found;
//   - the destination is a directory when it ends in "/" or "/." (or is
//     "."); a file copied onto an existing directory goes inside it;
//     relative destinations are relative to WORKDIR; missing directories
//     are created (0755, or the --chmod octal mode, owned by --chown).
//     Several sources with a destination not ending in "/" are NOT an
//     error (BuildKit copies them one after the other onto the same path);
//   - owners: --chown user[:group] by name or id, names resolved through
//     the destination root's /etc/passwd and /etc/group (an unknown name
//     gives id 0, as BuildKit); without --chown, files from the context
//     belong to 0:0 and files from a stage or image keep their owners;
//     --chmod (octal or symbolic, e.g. "u+x") applies to every copied
//     entry; mtimes and xattrs are kept; hard links inside a copied tree
//     stay hard links; symlinks inside directories are copied as symlinks;
//   - --parents keeps each source's path (below a "/./" pivot if any);
//   - --exclude patterns (relative to each source) and the context's
//     .dockerignore leave paths out;
//   - ADD: a local tar archive (plain, gzip, bzip2, xz, zstd; recognised by
//     content) is extracted into the destination unless --unpack=false;
//     http(s) URLs are fetched (file name from the URL path, mode 0600,
//     mtime from Last-Modified or the epoch), not extracted unless
//     --unpack=true, and checked against --checksum (sha256) when given;
//     git sources are `unsupported`.
// Heredoc sources (COPY <<EOF) are written as files (mode 0644 before
// --chmod) named after the heredoc.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mason/frontend/dockerfile/instructions.h"
#include "mason/frontend/dockerignore.h"
#include "mason/util/error.h"

namespace mason::ops {

class HttpFetcher; // fetch_http.h

enum class SourceOrigin { context, stage };

struct SourceRoot {
  int root_fd = -1; // a directory descriptor (O_PATH is fine)
  SourceOrigin origin = SourceOrigin::context;
  // The context's .dockerignore (origin context only); may be empty.
  frontend::IgnoreMatcher ignore;
};

enum class CopyKind { copy, add };

struct CopyRequest {
  CopyKind kind = CopyKind::copy;
  std::vector<std::string> sources;                          // expanded words
  std::vector<frontend::dockerfile::SourceContent> contents; // heredocs
  std::string dest;                                          // expanded
  std::string workdir = "/";                                 // the stage's WORKDIR
  std::string chown;                                         // "" = none
  std::string chmod;                                         // "" = none
  bool parents = false;
  bool link = false;
  std::vector<std::string> excludes;
  // ADD only
  std::optional<bool> unpack; // nullopt: docker's default (extract local archives)
  std::string checksum;       // "sha256:<hex>" for URLs
  // Where ADD may put downloads (and heredocs) before copying (a host
  // directory; required when a source needs one).
  std::string scratch_dir;
  // ADD <url> downloads; null = libcurl (default_http_fetcher()).
  HttpFetcher* fetcher = nullptr;
};

struct CopyStats {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t bytes = 0;
};

// Performs the copy into the root at `dest_root_fd`. Errors name the
// source or destination path (not_found for a missing source,
// invalid_argument for bad --chmod/--checksum/--exclude or a URL/git
// source in COPY, corruption for a checksum mismatch, unsupported for git
// sources, unavailable for failed downloads). Sources are checked before
// anything is written; a later failure leaves the destination partly
// written (the caller discards it).
util::Result<CopyStats> copy_files(const SourceRoot& source, int dest_root_fd,
                                   const CopyRequest& request);

// User and group resolution as BuildKit does for USER (see user.h; --chown
// has its own, more lenient rules: resolve_chown there): a numeric id is
// taken as is; a name is looked up in <root>/etc/passwd (or group); the
// user's primary group is used when no group is given. Errors: not_found
// naming the user or group and the file. additional_gids do not include
// the primary gid.
struct Identity {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additional_gids; // from /etc/group membership (USER only)
};
util::Result<Identity> resolve_user(int root_fd, const std::string& user_spec,
                                    bool with_supplementary_groups);

} // namespace mason::ops
