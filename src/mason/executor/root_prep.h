// What the executor does to the root filesystem around a run: create the
// working directory before, remove the runtime's mount stubs after.
//
// Every path is resolved inside the root (sys::open_in_root,
// RESOLVE_IN_ROOT) and the final component is acted on without following
// it, so a symlink in the image can never make these touch the host.
// Thread-safety: no shared state; two runs on the same root at once are
// not supported (each would see the other's stubs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mason/util/error.h"

namespace mason::executor {

// Creates `path` and its missing parents inside the root (mode 0755,
// owned by uid:gid, as BuildKit does for a missing working directory);
// directories that exist are left as they are. Errors: a component that
// exists but is not a directory, or a failed mkdir/chown.
util::Status make_workdir(int root_fd, const std::string& path, std::uint32_t uid,
                          std::uint32_t gid);

// The mount destinations missing in a root before a run. The runtime
// creates an empty file or directory at each (and at missing parents);
// remove() takes away those still empty afterwards.
class MountStubs {
public:
  // Records each destination (absolute container path) that does not
  // exist in the root, and each of its missing parents. Never fails: a
  // destination that cannot be cleaned (e.g. it escapes with "..") is
  // skipped, the runtime rejects it anyway.
  static MountStubs record(int root_fd, const std::vector<std::string>& destinations);

  // Removes, deepest first, each recorded path that is now an empty
  // regular file or an empty directory; anything else (a missing path,
  // data written, a symlink) is left alone. The parent's access and
  // modification times are kept across each removal (reproducible
  // layers, moby/buildkit#3148). Best effort, like BuildKit: failures are
  // skipped; returns how many entries were removed.
  int remove(int root_fd) const;

  // The recorded paths, cleaned and relative to the root, deepest first.
  const std::vector<std::string>& paths() const { return m_paths; }

private:
  std::vector<std::string> m_paths;
};

} // namespace mason::executor
