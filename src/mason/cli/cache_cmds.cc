// `mason cache ls` and `mason cache prune`: the build cache's records and
// cache mounts (gc/gc.h does the work).
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "mason/cli/commands.h"
#include "mason/content/layout.h"
#include "mason/frontend/dockerfile/instructions.h"
#include "mason/gc/gc.h"
#include "mason/util/strings.h"

namespace mason::cli {

namespace {

std::string ago(std::chrono::system_clock::time_point t) {
  const auto s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - t)
          .count();
  if (s < 60) return "just now";
  if (s < 3600) return fmt::format("{} minutes ago", s / 60);
  if (s < 86400) return fmt::format("{} hours ago", s / 3600);
  return fmt::format("{} days ago", s / 86400);
}

std::string one_line(std::string text, std::size_t width) {
  for (auto& c : text)
    if (c == '\n' || c == '\t') c = ' ';
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
}

struct Opened {
  std::unique_ptr<content::Store> store;
  std::unique_ptr<snapshot::Snapshotter> snapshots;
  std::string root;
};

util::Result<Opened> open_all(const GlobalOptions& g) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  std::string root = store->root().string();
  const auto kind = snapshot::KindChoice::automatic;
  MASON_TRY_ASSIGN(auto snapshots,
                   snapshot::open_snapshotter(content::StoreLayout(root).snapshots(false), kind));
  return Opened{std::move(store), std::move(snapshots), std::move(root)};
}

util::Status run_ls(const GlobalOptions& g) {
  MASON_TRY_ASSIGN(auto o, open_all(g));
  auto lock =
      gc::UsageLock::take(o.root, gc::UsageLock::Guards::build_cache, gc::UsageLock::Mode::shared);
  if (!lock) return std::unexpected(lock.error());
  MASON_TRY_ASSIGN(auto listing, gc::list_cache(*o.store, *o.snapshots, o.root));
  std::cout << fmt::format("{:<14} {:>10}  {:<16} {}\n", "ID", "SIZE", "LAST USED", "STEP");
  for (const auto& e : listing.records) {
    const auto id = e.record.key.substr(e.record.key.find(':') + 1, 12);
    std::cout << fmt::format("{:<14} {:>10}  {:<16} {}{}\n", id, util::human_size(e.record.size),
                             ago(e.record.last_used), one_line(e.step, 60),
                             e.present ? "" : " (snapshot gone)");
  }
  std::int64_t mount_bytes = 0;
  if (!listing.mounts.empty()) {
    std::cout << fmt::format("\n{:<40} {:>10}  {}\n", "CACHE MOUNT", "SIZE", "LAST USED");
    for (const auto& m : listing.mounts) {
      mount_bytes += m.bytes;
      std::cout << fmt::format("{:<40} {:>10}  {}\n", one_line(m.id, 40), util::human_size(m.bytes),
                               ago(m.last_used));
    }
  }
  std::cout << fmt::format("\nTotal: {} in {} records, {} in {} cache mounts\n",
                           util::human_size(listing.record_bytes), listing.records.size(),
                           util::human_size(mount_bytes), listing.mounts.size());
  return {};
}

struct PruneFlags {
  std::string keep_storage;
  std::vector<std::string> filters;
  bool dry_run = false, force = false, all = false;
};

util::Status run_prune(const GlobalOptions& g, const PruneFlags& f) {
  gc::PruneOptions options;
  options.dry_run = f.dry_run;
  if (!f.keep_storage.empty()) {
    auto bytes = gc::parse_size(f.keep_storage);
    if (!bytes) return std::unexpected(std::move(bytes.error()).with_context("--keep-storage"));
    options.keep_bytes = *bytes;
  }
  for (const auto& filter : f.filters) {
    const auto eq = filter.find('=');
    const auto name = filter.substr(0, eq);
    if (eq == std::string::npos || (name != "until" && name != "unused-for"))
      return util::make_error(util::ErrorCode::invalid_argument,
                              "--filter " + filter + ": supported is until=DURATION (e.g. 24h)");
    auto ns = frontend::dockerfile::parse_go_duration(filter.substr(eq + 1));
    if (!ns || *ns < 0)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "--filter " + filter + ": not a duration (e.g. 24h, 90m)");
    options.unused_for =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::nanoseconds(*ns));
  }
  MASON_TRY_ASSIGN(auto o, open_all(g));
  MASON_TRY_ASSIGN(auto lock, gc::UsageLock::take(o.root, gc::UsageLock::Guards::build_cache,
                                                  gc::UsageLock::Mode::exclusive));
  MASON_TRY_ASSIGN(auto report, gc::prune_cache(*o.store, *o.snapshots, o.root, options));
  std::cout << fmt::format("{}{} records, {} snapshots, {} cache mounts\n",
                           f.dry_run ? "Would remove: " : "Removed: ", report.records,
                           report.snapshots, report.mounts);
  std::cout << fmt::format("Total {} space: {}\n", f.dry_run ? "reclaimable" : "reclaimed",
                           util::human_size(report.bytes));
  return {};
}

} // namespace

void register_cache_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& g) {
  auto* cache = app.add_subcommand("cache", "Manage the build cache");
  cache->require_subcommand(1);
  auto* ls = cache->add_subcommand("ls", "List build cache records and cache mounts");
  ls->callback([&chosen, &g] { chosen.set([&g] { return run_ls(g); }); });
  auto f = std::make_shared<PruneFlags>();
  auto* prune = cache->add_subcommand(
      "prune", "Remove build cache records, their snapshots and layers, and cache mounts");
  prune->add_option("--keep-storage", f->keep_storage,
                    "Keep the most recently used records up to this size (e.g. 5GB)");
  prune->add_option("--filter", f->filters, "until=DURATION: only what was not used for that long");
  prune->add_flag("--dry-run", f->dry_run, "Only say what would be removed");
  prune->add_flag("-f,--force", f->force,
                  "Do not prompt (mason never prompts; for docker scripts)");
  prune->add_flag("-a,--all", f->all, "Everything not kept by the options (mason's default)");
  prune->callback([&chosen, &g, f] { chosen.set([&g, f] { return run_prune(g, *f); }); });
}

} // namespace mason::cli
