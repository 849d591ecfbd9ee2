// A thin owner layer over the SQLite C API for the metadata database.
//
// Ownership: Db owns one connection, Stmt one prepared statement, Txn one
// open transaction (rolled back on destruction unless committed). None of
// them is thread-safe; the Store serialises access with its mutex. A
// connection must never be used on both sides of a fork().
//
// Errors: SQLITE_BUSY/LOCKED (after the busy timeout) -> unavailable,
// SQLITE_CORRUPT/NOTADB -> corruption, SQLITE_FULL/CANTOPEN/READONLY/PERM
// -> unavailable, anything else -> internal; messages carry sqlite's text.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "mason/util/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mason::content::sql {

util::Error error_from(sqlite3* db, int rc, std::string_view what);

class Stmt {
public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* stmt) : m_stmt(stmt) {}
  ~Stmt();
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Parameters are 1-based. Text is copied into the statement. A bind
  // error is reported by the next step().
  Stmt& bind(int index, std::string_view text);
  Stmt& bind(int index, std::int64_t value);
  Stmt& bind_null(int index);

  // true: a result row is ready; false: the statement is done.
  util::Result<bool> step();
  // Steps to completion, ignoring rows.
  util::Status run();
  // Rewinds and clears the bindings so the statement can run again.
  void reset();

  // Columns are 0-based; valid while step() last returned true.
  std::int64_t int64(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;

private:
  sqlite3_stmt* m_stmt = nullptr;
  int m_bind_rc = 0;
  std::deque<std::string> m_texts; // bound text lives here (stable addresses)
};

class Db {
public:
  // Opens (creating) the database file and configures the connection:
  // busy timeout, WAL journal, synchronous=FULL, foreign keys on.
  static util::Result<Db> open(const std::string& path, std::chrono::milliseconds busy_timeout);

  Db() = default;
  ~Db();
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters.
  util::Status exec(const std::string& sql);
  util::Result<Stmt> prepare(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const;
  // The first column of the first row of a parameterless query.
  util::Result<std::int64_t> query_int64(std::string_view sql);

  sqlite3* handle() const { return m_db; }

private:
  explicit Db(sqlite3* db) : m_db(db) {}
  sqlite3* m_db = nullptr;
};

class Txn {
public:
  enum class Kind {
    read,  // BEGIN (deferred): a consistent snapshot for several reads
    write, // BEGIN IMMEDIATE: takes the write lock up front, so no upgrade can fail
  };
  static util::Result<Txn> begin(Db& db, Kind kind);

  Txn(Txn&& other) noexcept;
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn(); // rolls back if not committed

  util::Status commit();

private:
  explicit Txn(Db* db) : m_db(db) {}
  Db* m_db = nullptr;
};

} // namespace mason::content::sql
