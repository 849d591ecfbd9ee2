// Store opening, leases, and reading blobs.
//
// open: mkdir the layout (root, blobs/sha256, ingest, leases), fsync the
// directories that gained entries, hold an fd on each, open and migrate
// metadata.db.
//
// Leases: the first commit creates <root>/leases/<random id>, flocks it
// exclusively on an fd this Store keeps, then inserts the `leases` row;
// every committed blob gets a `lease_blobs` row in the same transaction as
// its blob row, before the rename that makes it visible. The kernel drops
// the flock when the process dies, which is how gc tells live leases from
// leases of killed processes (docs/store.md, "Locking").
//
// Reads go straight to <root>/blobs/sha256/<hex>; only verify_blob hashes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "mason/content/schema.h"
#include "mason/content/store_state.h"

namespace mason::content {

using detail::fail;

// ---------------------------------------------------------------- helpers

namespace detail {

util::Status check_digest(const image::Digest& digest) {
  if (digest.algorithm() != "sha256")
    return util::make_error(digest.algorithm().empty() ? util::ErrorCode::invalid_argument
                                                       : util::ErrorCode::unsupported,
                            "digest \"" + digest.str() + "\": only sha256 is supported");
  if (!fs::is_hex(digest.hex(), 64))
    return util::make_error(util::ErrorCode::invalid_argument,
                            "invalid digest \"" + digest.str() + "\"");
  return {};
}

util::Status check_token(std::string_view what, std::string_view value) {
  constexpr std::size_t k_max_token = 1024;
  const auto bad = [&](std::string_view why) {
    return util::make_error(util::ErrorCode::invalid_argument, std::string(what) + " \"" +
                                                                   std::string(value) +
                                                                   "\": " + std::string(why));
  };
  if (value.empty()) return bad("empty");
  if (value.size() > k_max_token) return bad("longer than 1024 bytes");
  const auto printable = [](char c) { return c > ' ' && c < '\x7f'; };
  if (!std::ranges::all_of(value, printable)) return bad("not printable ASCII without spaces");
  return {};
}

util::Result<image::Digest> parse_stored_digest(const std::string& text) {
  auto digest = image::Digest::parse(text);
  if (!digest)
    return util::make_error(util::ErrorCode::corruption, "metadata: bad stored digest " + text);
  return digest;
}

util::Result<std::int64_t> stat_blob(const StoreState& state, const image::Digest& digest) {
  if (auto ok = check_digest(digest); !ok) return fail(std::move(ok));
  struct stat st {};
  const std::string hex(digest.hex());
  if (::fstatat(state.blobs_fd.get(), hex.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fs::errno_error("blob " + digest.str(), errno);
  return std::int64_t{st.st_size};
}

util::Result<UniqueFd> lock_present_blob(const StoreState& state, const image::Descriptor& target) {
  if (target.media_type.empty())
    return util::make_error(util::ErrorCode::invalid_argument, "descriptor has no media type");
  auto lock = state.lock_store(fs::LockMode::shared);
  if (!lock) return std::unexpected(std::move(lock.error()));
  MASON_TRY_ASSIGN(auto size, stat_blob(state, target.digest));
  if (size != target.size)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "descriptor says " + std::to_string(target.size) + " bytes, blob " +
                                target.digest.str() + " has " + std::to_string(size));
  return lock;
}

Seconds now() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }
std::int64_t to_unix(Seconds t) { return t.time_since_epoch().count(); }
Seconds from_unix(std::int64_t t) { return Seconds(std::chrono::seconds(t)); }

util::Status upsert_blob_row(sql::Db& db, const image::Digest& digest, std::int64_t size,
                             std::string_view media_type) {
  auto stmt = db.prepare(
      "INSERT INTO blobs(digest, size, media_type, created_at, last_used) "
      "VALUES(?1, ?2, NULLIF(?3, ''), ?4, ?4) "
      "ON CONFLICT(digest) DO UPDATE SET size = excluded.size, last_used = excluded.last_used, "
      "media_type = COALESCE(blobs.media_type, excluded.media_type)");
  if (!stmt) return fail(std::move(stmt));
  return stmt->bind(1, digest.str())
      .bind(2, size)
      .bind(3, media_type)
      .bind(4, to_unix(now()))
      .run();
}

util::Result<UniqueFd> StoreState::lock_store(fs::LockMode mode) const {
  auto fd = fs::open_at(root_fd.get(), k_lock_name, O_RDWR | O_CREAT, 0644);
  if (!fd) return fail(std::move(fd));
  auto locked = fs::lock(fd->get(), mode, fs::LockWait::block, "store lock");
  if (!locked) return fail(std::move(locked));
  return std::move(*fd);
}

namespace {

// Creates the lease file, locked, and the lease row (in the caller's
// transaction). On failure nothing of the lease is kept.
util::Status create_lease(StoreState& state) {
  const std::string id = fs::random_hex(16);
  auto fd = fs::open_at(state.leases_fd.get(), id, O_RDWR | O_CREAT | O_EXCL, 0644);
  if (!fd) return fail(std::move(fd));
  auto remove_file = [&] { ::unlinkat(state.leases_fd.get(), id.c_str(), 0); };
  if (auto locked = fs::lock(fd->get(), fs::LockMode::exclusive, fs::LockWait::try_only, "lease");
      !locked || !*locked) {
    remove_file();
    return util::make_error(util::ErrorCode::internal, "lock new lease " + id);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  (void)fs::write_all(fd->get(), pid.data(), pid.size(), "lease"); // informational only
  auto stmt = state.db.prepare("INSERT INTO leases(id, pid, created_at) VALUES(?1, ?2, ?3)");
  if (!stmt) {
    remove_file();
    return fail(std::move(stmt));
  }
  if (auto ok = stmt->bind(1, id).bind(2, std::int64_t{::getpid()}).bind(3, to_unix(now())).run();
      !ok) {
    remove_file();
    return ok;
  }
  state.lease_id = id;
  state.lease_fd = std::move(*fd);
  return {};
}

} // namespace

util::Status StoreState::protect_blob(const image::Digest& digest, std::int64_t size,
                                      std::string_view media_type) {
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail(std::move(txn));
  const bool new_lease = lease_id.empty();
  if (new_lease) {
    if (auto ok = create_lease(*this); !ok) return ok;
  }
  auto undo_new_lease = [&] {
    if (!new_lease) return;
    ::unlinkat(leases_fd.get(), lease_id.c_str(), 0);
    lease_id.clear();
    lease_fd.reset();
  };
  auto stmt = db.prepare("INSERT OR IGNORE INTO lease_blobs(lease_id, digest) VALUES(?1, ?2)");
  util::Status ok =
      stmt ? stmt->bind(1, lease_id).bind(2, digest.str()).run() : fail(std::move(stmt));
  if (ok) ok = upsert_blob_row(db, digest, size, media_type);
  if (ok) ok = txn->commit();
  if (!ok) undo_new_lease();
  return ok;
}

util::Status StoreState::drop_lease() {
  if (lease_id.empty()) return {};
  auto stmt = db.prepare("DELETE FROM leases WHERE id = ?1");
  if (!stmt) return fail(std::move(stmt));
  if (auto ok = stmt->bind(1, lease_id).run(); !ok) return ok;
  ::unlinkat(leases_fd.get(), lease_id.c_str(), 0);
  lease_id.clear();
  lease_fd.reset(); // releases the flock
  return {};
}

} // namespace detail

std::int64_t DiskUsage::total_bytes() const {
  return manifests.bytes + configs.bytes + layers.bytes + other.bytes + cache.bytes +
         unreferenced.bytes + ingest.bytes + metadata.bytes;
}

// ---------------------------------------------------------------- opening

namespace {

util::Result<UniqueFd> open_dir(int dirfd, const std::string& name, mode_t mode, bool& created) {
  if (::mkdirat(dirfd, name.c_str(), mode) == 0)
    created = true;
  else if (errno != EEXIST)
    return fs::errno_error("create directory " + name, errno);
  return fs::open_at(dirfd, name, O_RDONLY | O_DIRECTORY);
}

util::Status make_root(const std::filesystem::path& root) {
  std::error_code ec;
  if (std::filesystem::is_directory(root, ec)) return {};
  std::filesystem::create_directories(root.parent_path(), ec);
  if (ec) return fs::errno_error("create " + root.parent_path().string(), ec.value());
  // The store holds everything a user pulled or built: private by default.
  if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST)
    return fs::errno_error("create " + root.string(), errno);
  return {};
}

util::Status open_layout(detail::StoreState& state) {
  if (auto ok = make_root(state.root); !ok) return ok;
  auto root_fd = fs::open_at(AT_FDCWD, state.root.string(), O_RDONLY | O_DIRECTORY);
  if (!root_fd) return fail(std::move(root_fd));
  state.root_fd = std::move(*root_fd);
  bool root_changed = false;
  bool blobs_changed = false;
  auto blobs = open_dir(state.root_fd.get(), k_blobs_dir, 0755, root_changed);
  if (!blobs) return fail(std::move(blobs));
  auto sha = open_dir(blobs->get(), "sha256", 0755, blobs_changed);
  auto ingest = open_dir(state.root_fd.get(), k_ingest_dir, 0755, root_changed);
  auto leases = open_dir(state.root_fd.get(), k_leases_dir, 0755, root_changed);
  for (auto* r : {&sha, &ingest, &leases})
    if (!*r) return fail(std::move(*r));
  state.blobs_fd = std::move(*sha);
  state.ingest_fd = std::move(*ingest);
  state.leases_fd = std::move(*leases);
  if (blobs_changed)
    if (auto ok = fs::sync(blobs->get(), "blobs/"); !ok) return ok;
  if (root_changed)
    if (auto ok = fs::sync(state.root_fd.get(), state.root.string()); !ok) return ok;
  return {};
}

} // namespace

Store::Store(std::unique_ptr<detail::StoreState> state) : m_state(std::move(state)) {}

Store::~Store() {
  if (!m_state) return;
  const std::lock_guard guard(m_state->mutex);
  // If the row cannot be deleted now, gc drops it later: the flock dies
  // with lease_fd either way.
  (void)m_state->drop_lease();
}

util::Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& root,
                                                 const StoreOptions& options) {
  const auto context = "open store " + root.string();
  if (root.empty())
    return util::make_error(util::ErrorCode::invalid_argument, context + ": empty path");
  auto state = std::make_unique<detail::StoreState>();
  std::error_code ec;
  state->root = std::filesystem::absolute(root, ec).lexically_normal();
  if (ec) return fs::errno_error(context, ec.value());
  if (auto ok = open_layout(*state); !ok)
    return std::unexpected(std::move(ok.error()).with_context(context));
  auto db = sql::Db::open((state->root / detail::k_db_name).string(), options.busy_timeout);
  if (!db) return std::unexpected(std::move(db.error()).with_context(context));
  state->db = std::move(*db);
  if (auto ok = migrate(state->db); !ok)
    return std::unexpected(std::move(ok.error()).with_context(context));
  return std::unique_ptr<Store>(new Store(std::move(state)));
}

const std::filesystem::path& Store::root() const { return m_state->root; }

util::Status Store::release_lease() {
  const std::lock_guard guard(m_state->mutex);
  return m_state->drop_lease();
}

// ---------------------------------------------------------------- reading

util::Result<UniqueFd> Store::open_blob(const image::Digest& digest) const {
  if (auto ok = detail::check_digest(digest); !ok) return fail(std::move(ok));
  auto fd = fs::open_at(m_state->blobs_fd.get(), std::string(digest.hex()), O_RDONLY);
  if (!fd) return fs::errno_error("open blob " + digest.str(), fd.error().sys_errno());
  return fd;
}

util::Result<std::string> Store::read_blob(const image::Digest& digest, std::int64_t limit) const {
  auto fd = open_blob(digest);
  if (!fd) return fail(std::move(fd));
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return fs::errno_error("stat blob " + digest.str(), errno);
  if (st.st_size > limit)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "read blob " + digest.str() + ": " + std::to_string(st.st_size) +
                                " bytes is more than the limit of " + std::to_string(limit));
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = fs::read_some(fd->get(), out.data() + got, out.size() - got, "blob " + digest.str());
    if (!n) return fail(std::move(n));
    if (*n == 0) break;
    got += *n;
  }
  if (got != out.size())
    return util::make_error(util::ErrorCode::corruption,
                            "read blob " + digest.str() + ": file shrank while being read");
  return out;
}

bool Store::has_blob(const image::Digest& digest) const {
  return detail::stat_blob(*m_state, digest).has_value();
}

util::Result<std::int64_t> Store::blob_size(const image::Digest& digest) const {
  return detail::stat_blob(*m_state, digest);
}

util::Status Store::verify_blob(const image::Digest& digest) const {
  auto fd = open_blob(digest);
  if (!fd) return fail(std::move(fd));
  util::Sha256 hash;
  std::string buffer(std::size_t{1} << 20, '\0');
  for (;;) {
    auto n = fs::read_some(fd->get(), buffer.data(), buffer.size(), "blob " + digest.str());
    if (!n) return fail(std::move(n));
    if (*n == 0) break;
    hash.update(buffer.data(), *n);
  }
  const auto actual = image::Digest::sha256_hex(hash.finish_hex());
  if (actual != digest)
    return util::make_error(util::ErrorCode::corruption,
                            "blob " + digest.str() + " is corrupted: its content has digest " +
                                actual.str());
  return {};
}

util::Status Store::delete_blob(const image::Digest& digest) {
  if (auto ok = detail::check_digest(digest); !ok) return ok;
  const std::string hex(digest.hex());
  if (::unlinkat(m_state->blobs_fd.get(), hex.c_str(), 0) != 0)
    return fs::errno_error("delete blob " + digest.str(), errno);
  // The blob's row (its references and sources go by cascade) and the
  // build-cache layers made of it: nothing may name a missing blob.
  const std::lock_guard guard(m_state->mutex);
  auto& db = m_state->db;
  auto txn = sql::Txn::begin(db, sql::Txn::Kind::write);
  if (!txn) return fail(std::move(txn));
  for (const char* sql :
       {"DELETE FROM blobs WHERE digest = ?1", "DELETE FROM cache_layers WHERE digest = ?1"}) {
    auto stmt = db.prepare(sql);
    if (!stmt) return fail(std::move(stmt));
    if (auto ok = stmt->bind(1, digest.str()).run(); !ok) return ok;
  }
  return txn->commit();
}

} // namespace mason::content
