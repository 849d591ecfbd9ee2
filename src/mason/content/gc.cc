// Garbage collection, disk usage and consistency check.
//
// gc, under the store lock held exclusively (so no commit, tag, reference
// or new writer is in flight, and none starts until it is done):
//   1. leases: a lease whose lock file can be flocked (or is missing) has
//      lost its process: drop its row (its lease_blobs go by cascade) and
//      its file; lock files without a row whose flock is free go too;
//   2. live set: in one read transaction, load image targets, the layer
//      blobs of build-cache records, the blobs of live leases and the
//      blob_refs edges; drop the cache layer rows whose blob file is gone
//      (nothing can serve them), and walk the edges breadth-first from the
//      remaining roots (cycles and missing children are harmless);
//   3. unlink every blobs/sha256/<hex> not in the live set, then fsync the
//      directory; remove the rows of removed blobs and of absent, dead ones;
//   4. ingest: remove temp files whose flock is free (writer gone) and that
//      are older than ingest_min_age.
// disk_usage runs step 2 without locks, once from image names and once from
// cache layers, to tell the two kinds of roots apart.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "mason/content/blob_kind.h"
#include "mason/content/store_state.h"

namespace mason::content {

using detail::fail;

namespace {

using DigestSet = std::unordered_set<std::string>;

// What the metadata says, read in one snapshot.
struct Graph {
  std::vector<std::string> image_roots;
  std::vector<std::string> cache_roots;                    // blobs of build-cache layers
  std::vector<std::pair<std::string, std::string>> leased; // lease id, digest
  std::unordered_map<std::string, std::vector<std::string>> children;
  std::unordered_map<std::string, std::string> media_types; // best known per digest
  std::vector<std::string> blob_rows;
};

// Runs `sql` and calls `row(stmt)` for each result row.
template <class F>
util::Status for_each_row(sql::Db& db, std::string_view sql, F&& row) {
  auto stmt = db.prepare(sql);
  if (!stmt) return fail(std::move(stmt));
  for (;;) {
    auto more = stmt->step();
    if (!more) return fail(std::move(more));
    if (!*more) return {};
    row(*stmt);
  }
}

void learn_media_type(Graph& g, const std::string& digest, const std::string& media_type) {
  if (!media_type.empty()) g.media_types.try_emplace(digest, media_type);
}

util::Result<Graph> load_graph(sql::Db& db) {
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::read);
  if (!txn) return fail(std::move(txn));
  Graph g;
  // Precedence of media types: the blob's own row, then edges, then images,
  // then cache layers.
  auto ok = for_each_row(db, "SELECT digest, COALESCE(media_type, '') FROM blobs", [&](auto& s) {
    g.blob_rows.push_back(s.text(0));
    learn_media_type(g, s.text(0), s.text(1));
  });
  if (ok)
    ok = for_each_row(db, "SELECT parent, child, media_type FROM blob_refs", [&](auto& s) {
      g.children[s.text(0)].push_back(s.text(1));
      learn_media_type(g, s.text(1), s.text(2));
    });
  if (ok)
    ok = for_each_row(db, "SELECT digest, media_type FROM images", [&](auto& s) {
      g.image_roots.push_back(s.text(0));
      learn_media_type(g, s.text(0), s.text(1));
    });
  if (ok)
    ok = for_each_row(db, "SELECT digest, media_type FROM cache_layers", [&](auto& s) {
      g.cache_roots.push_back(s.text(0));
      learn_media_type(g, s.text(0), s.text(1));
    });
  if (ok)
    ok = for_each_row(db, "SELECT lease_id, digest FROM lease_blobs",
                      [&](auto& s) { g.leased.emplace_back(s.text(0), s.text(1)); });
  if (!ok) return fail(std::move(ok));
  if (auto done = txn->commit(); !done) return fail(std::move(done));
  return g;
}

DigestSet reachable(const Graph& g, std::vector<std::string> roots) {
  DigestSet live;
  std::deque<std::string> queue(std::make_move_iterator(roots.begin()),
                                std::make_move_iterator(roots.end()));
  while (!queue.empty()) {
    std::string digest = std::move(queue.front());
    queue.pop_front();
    if (!live.insert(digest).second) continue;
    if (auto it = g.children.find(digest); it != g.children.end())
      queue.insert(queue.end(), it->second.begin(), it->second.end());
  }
  return live;
}

// A lease is alive while some open file description holds the flock on its
// file. Errors other than "missing" count as alive: gc must not guess.
bool lease_alive(int leases_fd, const std::string& id) {
  auto fd = fs::open_at(leases_fd, id, O_RDONLY);
  if (!fd) return fd.error().sys_errno() != ENOENT;
  auto got = fs::lock(fd->get(), fs::LockMode::exclusive, fs::LockWait::try_only, "lease");
  return !got || !*got;
}

util::Result<std::vector<std::string>> lease_ids(sql::Db& db) {
  std::vector<std::string> ids;
  auto ok = for_each_row(db, "SELECT id FROM leases", [&](auto& s) { ids.push_back(s.text(0)); });
  if (!ok) return fail(std::move(ok));
  return ids;
}

util::Status delete_leases(sql::Db& db, const std::vector<std::string>& ids) {
  return detail::run_per_item(
      db, "DELETE FROM leases WHERE id = ?1", ids,
      [](sql::Stmt& s, const std::string& id) { return s.bind(1, id).run(); });
}

// Step 1. Returns the ids of dead leases (dropped unless dry_run).
util::Result<std::set<std::string>> sweep_leases(detail::StoreState& state, bool dry_run) {
  auto ids = lease_ids(state.db);
  if (!ids) return fail(std::move(ids));
  std::set<std::string> dead;
  for (const auto& id : *ids)
    if (!lease_alive(state.leases_fd.get(), id)) dead.insert(id);
  auto files = fs::list_dir(state.leases_fd.get(), "leases/");
  if (!files) return fail(std::move(files));
  const std::set<std::string> rows(ids->begin(), ids->end());
  std::vector<std::string> orphans;
  for (const auto& name : *files)
    if (!rows.contains(name) && fs::is_hex(name, 32) && !lease_alive(state.leases_fd.get(), name))
      orphans.push_back(name);
  if (dry_run) return dead;
  if (auto ok = delete_leases(state.db, {dead.begin(), dead.end()}); !ok)
    return fail(std::move(ok));
  for (const auto& name : dead) ::unlinkat(state.leases_fd.get(), name.c_str(), 0);
  for (const auto& name : orphans) ::unlinkat(state.leases_fd.get(), name.c_str(), 0);
  return dead;
}

util::Status delete_blob_rows(sql::Db& db, const std::vector<std::string>& digests) {
  if (digests.empty()) return {};
  return detail::run_per_item(
      db, "DELETE FROM blobs WHERE digest = ?1", digests,
      [](sql::Stmt& s, const std::string& d) { return s.bind(1, d).run(); });
}

// Names in blobs/sha256 that look like blobs, with their sizes.
util::Result<std::vector<std::pair<std::string, std::int64_t>>> list_blobs(int blobs_fd) {
  auto names = fs::list_dir(blobs_fd, "blobs/sha256");
  if (!names) return fail(std::move(names));
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& name : *names) {
    struct stat st {};
    if (!fs::is_hex(name, 64) || ::fstatat(blobs_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    out.emplace_back(name, std::int64_t{st.st_size});
  }
  return out;
}

// Step 4.
util::Status sweep_ingest(const detail::StoreState& state, const GcOptions& options,
                          GcReport& report) {
  auto names = fs::list_dir(state.ingest_fd.get(), "ingest/");
  if (!names) return fail(std::move(names));
  const auto now = std::chrono::system_clock::now();
  for (const auto& name : *names) {
    auto fd = fs::open_at(state.ingest_fd.get(), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fd) continue; // vanished, or a symlink: not ours to judge
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto free = fs::lock(fd->get(), fs::LockMode::exclusive, fs::LockWait::try_only, "ingest file");
    if (!free || !*free) continue; // its writer is alive
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    if (now - mtime < options.ingest_min_age) continue;
    if (!options.dry_run && ::unlinkat(state.ingest_fd.get(), name.c_str(), 0) != 0) continue;
    ++report.ingest_files;
    report.ingest_bytes += st.st_size;
  }
  return {};
}

util::Status delete_cache_layer_rows(sql::Db& db, const std::vector<std::string>& digests) {
  if (digests.empty()) return {};
  return detail::run_per_item(
      db, "DELETE FROM cache_layers WHERE digest = ?1", digests,
      [](sql::Stmt& s, const std::string& d) { return s.bind(1, d).run(); });
}

// Steps 2 and 3.
util::Status collect_blobs(detail::StoreState& state, const std::set<std::string>& dead_leases,
                           bool dry_run, GcReport& report) {
  auto graph = load_graph(state.db);
  if (!graph) return fail(std::move(graph));
  auto blobs = list_blobs(state.blobs_fd.get());
  if (!blobs) return fail(std::move(blobs));
  DigestSet present;
  for (const auto& [hex, size] : *blobs) present.insert("sha256:" + hex);
  std::vector<std::string> roots = graph->image_roots;
  std::vector<std::string> vanished; // cache layers whose blob is gone
  for (const auto& digest : graph->cache_roots)
    (present.contains(digest) ? roots : vanished).push_back(digest);
  for (const auto& [lease, digest] : graph->leased)
    if (!dead_leases.contains(lease)) roots.push_back(digest);
  const DigestSet live = reachable(*graph, std::move(roots));
  if (!dry_run)
    if (auto ok = delete_cache_layer_rows(state.db, vanished); !ok) return ok;
  for (const auto& [hex, size] : *blobs) {
    const auto digest = image::Digest::sha256_hex(hex);
    if (live.contains(digest.str())) continue;
    if (!dry_run && ::unlinkat(state.blobs_fd.get(), hex.c_str(), 0) != 0 && errno != ENOENT)
      return fs::errno_error("delete blob " + digest.str(), errno);
    report.removed_blobs.push_back(digest);
    report.blob_bytes += size;
  }
  if (dry_run) return {};
  if (!report.removed_blobs.empty())
    if (auto ok = fs::sync(state.blobs_fd.get(), "blobs/sha256"); !ok) return ok;
  // Rows of dead blobs go, whether gc just unlinked the file or it was
  // already absent (a crash between a commit's transaction and its rename).
  std::vector<std::string> dead_rows;
  for (const auto& digest : graph->blob_rows)
    if (!live.contains(digest)) dead_rows.push_back(digest);
  return delete_blob_rows(state.db, dead_rows);
}

} // namespace

util::Result<GcReport> Store::gc(const GcOptions& options) {
  auto fail_with = [](util::Error e) { return std::unexpected(std::move(e).with_context("gc")); };
  auto lock = m_state->lock_store(fs::LockMode::exclusive);
  if (!lock) return fail_with(std::move(lock.error()));
  const std::lock_guard guard(m_state->mutex);
  GcReport report;
  auto dead = sweep_leases(*m_state, options.dry_run);
  if (!dead) return fail_with(std::move(dead.error()));
  report.stale_leases = static_cast<std::int64_t>(dead->size());
  if (auto ok = collect_blobs(*m_state, *dead, options.dry_run, report); !ok)
    return fail_with(std::move(ok.error()));
  if (auto ok = sweep_ingest(*m_state, options, report); !ok)
    return fail_with(std::move(ok.error()));
  std::ranges::sort(report.removed_blobs);
  return report;
}

// ---------------------------------------------------------------- disk usage

namespace {

Usage& bucket(DiskUsage& usage, BlobKind kind) {
  switch (kind) {
  case BlobKind::manifest: return usage.manifests;
  case BlobKind::config: return usage.configs;
  case BlobKind::layer: return usage.layers;
  case BlobKind::other: return usage.other;
  }
  return usage.other;
}

void add(Usage& usage, std::int64_t bytes) {
  ++usage.count;
  usage.bytes += bytes;
}

void add_files(int dirfd, const std::vector<std::string>& names, Usage& usage) {
  for (const auto& name : names) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      add(usage, st.st_size);
  }
}

} // namespace

util::Result<DiskUsage> Store::disk_usage() const {
  util::Result<Graph> graph = [&] {
    const std::lock_guard guard(m_state->mutex);
    return load_graph(m_state->db);
  }();
  if (!graph) return fail(std::move(graph));
  const DigestSet live = reachable(*graph, graph->image_roots);
  const DigestSet cached = reachable(*graph, graph->cache_roots);
  auto blobs = list_blobs(m_state->blobs_fd.get());
  if (!blobs) return fail(std::move(blobs));
  DiskUsage usage;
  for (const auto& [hex, size] : *blobs) {
    const std::string digest = "sha256:" + hex;
    if (!live.contains(digest)) {
      add(cached.contains(digest) ? usage.cache : usage.unreferenced, size);
      continue;
    }
    const auto it = graph->media_types.find(digest);
    add(bucket(usage, kind_of(it == graph->media_types.end() ? "" : it->second)), size);
  }
  auto ingest = fs::list_dir(m_state->ingest_fd.get(), "ingest/");
  if (!ingest) return fail(std::move(ingest));
  add_files(m_state->ingest_fd.get(), *ingest, usage.ingest);
  const std::string db = detail::k_db_name;
  add_files(m_state->root_fd.get(), {db, db + "-wal", db + "-shm"}, usage.metadata);
  return usage;
}

// ---------------------------------------------------------------- check

util::Status Store::check() const {
  std::vector<std::string> problems;
  std::vector<std::string> targets;
  struct CacheLayerRow {
    std::string key, variant, digest;
  };
  std::vector<CacheLayerRow> cache_layers;
  {
    const std::lock_guard guard(m_state->mutex);
    auto& db = m_state->db;
    auto ok = for_each_row(db, "PRAGMA integrity_check", [&](auto& s) {
      if (s.text(0) != "ok") problems.push_back("database: " + s.text(0));
    });
    if (ok)
      ok = for_each_row(db, "PRAGMA foreign_key_check", [&](auto& s) {
        problems.push_back("foreign key violation in table " + s.text(0));
      });
    if (ok)
      ok = for_each_row(db, "SELECT name, digest FROM images",
                        [&](auto& s) { targets.push_back(s.text(0) + " " + s.text(1)); });
    if (ok)
      ok = for_each_row(db, "SELECT key, variant, digest FROM cache_layers", [&](auto& s) {
        cache_layers.push_back({s.text(0), s.text(1), s.text(2)});
      });
    if (!ok) return ok;
  }
  for (const auto& target : targets) {
    const auto space = target.rfind(' ');
    auto digest = image::Digest::parse(std::string_view(target).substr(space + 1));
    if (!digest || !has_blob(*digest))
      problems.push_back("image " + target.substr(0, space) + ": blob " + target.substr(space + 1) +
                         " is missing");
  }
  for (const auto& row : cache_layers) {
    auto digest = image::Digest::parse(row.digest);
    if (!digest || !has_blob(*digest))
      problems.push_back("cache record " + row.key + ", layer " + row.variant + ": blob " +
                         row.digest + " is missing");
  }
  if (problems.empty()) return {};
  std::string message = "store " + m_state->root.string() + " is inconsistent";
  for (const auto& p : problems) message += "; " + p;
  return util::make_error(util::ErrorCode::corruption, std::move(message));
}

} // namespace mason::content
