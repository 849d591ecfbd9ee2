// Schema migrations. The version is read without a lock first (the common
// case is "already current"); otherwise a write transaction re-reads it,
// applies each missing step in order and sets user_version, all or nothing.
// Two processes opening a new store race harmlessly: the second one finds
// the version the first one committed.
#include "mason/content/schema.h"

#include <array>
#include <string>

namespace mason::content {
namespace {

// Index i holds the statements that produce version i + 1. Never edit a
// shipped step: append a new one.
constexpr std::array<const char*, k_schema_version> k_migrations = {
    // 1: blobs, images, references between blobs, leases.
    R"sql(
CREATE TABLE blobs (
  digest     TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  media_type TEXT,
  diff_id    TEXT,
  created_at INTEGER NOT NULL,
  last_used  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE images (
  name       TEXT PRIMARY KEY,
  digest     TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX images_by_digest ON images(digest);

CREATE TABLE blob_refs (
  parent     TEXT NOT NULL REFERENCES blobs(digest) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  child      TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  PRIMARY KEY (parent, position)
) WITHOUT ROWID;
CREATE INDEX blob_refs_by_child ON blob_refs(child);

CREATE TABLE leases (
  id         TEXT PRIMARY KEY,
  pid        INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE lease_blobs (
  lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
  digest   TEXT NOT NULL,
  PRIMARY KEY (lease_id, digest)
) WITHOUT ROWID;
CREATE INDEX lease_blobs_by_digest ON lease_blobs(digest);
)sql",
    // 2: where blobs were pulled from or pushed to ("host/repository"), for
    // cross-repository mounts on push.
    R"sql(
CREATE TABLE blob_sources (
  digest      TEXT NOT NULL REFERENCES blobs(digest) ON DELETE CASCADE,
  source      TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (digest, source)
) WITHOUT ROWID;
)sql",
    // 3: the build cache: a record per cache key (the snapshot a build step
    // produced), and the layer blobs made from it, which are GC roots.
    // `seq` orders the records of one lineage put within the same second.
    R"sql(
CREATE TABLE cache_records (
  key        TEXT PRIMARY KEY,
  snapshot   TEXT NOT NULL,
  lineage    TEXT NOT NULL DEFAULT '',
  info       TEXT NOT NULL DEFAULT '',
  size       INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_used  INTEGER NOT NULL,
  seq        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX cache_records_by_lineage ON cache_records(lineage, created_at, seq);
CREATE INDEX cache_records_by_snapshot ON cache_records(snapshot);

CREATE TABLE cache_layers (
  key        TEXT NOT NULL REFERENCES cache_records(key) ON DELETE CASCADE,
  variant    TEXT NOT NULL,
  digest     TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  diff_id    TEXT NOT NULL,
  PRIMARY KEY (key, variant)
) WITHOUT ROWID;
CREATE INDEX cache_layers_by_digest ON cache_layers(digest);
)sql",
    // 4: a layer's uncompressed size, kept when it is first known (build,
    // load, import, or the first `mason images` after a pull) so that
    // listing images never decompresses layers again.
    R"sql(
ALTER TABLE blobs ADD COLUMN unpacked_size INTEGER;
)sql",
};

util::Result<int> user_version(sql::Db& db) {
  MASON_TRY_ASSIGN(auto v, db.query_int64("PRAGMA user_version"));
  return static_cast<int>(v);
}

util::Status too_new(int found) {
  return util::make_error(util::ErrorCode::unsupported, "metadata.db has schema version " +
                                                            std::to_string(found) +
                                                            "; this mason knows versions up to " +
                                                            std::to_string(k_schema_version));
}

} // namespace

util::Status migrate(sql::Db& db) {
  MASON_TRY_ASSIGN(auto seen, user_version(db));
  if (seen == k_schema_version) return {};
  if (seen > k_schema_version) return too_new(seen);

  MASON_TRY_ASSIGN(auto txn, sql::Txn::begin(db, sql::Txn::Kind::write));
  auto current = user_version(db); // another process may have migrated meanwhile
  if (!current) return std::unexpected(std::move(current.error()));
  if (*current > k_schema_version) return too_new(*current);
  for (int v = *current; v < k_schema_version; ++v) {
    if (auto ok = db.exec(k_migrations[static_cast<std::size_t>(v)]); !ok)
      return std::unexpected(
          std::move(ok.error())
              .with_context("migrate metadata to version " + std::to_string(v + 1)));
  }
  if (auto ok = db.exec("PRAGMA user_version = " + std::to_string(k_schema_version)); !ok)
    return ok;
  return txn.commit();
}

} // namespace mason::content
