#include "mason/gc/gc.h"
#include "mason/content/layout.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fcntl.h>
#include <functional>
#include <map>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/cache/record_info.h"
#include "mason/exporter/local_image.h"
#include "mason/ops/image_source.h"
#include "mason/sys/dir.h"

namespace mason::gc {

namespace {

constexpr std::int64_t k_min_limit = 2'000'000'000;
constexpr std::string_view k_id_suffix = ".id";

std::string read_text(int dir_fd, const std::string& name) {
  sys::UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return {};
  std::string out(4096, '\0');
  const ssize_t n = ::read(fd.get(), out.data(), out.size());
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

std::string step_of(const std::string& info) {
  auto decoded = cache::RecordInfo::decode(info);
  return decoded ? decoded->step() : "";
}

util::Result<std::vector<CacheMount>> list_mounts(const std::string& root) {
  std::vector<CacheMount> out;
  sys::UniqueFd dir(::open(cache_mounts_dir(root).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) return out;
    return util::errno_error("open " + cache_mounts_dir(root), errno);
  }
  MASON_TRY_ASSIGN(auto names, sys::read_dir_names(dir.get()));
  for (const auto& name : names) {
    if (name.ends_with(k_id_suffix)) continue;
    MASON_TRY_ASSIGN(auto st, sys::lstat_at(dir.get(), name));
    if (!st || !S_ISDIR(st->st_mode)) continue;
    CacheMount m;
    m.path = cache_mounts_dir(root) + "/" + name;
    m.id = read_text(dir.get(), name + std::string(k_id_suffix));
    if (m.id.empty()) m.id = "(unknown: " + name + ")";
    auto used = sys::lstat_at(dir.get(), name + std::string(k_id_suffix));
    const struct stat& s = used && *used ? **used : *st;
    m.last_used = std::chrono::system_clock::time_point(std::chrono::seconds(s.st_mtim.tv_sec));
    MASON_TRY_ASSIGN(auto usage, sys::tree_usage(dir.get(), name));
    m.bytes = usage.bytes;
    out.push_back(std::move(m));
  }
  std::ranges::sort(out, [](const auto& a, const auto& b) { return a.last_used > b.last_used; });
  return out;
}

// Depth of each snapshot in its chain (0 for a root), for deepest-first removal.
int depth_of(const std::map<std::string, snapshot::SnapshotEntry>& all, const std::string& id) {
  int depth = 0;
  for (auto it = all.find(id); it != all.end() && it->second.parent && depth < 100000; ++depth)
    it = all.find(*it->second.parent);
  return depth;
}

struct Removal {
  std::vector<std::string> ids; // removed (dry run: removable)
  std::int64_t bytes = 0;       // their disk bytes
};

// Removes the snapshots of `all` that `doomed` picks, deepest first (a
// child before its parent), counting their disk bytes; one in use in this
// process is skipped. Unpacked image layers go through remove_layer. When
// any were picked, the size memos (export.h) are forgotten. dry_run: only
// counts.
util::Result<Removal>
remove_snapshots(snapshot::Snapshotter& snapshots,
                 const std::map<std::string, snapshot::SnapshotEntry>& all,
                 const std::function<bool(const snapshot::SnapshotEntry&)>& doomed,
                 const std::string& root, bool dry_run) {
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [id, s] : all)
    if (doomed(s)) order.emplace_back(depth_of(all, id), id);
  std::ranges::sort(order, std::greater<>());
  Removal out;
  for (const auto& [depth, id] : order) {
    auto used = snapshots.usage(id);
    const std::int64_t bytes = used ? used->bytes : 0;
    if (!dry_run) {
      const bool layer = all.at(id).unpacked;
      if (auto ok = layer ? snapshots.remove_layer(id) : snapshots.remove(id); !ok) {
        if (ok.error().code() == util::ErrorCode::unavailable) continue; // in use here
        return std::unexpected(
            std::move(ok.error())
                .with_context((layer ? "prune image layer " : "prune snapshot ") + id));
      }
    }
    out.ids.push_back(id);
    out.bytes += bytes;
  }
  if (!dry_run && !order.empty())
    for (const auto& file :
         {content::StoreLayout(root).tree_sizes(), content::StoreLayout(root).legacy_layer_sizes()})
      (void)::unlink(file.c_str());
  return out;
}

} // namespace

std::string cache_mounts_dir(const std::string& root) {
  return content::StoreLayout(root).cache_mounts();
}

util::Result<std::vector<CacheMount>> list_cache_mounts(const std::string& root) {
  return list_mounts(root);
}

util::Result<UsageLock> UsageLock::take(const std::string& root, Guards what, Mode mode,
                                        Wait wait) {
  const content::StoreLayout layout(root);
  const std::string dir = layout.cache_dir();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return util::errno_error("create " + dir, errno);
  const bool cache = what == Guards::build_cache;
  const std::string path = cache ? layout.cache_lock() : layout.layers_lock();
  sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return util::errno_error("open " + path, errno);
  int op = mode == Mode::shared ? LOCK_SH : LOCK_EX;
  if (wait == Wait::try_only) op |= LOCK_NB;
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK)
      return util::make_error(util::ErrorCode::unavailable,
                              cache ? "the build cache is in use" : "image layers are in use");
    return util::errno_error("lock " + path, errno);
  }
  return UsageLock(std::move(fd));
}

util::Result<CacheListing> list_cache(content::Store& store, snapshot::Snapshotter& snapshots,
                                      const std::string& root) {
  CacheListing out;
  MASON_TRY_ASSIGN(auto records, store.list_cache_records());
  for (auto& r : records) {
    MASON_TRY_ASSIGN(auto there, snapshots.exists(r.snapshot));
    out.record_bytes += r.size;
    CacheEntry e{std::move(r), "", there};
    e.step = step_of(e.record.info);
    out.records.push_back(std::move(e));
  }
  MASON_TRY_ASSIGN(auto mounts, list_mounts(root));
  out.mounts = std::move(mounts);
  return out;
}

util::Result<PruneReport> prune_cache(content::Store& store, snapshot::Snapshotter& snapshots,
                                      const std::string& root, const PruneOptions& options) {
  PruneReport report;
  auto records = store.list_cache_records(); // most recently used first
  if (!records) return std::unexpected(records.error());
  MASON_TRY_ASSIGN(auto listed, snapshots.list());
  std::map<std::string, snapshot::SnapshotEntry> all;
  for (auto& s : listed) all.emplace(s.id, std::move(s));

  const auto now = std::chrono::system_clock::now();
  auto old_enough = [&](content::Seconds last_used) {
    return !options.unused_for || last_used + *options.unused_for <= now;
  };
  // Records to keep: not old enough to go, or within the size budget
  // (most recently used first).
  std::set<std::string> keep_snapshots;
  std::vector<std::string> evict;
  std::int64_t kept_bytes = 0;
  for (const auto& r : *records) {
    bool keep = !old_enough(r.last_used);
    if (!keep && options.keep_bytes && kept_bytes + r.size <= *options.keep_bytes) keep = true;
    if (!keep || !all.contains(r.snapshot)) {
      evict.push_back(r.key);
      continue;
    }
    kept_bytes += r.size;
    for (auto it = all.find(r.snapshot); it != all.end();) {
      if (!keep_snapshots.insert(it->first).second) break;
      it = it->second.parent ? all.find(*it->second.parent) : all.end();
    }
  }
  report.records = static_cast<std::int64_t>(evict.size());
  if (!options.dry_run && !evict.empty()) MASON_TRY(store.delete_cache_records(evict));
  // Snapshots made by builds that nothing keeps.
  MASON_TRY_ASSIGN(auto removed, remove_snapshots(
                                     snapshots, all,
                                     [&](const snapshot::SnapshotEntry& s) {
                                       return !s.unpacked && !keep_snapshots.contains(s.id);
                                     },
                                     root, options.dry_run));
  report.snapshots = static_cast<std::int64_t>(removed.ids.size());
  report.bytes += removed.bytes;

  if (options.mounts && !options.keep_bytes) {
    MASON_TRY_ASSIGN(auto mounts, list_mounts(root));
    sys::UniqueFd dir(::open(cache_mounts_dir(root).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (const auto& m : mounts) {
      if (options.unused_for && m.last_used + *options.unused_for > now) continue;
      ++report.mounts;
      report.bytes += m.bytes;
      if (options.dry_run || !dir) continue;
      const std::string name = m.path.substr(m.path.rfind('/') + 1);
      MASON_TRY(sys::remove_all_at(dir.get(), name));
      (void)::unlinkat(dir.get(), (name + std::string(k_id_suffix)).c_str(), 0);
    }
  }

  content::GcOptions gc;
  gc.dry_run = options.dry_run;
  MASON_TRY_ASSIGN(auto freed, store.gc(gc));
  report.bytes += freed.blob_bytes;
  return report;
}

util::Status drop_dependents(content::Store& store, const std::string& key) {
  MASON_TRY_ASSIGN(auto records, store.list_cache_records());
  // record key -> the keys it was computed from
  std::vector<std::pair<std::string, std::vector<std::string>>> uses;
  for (const auto& r : records)
    if (auto info = cache::RecordInfo::decode(r.info)) uses.emplace_back(r.key, info->sources());
  std::set<std::string> changed{key};
  std::vector<std::string> doomed;
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [k, from] : uses) {
      if (changed.contains(k)) continue;
      if (std::ranges::any_of(from, [&](const auto& f) { return changed.contains(f); })) {
        changed.insert(k);
        doomed.push_back(k);
        grew = true;
      }
    }
  }
  if (doomed.empty()) return {};
  return store.delete_cache_records(doomed);
}

util::Result<LayerPruneReport> prune_image_layers(content::Store& store,
                                                  snapshot::Snapshotter& snapshots,
                                                  const std::string& root, bool dry_run) {
  auto images = exporter::list_local_images(store);
  if (!images) return std::unexpected(images.error().with_context("prune image layers"));
  MASON_TRY_ASSIGN(auto listed, snapshots.list());
  std::map<std::string, snapshot::SnapshotEntry> all;
  for (auto& s : listed) all.emplace(s.id, std::move(s));
  std::set<std::string> keep;
  for (const auto& img : *images)
    for (const auto& chain : ops::chain_ids(img.config.rootfs.diff_ids)) keep.insert(chain.str());
  for (const auto& [id, s] : all) { // what builds made sits on its layers
    if (s.unpacked) continue;
    for (auto it = all.find(id); it != all.end();) {
      if (it->second.unpacked && !keep.insert(it->first).second) break;
      it = it->second.parent ? all.find(*it->second.parent) : all.end();
    }
  }
  MASON_TRY_ASSIGN(auto removed, remove_snapshots(
                                     snapshots, all,
                                     [&](const snapshot::SnapshotEntry& s) {
                                       return s.unpacked && !keep.contains(s.id);
                                     },
                                     root, dry_run));
  return LayerPruneReport{std::move(removed.ids), removed.bytes};
}

std::int64_t cache_size_limit(const std::string& root, std::optional<std::int64_t> configured) {
  if (configured) return *configured;
  struct statvfs fs {};
  if (::statvfs(root.c_str(), &fs) != 0) return k_min_limit;
  const auto total =
      static_cast<std::int64_t>(fs.f_blocks) * static_cast<std::int64_t>(fs.f_frsize);
  return std::max(k_min_limit, total / 10);
}

util::Result<std::int64_t> parse_size(std::string_view text) {
  std::string lower;
  for (const char c : text)
    if (c != ' ') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, double> k_units[] = {
      {"tb", 1e12}, {"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3}, {"t", 1e12},
      {"g", 1e9},   {"m", 1e6},  {"k", 1e3},  {"b", 1}};
  double unit = 1;
  std::string_view number = lower;
  for (const auto& [suffix, factor] : k_units)
    if (number.ends_with(suffix)) {
      number.remove_suffix(suffix.size());
      unit = factor;
      break;
    }
  double value = 0;
  std::size_t used = 0;
  try {
    value = std::stod(std::string(number), &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (number.empty() || used != number.size() || value < 0 || !std::isfinite(value))
    return util::make_error(util::ErrorCode::invalid_argument,
                            fmt::format("invalid size \"{}\" (e.g. 10GB, 500MB, 1234)", text));
  return static_cast<std::int64_t>(value * unit);
}

util::Result<std::vector<std::unique_ptr<snapshot::Snapshotter>>>
existing_snapshotters(const std::string& root) {
  std::vector<std::unique_ptr<snapshot::Snapshotter>> out;
  for (const auto kind : {snapshot::KindChoice::automatic, snapshot::KindChoice::copy}) {
    const auto dir = content::StoreLayout(root).snapshots(kind == snapshot::KindChoice::copy);
    if (::access(dir.c_str(), F_OK) != 0) continue;
    MASON_TRY_ASSIGN(auto snapshots, snapshot::open_snapshotter(dir, kind));
    out.push_back(std::move(snapshots));
  }
  return out;
}

util::Result<StorePruneReport> prune_store(content::Store& store, bool dry_run) {
  StorePruneReport out;
  content::GcOptions opt;
  opt.dry_run = dry_run;
  MASON_TRY_ASSIGN(auto blobs, store.gc(opt));
  out.blobs = blobs.removed_blobs;
  out.bytes = blobs.total_bytes();
  const std::string root = store.root().string();
  auto lock = UsageLock::take(root, UsageLock::Guards::image_layers, UsageLock::Mode::exclusive,
                              UsageLock::Wait::try_only);
  if (!lock && lock.error().code() != util::ErrorCode::unavailable)
    return std::unexpected(lock.error());
  if (!lock) {
    out.layers_skipped = true;
    return out;
  }
  MASON_TRY_ASSIGN(auto all, existing_snapshotters(root));
  for (const auto& snapshots : all) {
    auto layers = prune_image_layers(store, *snapshots, root, dry_run);
    if (!layers) return std::unexpected(layers.error());
    out.layers.insert(out.layers.end(), layers->layers.begin(), layers->layers.end());
    out.bytes += layers->bytes;
  }
  return out;
}

} // namespace mason::gc
