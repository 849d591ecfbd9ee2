// Internal to mason_content: the state shared by Store and its Writers,
// and helpers used by the store's .cc files. Not part of the interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "mason/content/fs.h"
#include "mason/content/layout.h"
#include "mason/content/sqlite.h"
#include "mason/content/store.h"
#include "mason/content/unique_fd.h"
#include "mason/image/digest.h"

namespace mason::content::detail {

inline constexpr const char* k_db_name = k_metadata_db;
inline constexpr const char* k_lock_name = k_store_lock;

struct StoreState {
  std::filesystem::path root;
  UniqueFd root_fd;
  UniqueFd blobs_fd;  // <root>/blobs/sha256
  UniqueFd ingest_fd; // <root>/ingest
  UniqueFd leases_fd; // <root>/leases

  std::mutex mutex; // guards everything below
  sql::Db db;
  std::string lease_id; // empty: no lease yet
  UniqueFd lease_fd;    // holds LOCK_EX on <root>/leases/<lease_id> while the lease lives

  // Opens <root>/lock on a fresh open file description (so that threads of
  // one process exclude each other too) and flocks it, blocking. Shared:
  // commits, tags, new writers; exclusive: gc. Never call with `mutex` held.
  util::Result<UniqueFd> lock_store(fs::LockMode mode) const;

  // With `mutex` held and the store lock held shared: records that `digest`
  // (size bytes) is in the store and leased to this Store, creating the
  // lease on first use. One write transaction.
  util::Status protect_blob(const image::Digest& digest, std::int64_t size,
                            std::string_view media_type);
  // With `mutex` held: deletes the lease row, then its lock file.
  util::Status drop_lease();
};

// sha256 with 64 lower-case hex digits, else invalid_argument/unsupported.
util::Status check_digest(const image::Digest& digest);
// Names chosen by callers (image names, cache keys, cache layer variants):
// not empty, printable ASCII without spaces, at most 1024 bytes; else
// invalid_argument naming `what` and the value.
util::Status check_token(std::string_view what, std::string_view value);
// A digest read back from the database: corruption if unparsable.
util::Result<image::Digest> parse_stored_digest(const std::string& text);
// Size of the blob file: not_found if absent.
util::Result<std::int64_t> stat_blob(const StoreState& state, const image::Digest& digest);
// For a descriptor the caller is about to record (tag, cache layer): its
// media type is set and its blob is present with its size, checked under
// the store lock taken shared (returned: hold it until the record is
// written, so that GC cannot remove the blob in between).
util::Result<UniqueFd> lock_present_blob(const StoreState& state, const image::Descriptor& target);
Seconds now();
std::int64_t to_unix(Seconds t);
Seconds from_unix(std::int64_t t);
// Inserts the blob's row or refreshes size, last_used and an unknown
// media type. Inside the caller's transaction.
util::Status upsert_blob_row(sql::Db& db, const image::Digest& digest, std::int64_t size,
                             std::string_view media_type);

template <class T>
std::unexpected<util::Error> fail(util::Result<T>&& r) {
  return std::unexpected(std::move(r.error()));
}

// Runs `sql` once per item of `items`, in one write transaction:
// `each(stmt, item)` binds the item's parameters and runs the statement.
// The first error rolls everything back.
template <class Items, class Each>
util::Status run_per_item(sql::Db& db, const char* sql, const Items& items, Each each) {
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail(std::move(txn));
  auto stmt = db.prepare(sql);
  if (!stmt) return fail(std::move(stmt));
  for (const auto& item : items) {
    stmt->reset();
    MASON_TRY(each(*stmt, item));
  }
  return txn->commit();
}

} // namespace mason::content::detail
