// Build-cache records: SQL over cache_records and cache_layers (schema.cc,
// migration 3). A record names a snapshot, which the store does not manage;
// its layers name blobs, which are GC roots. set_cache_layer is the only
// operation here that makes a blob live: like tag, it takes the store lock
// shared and checks the blob is present under it, so it is ordered against
// gc. Every operation is one transaction under the Store's mutex, so other
// processes see a record with all of its layers or none of them.
#include "mason/content/store_state.h"

namespace mason::content {

using detail::fail;

namespace {

// The columns read_record expects, in order.
constexpr std::string_view k_record_columns =
    "key, snapshot, lineage, info, size, created_at, last_used";

CacheRecord read_record(const sql::Stmt& stmt) {
  CacheRecord record;
  record.key = stmt.text(0);
  record.snapshot = stmt.text(1);
  record.lineage = stmt.text(2);
  record.info = stmt.text(3);
  record.size = stmt.int64(4);
  record.created = detail::from_unix(stmt.int64(5));
  record.last_used = detail::from_unix(stmt.int64(6));
  return record;
}

// The record of the statement's first row, or nullopt when it has none.
util::Result<std::optional<CacheRecord>> first_record(sql::Stmt& stmt) {
  auto row = stmt.step();
  if (!row) return fail(std::move(row));
  if (!*row) return std::nullopt;
  return read_record(stmt);
}

util::Status check_record(const CacheRecord& record) {
  if (auto ok = detail::check_token("cache key", record.key); !ok) return ok;
  if (record.snapshot.empty())
    return util::make_error(util::ErrorCode::invalid_argument, "snapshot id is empty");
  if (record.size < 0)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "negative size " + std::to_string(record.size));
  return {};
}

util::Status run_for_key(sql::Db& db, std::string_view sql, std::string_view key) {
  auto stmt = db.prepare(sql);
  if (!stmt) return fail(std::move(stmt));
  return stmt->bind(1, key).run();
}

} // namespace

util::Status Store::put_cache_record(const CacheRecord& record) {
  const auto fail_with = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("put cache record " + record.key));
  };
  if (auto ok = check_record(record); !ok) return fail_with(std::move(ok.error()));
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail_with(std::move(txn.error()));
  // The old snapshot's layers do not describe the new one.
  if (auto ok = run_for_key(db, "DELETE FROM cache_layers WHERE key = ?1", record.key); !ok)
    return fail_with(std::move(ok.error()));
  // seq: one more than any record of the lineage, so that the latest of
  // several records put within one second is the last one put.
  auto stmt = db.prepare(
      "INSERT INTO cache_records(key, snapshot, lineage, info, size, created_at, last_used, seq) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, "
      "(SELECT COALESCE(MAX(seq), 0) + 1 FROM cache_records WHERE lineage = ?3)) "
      "ON CONFLICT(key) DO UPDATE SET snapshot = excluded.snapshot, lineage = excluded.lineage, "
      "info = excluded.info, size = excluded.size, created_at = excluded.created_at, "
      "last_used = excluded.last_used, seq = excluded.seq");
  if (!stmt) return fail_with(std::move(stmt.error()));
  stmt->bind(1, record.key).bind(2, record.snapshot).bind(3, record.lineage);
  stmt->bind(4, record.info).bind(5, record.size).bind(6, detail::to_unix(detail::now()));
  if (auto ok = stmt->run(); !ok) return fail_with(std::move(ok.error()));
  if (auto ok = txn->commit(); !ok) return fail_with(std::move(ok.error()));
  return {};
}

util::Result<std::optional<CacheRecord>> Store::find_cache_record(std::string_view key) const {
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare("SELECT " + std::string(k_record_columns) +
                                  " FROM cache_records WHERE key = ?1");
  if (!stmt) return fail(std::move(stmt));
  stmt->bind(1, key);
  auto record = first_record(*stmt);
  if (!record)
    return std::unexpected(record.error().with_context("find cache record " + std::string(key)));
  return record;
}

util::Status Store::mark_cache_records_used(std::span<const std::string> keys,
                                            std::chrono::seconds slack) {
  const auto fail_with = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("mark cache records used"));
  };
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  const auto now = detail::to_unix(detail::now());
  const auto before = now - slack.count();
  // Read first: a no-op rebuild right after a build writes nothing.
  auto probe = db.prepare("SELECT 1 FROM cache_records WHERE key = ?1 AND last_used < ?2");
  if (!probe) return fail_with(std::move(probe.error()));
  std::vector<std::string_view> stale;
  for (const auto& key : keys) {
    auto row = probe->bind(1, key).bind(2, before).step();
    if (!row) return fail_with(std::move(row.error()));
    if (*row) stale.push_back(key);
    probe->reset();
  }
  if (stale.empty()) return {};
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail_with(std::move(txn.error()));
  auto touch = db.prepare("UPDATE cache_records SET last_used = ?2 WHERE key = ?1");
  if (!touch) return fail_with(std::move(touch.error()));
  for (const auto key : stale) {
    if (auto ok = touch->bind(1, key).bind(2, now).run(); !ok)
      return fail_with(std::move(ok.error()));
    touch->reset();
  }
  return txn->commit();
}

util::Result<std::optional<CacheRecord>>
Store::latest_cache_record(std::string_view lineage) const {
  if (lineage.empty()) return std::nullopt;
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare("SELECT " + std::string(k_record_columns) +
                                  " FROM cache_records WHERE lineage = ?1 "
                                  "ORDER BY created_at DESC, seq DESC LIMIT 1");
  if (!stmt) return fail(std::move(stmt));
  stmt->bind(1, lineage);
  return first_record(*stmt);
}

util::Result<std::vector<CacheRecord>> Store::list_cache_records() const {
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare("SELECT " + std::string(k_record_columns) +
                                  " FROM cache_records "
                                  "ORDER BY last_used DESC, created_at DESC, key");
  if (!stmt) return fail(std::move(stmt));
  std::vector<CacheRecord> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return fail(std::move(row));
    if (!*row) return out;
    out.push_back(read_record(*stmt));
  }
}

util::Status Store::delete_cache_records(std::span<const std::string> keys) {
  if (keys.empty()) return {};
  const std::lock_guard guard(m_state->mutex);
  // The layers go by cascade.
  return detail::run_per_item(
      m_state->db, "DELETE FROM cache_records WHERE key = ?1", keys,
      [](sql::Stmt& s, const std::string& key) -> util::Status {
        if (auto ok = s.bind(1, key).run(); !ok)
          return std::unexpected(std::move(ok.error()).with_context("delete cache record " + key));
        return {};
      });
}

util::Status Store::set_cache_layer(std::string_view key, std::string_view variant,
                                    const CacheLayer& layer) {
  const auto fail_with = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("set cache layer " + std::string(variant) +
                                                     " of " + std::string(key)));
  };
  const auto& target = layer.layer;
  if (auto ok = detail::check_token("cache key", key); !ok) return fail_with(std::move(ok.error()));
  if (auto ok = detail::check_token("cache layer variant", variant); !ok)
    return fail_with(std::move(ok.error()));
  if (auto ok = detail::check_digest(layer.diff_id); !ok)
    return fail_with(std::move(ok.error()).with_context("diff_id"));
  auto lock = detail::lock_present_blob(*m_state, target);
  if (!lock) return fail_with(std::move(lock.error()));
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail_with(std::move(txn.error()));
  auto exists = db.prepare("SELECT 1 FROM cache_records WHERE key = ?1");
  if (!exists) return fail_with(std::move(exists.error()));
  auto found = exists->bind(1, key).step();
  if (!found) return fail_with(std::move(found.error()));
  if (!*found) return fail_with(util::Error(util::ErrorCode::not_found, "no such cache record"));
  exists->reset();
  if (auto ok = detail::upsert_blob_row(db, target.digest, target.size, target.media_type); !ok)
    return fail_with(std::move(ok.error()));
  auto learn = db.prepare("UPDATE blobs SET diff_id = COALESCE(diff_id, ?2), "
                          "unpacked_size = COALESCE(unpacked_size, ?3) WHERE digest = ?1");
  if (!learn) return fail_with(std::move(learn.error()));
  learn->bind(1, target.digest.str()).bind(2, layer.diff_id.str());
  if (layer.unpacked_size) learn->bind(3, *layer.unpacked_size);
  if (auto ok = learn->run(); !ok) return fail_with(std::move(ok.error()));
  auto stmt = db.prepare(
      "INSERT INTO cache_layers(key, variant, digest, media_type, size, diff_id) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key, variant) DO UPDATE SET "
      "digest = excluded.digest, media_type = excluded.media_type, size = excluded.size, "
      "diff_id = excluded.diff_id");
  if (!stmt) return fail_with(std::move(stmt.error()));
  stmt->bind(1, key).bind(2, variant).bind(3, target.digest.str()).bind(4, target.media_type);
  if (auto ok = stmt->bind(5, target.size).bind(6, layer.diff_id.str()).run(); !ok)
    return fail_with(std::move(ok.error()));
  if (auto ok = txn->commit(); !ok) return fail_with(std::move(ok.error()));
  return {};
}

util::Result<std::optional<CacheLayer>> Store::cache_layer(std::string_view key,
                                                           std::string_view variant) const {
  const auto fail_with = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("cache layer " + std::string(variant) +
                                                     " of " + std::string(key)));
  };
  CacheLayer layer;
  {
    const std::lock_guard guard(m_state->mutex);
    auto stmt = m_state->db.prepare("SELECT digest, media_type, size, diff_id FROM cache_layers "
                                    "WHERE key = ?1 AND variant = ?2");
    if (!stmt) return fail_with(std::move(stmt.error()));
    auto row = stmt->bind(1, key).bind(2, variant).step();
    if (!row) return fail_with(std::move(row.error()));
    if (!*row) return std::nullopt;
    auto digest = detail::parse_stored_digest(stmt->text(0));
    if (!digest) return fail_with(std::move(digest.error()));
    auto diff_id = detail::parse_stored_digest(stmt->text(3));
    if (!diff_id) return fail_with(std::move(diff_id.error()));
    layer.layer.digest = std::move(*digest);
    layer.layer.media_type = stmt->text(1);
    layer.layer.size = stmt->int64(2);
    layer.diff_id = std::move(*diff_id);
  }
  // gc never removes a cached layer's blob, but delete_blob or a hand may
  // have: a layer the caller cannot read is no layer.
  auto size = detail::stat_blob(*m_state, layer.layer.digest);
  if (!size) {
    if (size.error().code() == util::ErrorCode::not_found) return std::nullopt;
    return fail_with(std::move(size.error()));
  }
  if (*size != layer.layer.size) return std::nullopt;
  return layer;
}

} // namespace mason::content
