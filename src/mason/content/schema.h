// The metadata schema and its migrations (docs/store.md, "Schema").
// The schema version is SQLite's `PRAGMA user_version`; migration k turns
// version k-1 into version k inside one write transaction, so a crash or a
// concurrent opener never sees a half-migrated database.
#pragma once

#include "mason/content/sqlite.h"

namespace mason::content {

inline constexpr int k_schema_version = 4;

// Brings the database to k_schema_version. Errors: unsupported when the
// database is newer than this mason; database errors otherwise.
util::Status migrate(sql::Db& db);

} // namespace mason::content
