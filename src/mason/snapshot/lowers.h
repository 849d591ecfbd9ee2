// Lowers: the lowerdir list that mounts a committed chain, flattening its
// bottom part when the whole chain does not fit one mount.
//
// A chain mounts as "l/<short>" per layer, top first. When that list
// (plus the rest of the mount data) exceeds the page mount(2) copies, or
// overlay's stack limit, the bottom F layers are replaced by one directory
// "flat/<short of the topmost flattened layer>" holding their merged tree,
// with F the smallest multiple of the flatten step that makes the mount
// fit. A flattened directory of F layers is made from the one of F - step
// layers plus `step` layers (recursively), mounted read-only and copied
// (copy_tree: hard links, owners, modes, xattrs, devices, times), and is
// kept: every later chain over the same base reuses it. Producers of one
// flattened directory are serialised per process and race safely across
// processes (the first published wins).
//
// Thread-safety: all members may be called from several threads.
#pragma once

#include <string>
#include <vector>

#include "mason/snapshot/overlay.h"
#include "mason/snapshot/store.h"

namespace mason::snapshot::detail {

class LowerPlanner {
public:
  LowerPlanner(Store& store, const OverlayLimits& limits);

  // The lowerdirs (relative to the state dir, top first) for the chain
  // ending at `top`, such that the mount data with `reserved` more bytes
  // fits the limits. Errors: the chain cannot be read; flattening failed.
  util::Result<std::vector<std::string>> lowers(const std::string& top, std::size_t reserved);

private:
  util::Result<std::string> flat(const std::vector<SnapshotInfo>& chain, std::size_t count);
  util::Status make_flat(const std::vector<SnapshotInfo>& chain, std::size_t count,
                         const std::string& dest);
  bool fits(const std::vector<std::string>& lowers, std::size_t reserved) const;

  Store& m_store;
  OverlayLimits m_limits;
  std::size_t m_step;
};

} // namespace mason::snapshot::detail
