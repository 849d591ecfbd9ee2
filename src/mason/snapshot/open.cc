// open_snapshotter: which kind, and why.
//
// A state dir keeps the kind it was created with (the file "kind"): copy
// snapshots hold full trees, overlay snapshots only changes, and the two
// cannot be mixed. On a fresh dir, automatic probes overlayfs with a real
// mount in the dir itself (which also tests that the dir's file system can
// hold an upperdir) and falls back to copy; the reason goes to `why`, and
// is remembered in the dir (kind-reason) so that every later build can say
// why its snapshots are copies.
#include <cerrno>

#include "mason/snapshot/kinds.h"
#include "mason/snapshot/names.h"
#include "mason/snapshot/overlay.h"
#include "mason/snapshot/store.h"
#include "mason/sys/errors.h"

namespace mason::snapshot {

namespace {

using detail::Store;

std::string_view name_of(Kind kind) { return kind == Kind::overlay ? "overlay" : "copy"; }

util::Result<std::optional<Kind>> recorded_kind(const Store& store) {
  // (Not MASON_TRY_ASSIGN: GCC 12 warns that the moved optional<string>
  // may be used uninitialized.)
  const auto text = detail::read_small_file(store.fd(), std::string(detail::k_kind_file));
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<Kind>();
  if (**text == "overlay") return std::optional<Kind>(Kind::overlay);
  if (**text == "copy") return std::optional<Kind>(Kind::copy);
  return util::make_error(util::ErrorCode::corruption, "unknown snapshot kind " +
                                                           sys::quote(**text) + " in " +
                                                           sys::quote(store.path() + "/kind"));
}

// The kind for a fresh state dir.
util::Result<Kind> choose_kind(Store& store, KindChoice choice, std::string& why) {
  if (choice == KindChoice::copy) {
    why = "copy snapshotter: chosen";
    return Kind::copy;
  }
  auto probe = detail::probe_overlay(store);
  if (probe) {
    why = "overlay snapshotter: overlayfs works in " + store.path();
    return Kind::overlay;
  }
  if (choice == KindChoice::overlay)
    return std::unexpected(std::move(probe.error()).with_context("overlayfs unusable"));
  why =
      "copy snapshotter: overlayfs unusable in " + store.path() + ": " + probe.error().to_string();
  (void)detail::write_small_file(store.fd(), std::string(detail::k_kind_reason_file), why);
  return Kind::copy;
}

// Records `kind` unless another process recorded one first; the recorded one.
util::Result<Kind> record_kind(const Store& store, Kind kind) {
  auto written =
      detail::write_small_file(store.fd(), std::string(detail::k_kind_file), name_of(kind));
  if (written) return kind;
  if (written.error().sys_errno() != EEXIST) return std::unexpected(std::move(written.error()));
  MASON_TRY_ASSIGN(auto recorded, recorded_kind(store));
  return recorded.value_or(kind);
}

util::Result<Kind> settle_kind(Store& store, KindChoice choice, std::string& why) {
  MASON_TRY_ASSIGN(auto recorded, recorded_kind(store));
  if (!recorded) {
    auto chosen = choose_kind(store, choice, why);
    if (!chosen) return chosen;
    return record_kind(store, *chosen);
  }
  const Kind kind = *recorded;
  const bool conflict = (choice == KindChoice::overlay && kind != Kind::overlay) ||
                        (choice == KindChoice::copy && kind != Kind::copy);
  if (conflict)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "it holds " + std::string(name_of(kind)) + " snapshots");
  why = std::string(name_of(kind)) + " snapshotter: the kind " + store.path() + " was created with";
  if (kind == Kind::copy && choice == KindChoice::automatic) {
    auto reason = detail::read_small_file(store.fd(), std::string(detail::k_kind_reason_file));
    if (reason && *reason) why = **reason;
  }
  return kind;
}

} // namespace

util::Result<std::unique_ptr<Snapshotter>> open_snapshotter(const std::string& state_dir,
                                                            KindChoice choice, std::string* why,
                                                            const OverlayLimits& limits) {
  MASON_TRY_ASSIGN(auto store, Store::open(state_dir));
  std::string reason;
  auto kind = settle_kind(*store, choice, reason);
  if (!kind)
    return std::unexpected(
        std::move(kind.error()).with_context("open snapshot dir " + sys::quote(state_dir)));
  if (why != nullptr) *why = reason;
  if (*kind == Kind::overlay) return detail::make_overlay_snapshotter(std::move(store), limits);
  return detail::make_copy_snapshotter(std::move(store));
}

util::Result<std::unique_ptr<Snapshotter>> open_snapshotter(const std::string& state_dir,
                                                            KindChoice choice, std::string* why) {
  return open_snapshotter(state_dir, choice, why, OverlayLimits{});
}

} // namespace mason::snapshot
