// Content digests of what COPY, ADD and RUN --mount=type=bind select in the
// build context: the cache key's file inputs (docs/cache-keys.md).
//
// Each source word is resolved the way the copy resolves it (SourceTree:
// wildcards, symlinks followed inside the root, .dockerignore'd entries
// absent) and every entry below each match is hashed, in name order,
// without following symlinks: its path, type, permission bits (with
// setuid/setgid/sticky), size, link target, hard-link identity inside the
// selection, extended attributes and content. Never the mtime, the owner
// (the copy makes context files 0:0 or --chown's owner) or the host umask.
// A missing source is hashed as missing (the step itself then fails with
// its own error).
//
// --exclude and --parents patterns are not applied here: the whole match is
// hashed, which can only make a hit less likely, never a wrong one.
//
// File contents are read only when the StatCache has no entry with the
// same stamp; they are hashed on several threads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mason/cache/stat_cache.h"
#include "mason/frontend/dockerignore.h"
#include "mason/util/error.h"

namespace mason::ops {

struct SourceHashOptions {
  const frontend::IgnoreMatcher* ignore = nullptr; // the context's .dockerignore
  cache::StatCache* stats = nullptr;               // may be null
  int threads = 4;
  // Entries kept in SourcesDigest::entries (for explaining a miss).
  std::size_t max_entries = 2000;
};

struct SourcesDigest {
  std::string digest; // "sha256:<hex>" over everything selected
  // root-relative path -> the entry's own digest (hex), for at most
  // max_entries entries; `truncated` when there were more.
  std::map<std::string, std::string> entries;
  bool truncated = false;
  std::uint64_t files = 0;
  std::uint64_t hashed_bytes = 0; // bytes read (not from the stat cache)
};

util::Result<SourcesDigest> hash_sources(int root_fd, const std::vector<std::string>& sources,
                                         const SourceHashOptions& options);

} // namespace mason::ops
