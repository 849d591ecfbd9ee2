// Overlay mounts and their owner.
//
// mount_overlay() builds the mount data with lowerdir/upperdir/workdir paths
// relative to the state directory and calls mount(2) from a short-lived
// helper thread that has its own working directory (unshare(CLONE_FS) +
// fchdir to the state directory), so relative paths keep the data under one
// page without changing the working directory of the rest of the process.
// This is how containerd keeps long chains mountable.
//
// Options always include index=off, redirect_dir=off and metacopy=off: the
// upperdir then holds full copies and plain whiteouts/opaque markers, the
// form archive::write_layer(TreeForm::overlay_upper) reads.
//
// Ownership: a ScopedMount owns one mount point's mount and unmounts it
// when destroyed (lazily, MNT_DETACH, if it is busy). Thread-safety: none
// per object; the free functions have no shared state.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mason/util/error.h"

namespace mason::snapshot::detail {

// mount(2) copies at most one page of data, its NUL included.
inline constexpr std::size_t k_mount_data_max = 4095;
// overlayfs refuses more lower layers than this (OVL_MAX_STACK).
inline constexpr std::size_t k_overlay_max_lowers = 500;

struct OverlaySpec {
  std::vector<std::string> lowers; // relative to the state directory, top first
  std::string upper;               // relative; empty: a read-only mount (needs ≥ 2 lowers)
  std::string work;                // relative; with upper
};

// The mount data for `spec` (without a length check).
std::string overlay_options(const OverlaySpec& spec);

enum class UnmountMode { lazy, strict };

class ScopedMount {
public:
  ScopedMount() = default;
  ScopedMount(ScopedMount&& other) noexcept;
  ScopedMount& operator=(ScopedMount&& other) noexcept;
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  ~ScopedMount();

  // Mounts an overlay at the absolute path `target`; relative paths in
  // `spec` are resolved against `state_fd`. Errors: invalid_argument if the
  // data exceeds a page or there are too many lowers; the errno of mount(2)
  // ("mount overlay at <target> (lowerdir=...)").
  static util::Result<ScopedMount> overlay(int state_fd, const std::string& target,
                                           const OverlaySpec& spec);

  const std::string& target() const { return m_target; }
  bool mounted() const { return !m_target.empty(); }

  // Unmounts now and reports errors; on success the object is empty.
  // UnmountMode::lazy detaches a busy mount (it goes once its last user
  // does); UnmountMode::strict retries a busy one for a while and then
  // fails (unavailable), leaving it mounted: a commit must not publish an
  // upperdir that someone may still write through.
  util::Status unmount(UnmountMode mode = UnmountMode::lazy);

private:
  explicit ScopedMount(std::string target) : m_target(std::move(target)) {}
  std::string m_target;
};

// Detaches every mount whose mount point is `path` or lies below it (read
// from /proc/self/mountinfo), deepest first: stale work of a dead process.
util::Status unmount_all_below(const std::string& path);

} // namespace mason::snapshot::detail
