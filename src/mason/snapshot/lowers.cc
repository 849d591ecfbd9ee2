// Lowerdir lists with flattening (see lowers.h).
//
// The flatten step is cut to half of what fits one mount, so a flattened
// directory plus one step of layers always mounts. Flattened directories
// are counted from the base: the bottom F layers of every chain over the
// same base give the same "flat/<short>" name.
#include "mason/snapshot/lowers.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>

#include "mason/snapshot/base.h"
#include "mason/snapshot/mount.h"
#include "mason/snapshot/names.h"
#include "mason/snapshot/tree_copy.h"
#include "mason/sys/dir.h"
#include "mason/sys/errors.h"

namespace mason::snapshot::detail {

namespace {

constexpr std::size_t k_entry_bytes = 2 + k_link_chars + 1; // "l/<short>:"
constexpr std::size_t k_reserve_guess = 256;                // options, upper and work paths

std::string link_path(const SnapshotInfo& info) {
  return std::string(k_link_dir) + "/" + info.link;
}

} // namespace

LowerPlanner::LowerPlanner(Store& store, const OverlayLimits& limits)
    : m_store(store), m_limits(limits) {
  const std::size_t fit = limits.mount_data_max > k_reserve_guess
                              ? (limits.mount_data_max - k_reserve_guess) / k_entry_bytes
                              : 2;
  const std::size_t capacity = std::min(fit, limits.max_lowers);
  m_step = std::max<std::size_t>(2, std::min(limits.flatten_step, capacity / 2));
}

bool LowerPlanner::fits(const std::vector<std::string>& lowers, std::size_t reserved) const {
  return lowers.size() <= m_limits.max_lowers &&
         overlay_options({lowers, "", ""}).size() + reserved <= m_limits.mount_data_max;
}

util::Result<std::vector<std::string>> LowerPlanner::lowers(const std::string& top,
                                                            std::size_t reserved) {
  MASON_TRY_ASSIGN(auto chain, m_store.chain(top));
  const std::size_t n = chain.size();
  for (std::size_t step = 0;; step += m_step) {
    const std::size_t flat_count = std::min(step, n);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n - flat_count; ++i) out.push_back(link_path((chain)[i]));
    if (flat_count > 0) out.push_back(std::string(k_flat_dir) + "/" + (chain)[n - flat_count].link);
    if (!fits(out, reserved) && flat_count < n) continue;
    if (flat_count > 0) MASON_TRY(flat(chain, flat_count));
    return out;
  }
}

util::Result<std::string> LowerPlanner::flat(const std::vector<SnapshotInfo>& chain,
                                             std::size_t count) {
  const SnapshotInfo& top = chain[chain.size() - count];
  const std::string dest = std::string(k_flat_dir) + "/" + top.link;
  auto key = m_store.lock_key(dest);
  struct stat st {};
  if (::fstatat(m_store.fd(), dest.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return dest;
  if (auto made = make_flat(chain, count, dest); !made)
    return std::unexpected(std::move(made.error())
                               .with_context("flatten the bottom " + std::to_string(count) +
                                             " layers of a chain below " + sys::quote(top.id)));
  return dest;
}

util::Status LowerPlanner::make_flat(const std::vector<SnapshotInfo>& chain, std::size_t count,
                                     const std::string& dest) {
  const std::size_t n = chain.size();
  const std::size_t below = ((count - 1) / m_step) * m_step; // layers of the flat dir below
  std::vector<std::string> lowers;
  for (std::size_t i = n - count; i < n - below; ++i) lowers.push_back(link_path(chain[i]));
  if (below > 0) {
    MASON_TRY_ASSIGN(auto sub, flat(chain, below));
    lowers.push_back(sub);
  }
  if (lowers.size() == 1) lowers.emplace_back(k_empty_dir);
  MASON_TRY_ASSIGN(auto src, m_store.make_temp("flatsrc"));
  MASON_TRY_ASSIGN(auto mount, ScopedMount::overlay(m_store.fd(), src.path(), {lowers, "", ""}));
  MASON_TRY_ASSIGN(auto out, m_store.make_temp("flat"));
  MASON_TRY_ASSIGN(auto src_fd, open_dir(src.path()));
  MASON_TRY(copy_tree(src_fd.get(), out.fd()));
  src_fd.reset();
  if (auto st = mount.unmount(); !st) return st;
  auto published = m_store.publish(out, dest); // false: made meanwhile by another process
  if (!published) return std::unexpected(std::move(published.error()));
  return {};
}

} // namespace mason::snapshot::detail
