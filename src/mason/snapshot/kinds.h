// The two snapshotter kinds and the overlay probe, behind open_snapshotter().
#pragma once

#include <memory>

#include "mason/snapshot/overlay.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/snapshot/store.h"

namespace mason::snapshot::detail {

std::unique_ptr<Snapshotter> make_overlay_snapshotter(std::shared_ptr<Store> store,
                                                      const OverlayLimits& limits);
std::unique_ptr<Snapshotter> make_copy_snapshotter(std::shared_ptr<Store> store);

// Mounts a tiny overlay (lower, upper, work) in the state dir's tmp/,
// removes a lower file through it (a whiteout) and unmounts. Errors: why
// overlay cannot be used here.
util::Status probe_overlay(Store& store);

} // namespace mason::snapshot::detail
