// Image names, blob metadata and references between blobs: SQL over the
// tables of schema.cc. Every operation that can make a blob live (tag,
// record_references, annotate_blob) takes the store lock shared and checks
// the blob is present under it, so it is ordered against gc: either gc ran
// first and the operation reports not_found, or the new row exists before
// gc computes what is live. Reads take no store lock.
#include "mason/content/store_state.h"

namespace mason::content {

using detail::fail;

namespace {

constexpr std::size_t k_max_name = 1024;

util::Status check_name(std::string_view name) { return detail::check_token("image name", name); }

util::Result<image::Digest> parse_stored(const std::string& text) {
  return detail::parse_stored_digest(text);
}

} // namespace

// ---------------------------------------------------------------- blob metadata

util::Status Store::annotate_blob(const image::Digest& digest, const BlobAnnotation& annotation) {
  if (annotation.diff_id)
    if (auto ok = detail::check_digest(*annotation.diff_id); !ok) return ok;
  auto lock = m_state->lock_store(fs::LockMode::shared);
  if (!lock) return fail(std::move(lock));
  auto size = detail::stat_blob(*m_state, digest);
  if (!size) return std::unexpected(std::move(size.error()).with_context("annotate blob"));
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail(std::move(txn));
  if (auto ok = detail::upsert_blob_row(db, digest, *size, ""); !ok) return ok;
  auto stmt = db.prepare("UPDATE blobs SET media_type = COALESCE(?2, media_type), "
                         "diff_id = COALESCE(?3, diff_id), "
                         "unpacked_size = COALESCE(?4, unpacked_size) WHERE digest = ?1");
  if (!stmt) return fail(std::move(stmt));
  stmt->bind(1, digest.str());
  if (annotation.media_type) stmt->bind(2, *annotation.media_type);
  if (annotation.diff_id) stmt->bind(3, annotation.diff_id->str());
  if (annotation.unpacked_size) stmt->bind(4, *annotation.unpacked_size);
  if (auto ok = stmt->run(); !ok) return ok;
  return txn->commit();
}

util::Result<BlobInfo> Store::blob_info(const image::Digest& digest) const {
  if (auto ok = detail::check_digest(digest); !ok) return fail(std::move(ok));
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare(
      "SELECT size, media_type, diff_id, created_at, last_used, unpacked_size FROM blobs "
      "WHERE digest = ?1");
  if (!stmt) return fail(std::move(stmt));
  auto row = stmt->bind(1, digest.str()).step();
  if (!row) return fail(std::move(row));
  if (!*row)
    return util::make_error(util::ErrorCode::not_found, "no metadata for blob " + digest.str());
  BlobInfo info;
  info.digest = digest;
  info.size = stmt->int64(0);
  info.media_type = stmt->text(1);
  if (!stmt->is_null(2)) {
    auto diff_id = parse_stored(stmt->text(2));
    if (!diff_id) return fail(std::move(diff_id));
    info.diff_id = *diff_id;
  }
  info.created = detail::from_unix(stmt->int64(3));
  info.last_used = detail::from_unix(stmt->int64(4));
  if (!stmt->is_null(5)) info.unpacked_size = stmt->int64(5);
  return info;
}

util::Status Store::mark_used(std::span<const image::Digest> digests) {
  const std::lock_guard guard(m_state->mutex);
  const auto now = detail::to_unix(detail::now());
  return detail::run_per_item(
      m_state->db, "UPDATE blobs SET last_used = ?2 WHERE digest = ?1", digests,
      [&](sql::Stmt& s, const image::Digest& d) { return s.bind(1, d.str()).bind(2, now).run(); });
}

// ---------------------------------------------------------------- blob sources

namespace {

util::Status check_source(std::string_view source) {
  const auto slash = source.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == source.size() ||
      source.size() > k_max_name || source.find_first_of(" \t\n") != std::string_view::npos)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "blob source \"" + std::string(source) + "\": not host/repository");
  return {};
}

} // namespace

util::Status Store::record_blob_source(const image::Digest& digest,
                                       std::string_view registry_repo) const {
  const auto context = "record source " + std::string(registry_repo) + " of " + digest.str();
  if (auto ok = check_source(registry_repo); !ok)
    return std::unexpected(std::move(ok.error()).with_context(context));
  auto lock = m_state->lock_store(fs::LockMode::shared);
  if (!lock) return fail(std::move(lock));
  auto size = detail::stat_blob(*m_state, digest);
  if (!size) return std::unexpected(std::move(size.error()).with_context(context));
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail(std::move(txn));
  if (auto ok = detail::upsert_blob_row(db, digest, *size, ""); !ok) return ok;
  auto stmt = db.prepare("INSERT INTO blob_sources(digest, source, recorded_at) "
                         "VALUES(?1, ?2, ?3) ON CONFLICT(digest, source) "
                         "DO UPDATE SET recorded_at = excluded.recorded_at");
  if (!stmt) return fail(std::move(stmt));
  stmt->bind(1, digest.str()).bind(2, registry_repo);
  if (auto ok = stmt->bind(3, detail::to_unix(detail::now())).run(); !ok) return ok;
  return txn->commit();
}

util::Result<std::vector<std::string>> Store::blob_sources(const image::Digest& digest) const {
  if (auto ok = detail::check_digest(digest); !ok) return fail(std::move(ok));
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare("SELECT source FROM blob_sources WHERE digest = ?1 "
                                  "ORDER BY recorded_at DESC, source");
  if (!stmt) return fail(std::move(stmt));
  stmt->bind(1, digest.str());
  std::vector<std::string> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return fail(std::move(row));
    if (!*row) return out;
    out.push_back(stmt->text(0));
  }
}

// ---------------------------------------------------------------- references

namespace {

util::Status insert_references(sql::Db& db, const image::Digest& parent,
                               std::span<const image::Descriptor> children) {
  auto clear = db.prepare("DELETE FROM blob_refs WHERE parent = ?1");
  if (!clear) return fail(std::move(clear));
  if (auto ok = clear->bind(1, parent.str()).run(); !ok) return ok;
  auto insert = db.prepare("INSERT INTO blob_refs(parent, position, child, media_type, size) "
                           "VALUES(?1, ?2, ?3, ?4, ?5)");
  auto learn = db.prepare("UPDATE blobs SET media_type = ?2 "
                          "WHERE digest = ?1 AND media_type IS NULL AND ?2 <> ''");
  if (!insert) return fail(std::move(insert));
  if (!learn) return fail(std::move(learn));
  std::int64_t position = 0;
  for (const auto& child : children) {
    insert->reset();
    insert->bind(1, parent.str()).bind(2, position++).bind(3, child.digest.str());
    if (auto ok = insert->bind(4, child.media_type).bind(5, child.size).run(); !ok) return ok;
    learn->reset();
    if (auto ok = learn->bind(1, child.digest.str()).bind(2, child.media_type).run(); !ok)
      return ok;
  }
  return {};
}

} // namespace

util::Status Store::record_references(const image::Digest& parent,
                                      std::span<const image::Descriptor> children) {
  const auto context = "record references of " + parent.str();
  for (const auto& child : children)
    if (auto ok = detail::check_digest(child.digest); !ok)
      return std::unexpected(std::move(ok.error()).with_context(context));
  auto lock = m_state->lock_store(fs::LockMode::shared);
  if (!lock) return fail(std::move(lock));
  auto size = detail::stat_blob(*m_state, parent);
  if (!size) return std::unexpected(std::move(size.error()).with_context(context));
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail(std::move(txn));
  if (auto ok = detail::upsert_blob_row(db, parent, *size, ""); !ok) return ok;
  if (auto ok = insert_references(db, parent, children); !ok)
    return std::unexpected(std::move(ok.error()).with_context(context));
  return txn->commit();
}

namespace {

// The (digest, media type, size) rows `sql` selects for `digest` (bound to ?1).
util::Result<std::vector<image::Descriptor>> descriptor_rows(sql::Db& db, std::string_view sql,
                                                             const image::Digest& digest) {
  if (auto ok = detail::check_digest(digest); !ok) return fail(std::move(ok));
  auto stmt = db.prepare(sql);
  if (!stmt) return fail(std::move(stmt));
  stmt->bind(1, digest.str());
  std::vector<image::Descriptor> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return fail(std::move(row));
    if (!*row) break;
    auto parsed = parse_stored(stmt->text(0));
    if (!parsed) return fail(std::move(parsed));
    image::Descriptor d;
    d.digest = *parsed;
    d.media_type = stmt->text(1);
    d.size = stmt->int64(2);
    out.push_back(std::move(d));
  }
  return out;
}

} // namespace

util::Result<std::vector<image::Descriptor>> Store::references(const image::Digest& parent) const {
  const std::lock_guard guard(m_state->mutex);
  return descriptor_rows(m_state->db,
                         "SELECT child, media_type, size FROM blob_refs "
                         "WHERE parent = ?1 ORDER BY position",
                         parent);
}

util::Result<std::vector<image::Digest>> Store::referrers(const image::Digest& child) const {
  const std::lock_guard guard(m_state->mutex);
  MASON_TRY_ASSIGN(auto rows, descriptor_rows(m_state->db,
                                              "SELECT DISTINCT parent, '', 0 FROM blob_refs "
                                              "WHERE child = ?1 ORDER BY parent",
                                              child));
  std::vector<image::Digest> out;
  out.reserve(rows.size());
  for (const auto& d : rows) out.push_back(d.digest);
  return out;
}

// ---------------------------------------------------------------- image names

util::Status Store::tag(std::string_view name, const image::Descriptor& target) {
  const auto context = "tag " + std::string(name);
  const auto fail_with = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context(context));
  };
  if (auto ok = check_name(name); !ok) return fail_with(std::move(ok.error()));
  auto lock = detail::lock_present_blob(*m_state, target);
  if (!lock) return fail_with(std::move(lock.error()));
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail_with(std::move(txn.error()));
  if (auto ok = detail::upsert_blob_row(db, target.digest, target.size, target.media_type); !ok)
    return fail_with(std::move(ok.error()));
  auto stmt = db.prepare(
      "INSERT INTO images(name, digest, media_type, size, created_at) VALUES(?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(name) DO UPDATE SET created_at = CASE WHEN images.digest = excluded.digest "
      "THEN images.created_at ELSE excluded.created_at END, digest = excluded.digest, "
      "media_type = excluded.media_type, size = excluded.size");
  if (!stmt) return fail_with(std::move(stmt.error()));
  stmt->bind(1, name).bind(2, target.digest.str()).bind(3, target.media_type);
  if (auto ok = stmt->bind(4, target.size).bind(5, detail::to_unix(detail::now())).run(); !ok)
    return fail_with(std::move(ok.error()));
  if (auto ok = txn->commit(); !ok) return fail_with(std::move(ok.error()));
  return {};
}

util::Status Store::untag(std::string_view name) {
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare("DELETE FROM images WHERE name = ?1");
  if (!stmt) return fail(std::move(stmt));
  if (auto ok = stmt->bind(1, name).run(); !ok) return ok;
  if (m_state->db.changes() == 0)
    return util::make_error(util::ErrorCode::not_found,
                            "untag " + std::string(name) + ": no such image");
  return {};
}

namespace {

util::Result<ImageRecord> read_image(const sql::Stmt& stmt) {
  ImageRecord record;
  record.name = stmt.text(0);
  auto digest = parse_stored(stmt.text(1));
  if (!digest) return fail(std::move(digest));
  record.target.digest = *digest;
  record.target.media_type = stmt.text(2);
  record.target.size = stmt.int64(3);
  record.created = detail::from_unix(stmt.int64(4));
  return record;
}

} // namespace

util::Result<image::Descriptor> Store::resolve(std::string_view name) const {
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare(
      "SELECT name, digest, media_type, size, created_at FROM images WHERE name = ?1");
  if (!stmt) return fail(std::move(stmt));
  auto row = stmt->bind(1, name).step();
  if (!row) return fail(std::move(row));
  if (!*row)
    return util::make_error(util::ErrorCode::not_found,
                            "image " + std::string(name) + " not found");
  auto record = read_image(*stmt);
  if (!record) return fail(std::move(record));
  return std::move(record->target);
}

util::Result<std::vector<ImageRecord>> Store::list_images() const {
  const std::lock_guard guard(m_state->mutex);
  auto stmt = m_state->db.prepare(
      "SELECT name, digest, media_type, size, created_at FROM images ORDER BY name");
  if (!stmt) return fail(std::move(stmt));
  std::vector<ImageRecord> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return fail(std::move(row));
    if (!*row) return out;
    auto record = read_image(*stmt);
    if (!record) return fail(std::move(record));
    out.push_back(std::move(*record));
  }
}

} // namespace mason::content
