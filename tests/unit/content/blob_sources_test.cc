// Blob sources (record_blob_source / blob_sources): recording, ordering,
// refusal of bad input and absent blobs, cleanup with the blob, and the
// schema migration from version 1 (a store made before the table existed).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <thread>

#include "mason/content/schema.h"
#include "mason/content/store.h"
#include "scratch.h"

using namespace mason::content;
using namespace mason::content::testing;
using mason::image::Descriptor;
using mason::image::Digest;
using mason::util::ErrorCode;

namespace {

Descriptor ingest(Store& store, std::string_view content) {
  auto d = store.ingest_bytes(content);
  EXPECT_TRUE(d) << d.error().to_string();
  return d.value_or(Descriptor{});
}

// Runs `sql` on the database directly; returns PRAGMA user_version after.
int run_sql(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_free(message);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  sqlite3_step(stmt);
  const int version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

TEST(BlobSources, RecordedMostRecentFirstWithoutDuplicates) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const auto blob = ingest(*store, "layer bytes");
  auto none = store->blob_sources(blob.digest);
  ASSERT_TRUE(none) << none.error().to_string();
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(store->record_blob_source(blob.digest, "registry-1.docker.io/library/busybox"));
  ASSERT_TRUE(store->record_blob_source(blob.digest, "127.0.0.1:5000/a/x"));
  auto sources = store->blob_sources(blob.digest);
  ASSERT_TRUE(sources) << sources.error().to_string();
  ASSERT_EQ(sources->size(), 2u);

  // Seconds resolution: wait for the clock to move before refreshing.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(store->record_blob_source(blob.digest, "registry-1.docker.io/library/busybox"));
  sources = store->blob_sources(blob.digest);
  ASSERT_TRUE(sources);
  ASSERT_EQ(sources->size(), 2u);
  EXPECT_EQ((*sources)[0], "registry-1.docker.io/library/busybox");
  EXPECT_EQ((*sources)[1], "127.0.0.1:5000/a/x");
}

TEST(BlobSources, RefusesAbsentBlobsAndBadSources) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const auto absent = Digest::sha256_of("never stored");
  auto missing = store->record_blob_source(absent, "host/repo");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::not_found) << missing.error().to_string();

  const auto blob = ingest(*store, "some blob");
  for (const char* bad : {"", "host", "host/", "/repo", "host/re po"}) {
    auto refused = store->record_blob_source(blob.digest, bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code(), ErrorCode::invalid_argument);
    EXPECT_NE(refused.error().to_string().find(blob.digest.str()), std::string::npos);
  }
}

TEST(BlobSources, GoWithTheBlob) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const auto blob = ingest(*store, "short-lived");
  ASSERT_TRUE(store->record_blob_source(blob.digest, "host/repo"));
  ASSERT_TRUE(store->delete_blob(blob.digest));
  auto sources = store->blob_sources(blob.digest);
  ASSERT_TRUE(sources);
  EXPECT_TRUE(sources->empty());
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
}

TEST(BlobSources, StoreOfSchemaVersionOneIsMigrated) {
  ScratchDir dir;
  Descriptor blob;
  {
    auto store = open_store(dir.root());
    ASSERT_TRUE(store);
    blob = ingest(*store, "from before the migration");
    blob.media_type = "application/octet-stream";
    ASSERT_TRUE(store->tag("example.com/old:1", blob));
  }
  // Back to version 1 exactly: what migrations 2 to 4 add is gone.
  EXPECT_EQ(run_sql(dir.root() / "metadata.db",
                    "DROP TABLE blob_sources; DROP TABLE cache_layers; DROP TABLE cache_records; "
                    "ALTER TABLE blobs DROP COLUMN unpacked_size; PRAGMA user_version=1;"),
            1);

  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  EXPECT_EQ(run_sql(dir.root() / "metadata.db", "SELECT 1"), k_schema_version);
  EXPECT_GE(k_schema_version, 2);
  EXPECT_TRUE(store->resolve("example.com/old:1")); // old rows kept
  EXPECT_TRUE(store->blob_info(blob.digest));
  ASSERT_TRUE(store->record_blob_source(blob.digest, "host/repo"));
  auto sources = store->blob_sources(blob.digest);
  ASSERT_TRUE(sources);
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0], "host/repo");
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
}

} // namespace
