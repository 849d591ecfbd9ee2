// SQLite owners. Configuration that needs a lock (switching to WAL on a new
// file) can return SQLITE_BUSY without consulting the busy handler while
// another process creates the same database, so those pragmas are retried
// until the busy timeout has passed. Write transactions use BEGIN IMMEDIATE:
// a deferred transaction that upgrades to writing can fail with BUSY at once
// (the busy handler is skipped to avoid deadlock), IMMEDIATE waits instead.
#include "mason/content/sqlite.h"

#include <sqlite3.h>

#include <thread>
#include <utility>

namespace mason::content::sql {

util::Error error_from(sqlite3* db, int rc, std::string_view what) {
  util::ErrorCode code = util::ErrorCode::internal;
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
  case SQLITE_FULL:
  case SQLITE_CANTOPEN:
  case SQLITE_READONLY:
  case SQLITE_PERM:
  case SQLITE_IOERR: code = util::ErrorCode::unavailable; break;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB: code = util::ErrorCode::corruption; break;
  default: break;
  }
  // Statements are long; the first line or so identifies them.
  constexpr std::size_t k_max_what = 72;
  std::string message = "metadata: " + std::string(what.substr(0, k_max_what));
  if (what.size() > k_max_what) message += "...";
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return util::Error(code, std::move(message));
}

Stmt::~Stmt() { sqlite3_finalize(m_stmt); }

Stmt::Stmt(Stmt&& other) noexcept
    : m_stmt(std::exchange(other.m_stmt, nullptr)), m_bind_rc(other.m_bind_rc),
      m_texts(std::move(other.m_texts)) {}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(m_stmt);
    m_stmt = std::exchange(other.m_stmt, nullptr);
    m_bind_rc = other.m_bind_rc;
    m_texts = std::move(other.m_texts);
  }
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view text) {
  const std::string& copy = m_texts.emplace_back(text);
  // The copy outlives the statement's use of it, so SQLite need not copy
  // again (a null destructor is SQLITE_STATIC).
  const int rc = sqlite3_bind_text64(m_stmt, index, copy.data(), copy.size(), nullptr, SQLITE_UTF8);
  if (m_bind_rc == SQLITE_OK) m_bind_rc = rc;
  return *this;
}

Stmt& Stmt::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(m_stmt, index, value);
  if (m_bind_rc == SQLITE_OK) m_bind_rc = rc;
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  const int rc = sqlite3_bind_null(m_stmt, index);
  if (m_bind_rc == SQLITE_OK) m_bind_rc = rc;
  return *this;
}

util::Result<bool> Stmt::step() {
  sqlite3* db = sqlite3_db_handle(m_stmt);
  if (m_bind_rc != SQLITE_OK) return std::unexpected(error_from(db, m_bind_rc, "bind"));
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(error_from(db, rc, sqlite3_sql(m_stmt)));
}

util::Status Stmt::run() {
  for (;;) {
    MASON_TRY_ASSIGN(auto row, step());
    if (!row) return {};
  }
}

void Stmt::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
  m_bind_rc = SQLITE_OK;
  m_texts.clear();
}

std::int64_t Stmt::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }

std::string Stmt::text(int column) const {
  const unsigned char* p = sqlite3_column_text(m_stmt, column);
  if (p == nullptr) return {};
  const int n = sqlite3_column_bytes(m_stmt, column);
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool Stmt::is_null(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }

namespace {

// Runs `sql`, retrying SQLITE_BUSY until `deadline` (see the file comment).
util::Status exec_retrying(sqlite3* db, const char* sql,
                           std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return {};
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline)
      return std::unexpected(error_from(db, rc, sql));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

} // namespace

util::Result<Db> Db::open(const std::string& path, std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw); // owns the handle even when open failed
  if (rc != SQLITE_OK) return std::unexpected(error_from(raw, rc, "open " + path));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    MASON_TRY(exec_retrying(raw, pragma, deadline));
  }
  return db;
}

Db::~Db() { sqlite3_close_v2(m_db); }

Db::Db(Db&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(m_db);
    m_db = std::exchange(other.m_db, nullptr);
  }
  return *this;
}

util::Status Db::exec(const std::string& sql) {
  const int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(error_from(m_db, rc, "exec"));
  return {};
}

util::Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(error_from(m_db, rc, sql));
  return Stmt(stmt);
}

std::int64_t Db::changes() const { return sqlite3_changes64(m_db); }

util::Result<std::int64_t> Db::query_int64(std::string_view sql) {
  MASON_TRY_ASSIGN(auto stmt, prepare(sql));
  auto row = stmt.step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row)
    return util::make_error(util::ErrorCode::internal, "metadata: no row for " + std::string(sql));
  return stmt.int64(0);
}

util::Result<Txn> Txn::begin(Db& db, Kind kind) {
  MASON_TRY(db.exec(kind == Kind::write ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Txn(&db);
}

Txn::Txn(Txn&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}

Txn::~Txn() {
  // Best effort: if ROLLBACK fails the connection's next BEGIN reports it.
  if (m_db != nullptr) sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

util::Status Txn::commit() {
  auto ok = m_db->exec("COMMIT");
  if (ok) m_db = nullptr;
  return ok;
}

} // namespace mason::content::sql
