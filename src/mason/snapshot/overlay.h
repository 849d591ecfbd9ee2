// The overlay snapshotter's tunables and the entry points behind
// open_snapshotter(), for tests that need small limits (flattening without
// hundreds of layers) and for the probe.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "mason/snapshot/mount.h"
#include "mason/snapshot/snapshotter.h"

namespace mason::snapshot {

struct OverlayLimits {
  std::size_t mount_data_max = detail::k_mount_data_max; // bytes of mount data
  std::size_t max_lowers = detail::k_overlay_max_lowers; // lowerdirs in one mount
  // Chains are flattened in blocks of this many layers counted from the
  // base, so the flattened directories are shared by every chain above
  // them (cut down when the limits above need it).
  std::size_t flatten_step = 128;
};

// open_snapshotter() with explicit overlay limits.
util::Result<std::unique_ptr<Snapshotter>> open_snapshotter(const std::string& state_dir,
                                                            KindChoice choice, std::string* why,
                                                            const OverlayLimits& limits);

} // namespace mason::snapshot
