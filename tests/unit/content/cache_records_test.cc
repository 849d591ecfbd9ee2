// Build-cache records (put/find/latest/list/delete), their layers, how gc,
// disk usage, delete_blob and check treat cached layer blobs, the schema
// migration from version 2, and several Stores and processes sharing them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
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
namespace mt = mason::image::media_type;

namespace {

Descriptor ingest(Store& store, std::string_view content, std::string_view media_type = {}) {
  auto d = store.ingest_bytes(content, {.media_type = std::string(media_type)});
  EXPECT_TRUE(d) << d.error().to_string();
  return d.value_or(Descriptor{});
}

CacheRecord record(std::string key, std::string snapshot, std::string lineage = {}) {
  CacheRecord r;
  r.key = std::move(key);
  r.snapshot = std::move(snapshot);
  r.lineage = std::move(lineage);
  r.info = R"({"step":"RUN make"})";
  r.size = 4096;
  return r;
}

CacheLayer layer_of(const Descriptor& blob, std::string_view uncompressed) {
  CacheLayer layer;
  layer.layer = descriptor(std::string(mt::oci_layer_gzip), blob.digest, blob.size);
  layer.diff_id = Digest::sha256_of(uncompressed);
  return layer;
}

std::optional<CacheRecord> find(Store& store, std::string_view key) {
  auto found = store.find_cache_record(key);
  EXPECT_TRUE(found) << found.error().to_string();
  return found.value_or(std::nullopt);
}

std::optional<CacheLayer> layer(const Store& store, std::string_view key,
                                std::string_view variant) {
  auto found = store.cache_layer(key, variant);
  EXPECT_TRUE(found) << found.error().to_string();
  return found.value_or(std::nullopt);
}

std::vector<std::string> keys_of(const std::vector<CacheRecord>& records) {
  std::vector<std::string> keys;
  keys.reserve(records.size());
  for (const auto& r : records) keys.push_back(r.key);
  return keys;
}

std::filesystem::path blob_path(const ScratchDir& dir, const Digest& digest) {
  return dir.root() / "blobs" / "sha256" / std::string(digest.hex());
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

// Seconds resolution: waits for the store's clock to move on.
void next_second() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

} // namespace

TEST(CacheRecords, PutFindAndReplace) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  CacheRecord r = record("sha256:aaaa", "snap-1", "stage0/step3");
  r.created = before - std::chrono::hours(24); // ignored: set by the store
  ASSERT_TRUE(store->put_cache_record(r));
  auto found = find(*store, "sha256:aaaa");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->key, "sha256:aaaa");
  EXPECT_EQ(found->snapshot, "snap-1");
  EXPECT_EQ(found->lineage, "stage0/step3");
  EXPECT_EQ(found->info, R"({"step":"RUN make"})");
  EXPECT_EQ(found->size, 4096);
  EXPECT_GE(found->created, before);
  EXPECT_LE(found->created, std::chrono::system_clock::now());
  EXPECT_GE(found->last_used, found->created);
  EXPECT_FALSE(find(*store, "sha256:bbbb"));

  // Replacing drops the layers made from the old snapshot.
  const Descriptor blob = ingest(*store, "layer of snap-1");
  ASSERT_TRUE(store->set_cache_layer("sha256:aaaa", "gzip", layer_of(blob, "tar of snap-1")));
  ASSERT_TRUE(layer(*store, "sha256:aaaa", "gzip"));
  CacheRecord replacement = record("sha256:aaaa", "snap-2");
  replacement.info.clear();
  replacement.size = 0;
  ASSERT_TRUE(store->put_cache_record(replacement));
  found = find(*store, "sha256:aaaa");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->snapshot, "snap-2");
  EXPECT_EQ(found->lineage, "");
  EXPECT_EQ(found->info, "");
  EXPECT_EQ(found->size, 0);
  EXPECT_FALSE(layer(*store, "sha256:aaaa", "gzip"));
  EXPECT_TRUE(store->has_blob(blob.digest)); // only unprotected: gc decides
  auto all = store->list_cache_records();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
}

TEST(CacheRecords, RefusesBadRecords) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  for (const std::string& key : {std::string(), std::string("has space"), std::string("tab\tkey"),
                                 std::string("caf\xc3\xa9"), std::string(1025, 'k')}) {
    auto refused = store->put_cache_record(record(key, "snap"));
    ASSERT_FALSE(refused) << key;
    EXPECT_EQ(refused.error().code(), ErrorCode::invalid_argument) << key;
  }
  EXPECT_TRUE(store->put_cache_record(record(std::string(1024, 'k'), "snap")));
  auto empty_snapshot = store->put_cache_record(record("key", ""));
  ASSERT_FALSE(empty_snapshot);
  EXPECT_EQ(empty_snapshot.error().code(), ErrorCode::invalid_argument);
  EXPECT_NE(empty_snapshot.error().to_string().find("put cache record key"), std::string::npos);
  CacheRecord negative = record("key", "snap");
  negative.size = -1;
  EXPECT_EQ(store->put_cache_record(negative).error().code(), ErrorCode::invalid_argument);
  auto all = store->list_cache_records();
  ASSERT_TRUE(all);
  EXPECT_EQ(keys_of(*all), std::vector<std::string>{std::string(1024, 'k')});
}

TEST(CacheRecords, MarkUsedAndListIsMostRecentlyUsedFirst) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_cache_record(record("a", "snap-a")));
  ASSERT_TRUE(store->put_cache_record(record("b", "snap-b")));
  next_second();
  ASSERT_TRUE(store->put_cache_record(record("c", "snap-c")));
  auto all = store->list_cache_records();
  ASSERT_TRUE(all);
  ASSERT_EQ(keys_of(*all), (std::vector<std::string>{"c", "a", "b"}));
  const auto a_created = (*all)[1].created;
  EXPECT_EQ((*all)[1].last_used, a_created);

  next_second();
  // Finding marks nothing.
  auto a = find(*store, "a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->created, a_created);
  EXPECT_EQ(a->last_used, a_created);
  EXPECT_EQ(keys_of(*store->list_cache_records()), (std::vector<std::string>{"c", "a", "b"}));
  // Marking does, for present keys; absent ones are ignored.
  const std::vector<std::string> used = {"a", "d"};
  ASSERT_TRUE(store->mark_cache_records_used(used, std::chrono::seconds(0)));
  a = find(*store, "a");
  ASSERT_TRUE(a);
  EXPECT_GT(a->last_used, a->created);
  all = store->list_cache_records();
  ASSERT_TRUE(all);
  EXPECT_EQ(keys_of(*all), (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ((*all)[0].last_used, a->last_used);
  EXPECT_FALSE(find(*store, "d"));
  EXPECT_EQ(store->list_cache_records()->size(), 3u);
}

TEST(CacheRecords, MarkUsedSkipsRecordsUsedWithinTheSlack) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_cache_record(record("a", "snap-a")));
  ASSERT_TRUE(store->put_cache_record(record("b", "snap-b")));
  next_second();
  next_second();
  // "b" was used a moment ago: within a minute's slack nothing is written.
  const std::vector<std::string> b = {"b"};
  ASSERT_TRUE(store->mark_cache_records_used(b, std::chrono::seconds(60)));
  EXPECT_EQ(find(*store, "b")->last_used, find(*store, "b")->created);
  // With a slack of one second both are older than that and are marked.
  const std::vector<std::string> both = {"a", "b"};
  ASSERT_TRUE(store->mark_cache_records_used(both, std::chrono::seconds(1)));
  EXPECT_GT(find(*store, "a")->last_used, find(*store, "a")->created);
  EXPECT_GT(find(*store, "b")->last_used, find(*store, "b")->created);
  // An empty list is fine.
  ASSERT_TRUE(store->mark_cache_records_used({}, std::chrono::seconds(0)));
}

TEST(CacheRecords, LatestOfALineage) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_cache_record(record("k1", "s1", "build/stage0/step1")));
  ASSERT_TRUE(store->put_cache_record(record("k2", "s2", "build/stage0/step1")));
  ASSERT_TRUE(store->put_cache_record(record("k3", "s3", "build/stage0/step2")));
  ASSERT_TRUE(store->put_cache_record(record("k4", "s4")));
  // k1 and k2 were most likely put within one second: the last put wins.
  auto latest = store->latest_cache_record("build/stage0/step1");
  ASSERT_TRUE(latest) << latest.error().to_string();
  ASSERT_TRUE(*latest);
  EXPECT_EQ((*latest)->key, "k2");
  latest = store->latest_cache_record("build/stage0/step2");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->key, "k3");
  latest = store->latest_cache_record("build/stage9/step1");
  ASSERT_TRUE(latest);
  EXPECT_FALSE(*latest);
  latest = store->latest_cache_record(""); // no lineage is not a lineage
  ASSERT_TRUE(latest);
  EXPECT_FALSE(*latest);

  // Putting k1 again makes it the latest.
  ASSERT_TRUE(store->put_cache_record(record("k1", "s1-again", "build/stage0/step1")));
  latest = store->latest_cache_record("build/stage0/step1");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->key, "k1");
  EXPECT_EQ((*latest)->snapshot, "s1-again");
  // A record that leaves the lineage is no longer its latest.
  ASSERT_TRUE(store->put_cache_record(record("k1", "s1-again", "elsewhere")));
  latest = store->latest_cache_record("build/stage0/step1");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->key, "k2");

  // Later seconds win over the order of puts.
  next_second();
  ASSERT_TRUE(store->put_cache_record(record("k5", "s5", "build/stage0/step2")));
  latest = store->latest_cache_record("build/stage0/step2");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->key, "k5");
}

TEST(CacheRecords, LatestDoesNotMarkUsed) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_cache_record(record("k", "s", "l")));
  next_second();
  auto latest = store->latest_cache_record("l");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->last_used, (*latest)->created);
  auto all = store->list_cache_records();
  ASSERT_TRUE(all && all->size() == 1u);
  EXPECT_EQ((*all)[0].last_used, (*all)[0].created);
}

TEST(CacheRecords, DeleteRecordsAndTheirLayers) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const Descriptor blob = ingest(*store, "layer bytes");
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_TRUE(store->put_cache_record(record(key, std::string("snap-") + key)));
    ASSERT_TRUE(store->set_cache_layer(key, "gzip", layer_of(blob, "tar")));
  }
  const std::vector<std::string> keys{"a", "c", "never-put", "bad key"};
  ASSERT_TRUE(store->delete_cache_records(keys));
  ASSERT_TRUE(store->delete_cache_records({}));
  auto all = store->list_cache_records();
  ASSERT_TRUE(all);
  EXPECT_EQ(keys_of(*all), std::vector<std::string>{"b"});
  EXPECT_FALSE(find(*store, "a"));
  EXPECT_FALSE(layer(*store, "a", "gzip"));
  EXPECT_FALSE(layer(*store, "c", "gzip"));
  EXPECT_TRUE(layer(*store, "b", "gzip"));
  // A deleted key can be put again, without its old layers.
  ASSERT_TRUE(store->put_cache_record(record("a", "snap-a2")));
  EXPECT_FALSE(layer(*store, "a", "gzip"));
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
}

TEST(CacheLayers, SetPerVariantAndTeachBlobMetadata) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_cache_record(record("key", "snap")));
  const Descriptor gz = ingest(*store, "gzip bytes");
  const Descriptor zst = ingest(*store, "zstd bytes");
  const CacheLayer gzip = layer_of(gz, "the tar");
  CacheLayer zstd = layer_of(zst, "the tar");
  zstd.layer.media_type = mt::oci_layer_zstd;
  ASSERT_TRUE(store->set_cache_layer("key", "gzip", gzip));
  ASSERT_TRUE(store->set_cache_layer("key", "zstd", zstd));

  auto got = layer(*store, "key", "gzip");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->layer, gzip.layer);
  EXPECT_EQ(got->diff_id, gzip.diff_id);
  got = layer(*store, "key", "zstd");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->layer, zstd.layer);
  EXPECT_FALSE(layer(*store, "key", "uncompressed"));
  EXPECT_FALSE(layer(*store, "other", "gzip"));

  auto info = store->blob_info(gz.digest);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->media_type, mt::oci_layer_gzip);
  EXPECT_EQ(info->diff_id, gzip.diff_id);

  // Setting a variant again replaces it.
  const Descriptor gz2 = ingest(*store, "gzip bytes, level 9");
  ASSERT_TRUE(store->set_cache_layer("key", "gzip", layer_of(gz2, "the tar")));
  got = layer(*store, "key", "gzip");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->layer.digest, gz2.digest);
}

TEST(CacheLayers, RefuseMissingBlobsUnknownKeysAndBadArguments) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_cache_record(record("key", "snap")));
  const Descriptor blob = ingest(*store, "layer");

  const Descriptor absent = descriptor("x", Digest::sha256_of("never stored"), 12);
  auto missing = store->set_cache_layer("key", "gzip", layer_of(absent, "tar"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::not_found) << missing.error().to_string();

  auto unknown = store->set_cache_layer("no-such-key", "gzip", layer_of(blob, "tar"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::not_found) << unknown.error().to_string();
  EXPECT_NE(unknown.error().to_string().find("no-such-key"), std::string::npos);

  CacheLayer wrong_size = layer_of(blob, "tar");
  wrong_size.layer.size += 1;
  EXPECT_EQ(store->set_cache_layer("key", "gzip", wrong_size).error().code(),
            ErrorCode::invalid_argument);
  CacheLayer untyped = layer_of(blob, "tar");
  untyped.layer.media_type.clear();
  EXPECT_EQ(store->set_cache_layer("key", "gzip", untyped).error().code(),
            ErrorCode::invalid_argument);
  CacheLayer bad_diff_id = layer_of(blob, "tar");
  bad_diff_id.diff_id = Digest::sha256_hex("nothex");
  EXPECT_EQ(store->set_cache_layer("key", "gzip", bad_diff_id).error().code(),
            ErrorCode::invalid_argument);
  CacheLayer bad_digest = layer_of(blob, "tar");
  bad_digest.layer.digest = Digest::sha256_hex("nothex");
  EXPECT_EQ(store->set_cache_layer("key", "gzip", bad_digest).error().code(),
            ErrorCode::invalid_argument);
  for (const char* variant : {"", "two words"})
    EXPECT_EQ(store->set_cache_layer("key", variant, layer_of(blob, "tar")).error().code(),
              ErrorCode::invalid_argument)
        << variant;
  EXPECT_EQ(store->set_cache_layer("bad key", "gzip", layer_of(blob, "tar")).error().code(),
            ErrorCode::invalid_argument);
  EXPECT_FALSE(layer(*store, "key", "gzip"));
}

TEST(CacheGc, CachedLayerBlobsAreRootsUntilTheirRecordGoes) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const Descriptor kept = ingest(*store, "cached layer", mt::oci_layer_gzip);
  const Descriptor replaced = ingest(*store, "layer of a replaced record", mt::oci_layer_gzip);
  const Descriptor stray = ingest(*store, "nobody's");
  ASSERT_TRUE(store->put_cache_record(record("k", "snap")));
  ASSERT_TRUE(store->set_cache_layer("k", "gzip", layer_of(kept, "tar")));
  ASSERT_TRUE(store->put_cache_record(record("r", "snap-r")));
  ASSERT_TRUE(store->set_cache_layer("r", "gzip", layer_of(replaced, "tar r")));
  ASSERT_TRUE(store->put_cache_record(record("r", "snap-r2")));
  ASSERT_TRUE(store->release_lease());

  auto report = store->gc();
  ASSERT_TRUE(report) << report.error().to_string();
  std::vector<Digest> expected{replaced.digest, stray.digest};
  std::ranges::sort(expected);
  EXPECT_EQ(report->removed_blobs, expected);
  EXPECT_TRUE(store->has_blob(kept.digest));
  EXPECT_TRUE(layer(*store, "k", "gzip"));
  EXPECT_TRUE(store->check()) << store->check().error().to_string();

  const std::vector<std::string> keys{"k"};
  ASSERT_TRUE(store->delete_cache_records(keys));
  report = store->gc();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_blobs, std::vector<Digest>{kept.digest});
  EXPECT_FALSE(store->has_blob(kept.digest));
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
}

TEST(CacheGc, DiskUsageCountsCachedLayersApart) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  // An image whose layer is also cached: it counts as an image layer.
  const Descriptor shared =
      ingest(*store, "layer in an image and in the cache", mt::oci_layer_gzip);
  const Descriptor manifest = ingest(*store, "manifest", mt::oci_manifest);
  ASSERT_TRUE(store->record_references(manifest.digest, std::span(&shared, 1)));
  ASSERT_TRUE(store->tag("app:1", manifest));
  const Descriptor cached = ingest(*store, "only cached");
  const Descriptor cached_too = ingest(*store, "only cached, other variant");
  const Descriptor stray = ingest(*store, "unreferenced");
  ASSERT_TRUE(store->put_cache_record(record("k", "snap")));
  ASSERT_TRUE(store->set_cache_layer("k", "gzip", layer_of(cached, "tar")));
  CacheLayer zstd = layer_of(cached_too, "tar");
  zstd.layer.media_type = mt::oci_layer_zstd;
  ASSERT_TRUE(store->set_cache_layer("k", "zstd", zstd));
  ASSERT_TRUE(store->put_cache_record(record("k2", "snap2")));
  ASSERT_TRUE(store->set_cache_layer("k2", "gzip", layer_of(shared, "tar 2")));

  auto usage = store->disk_usage();
  ASSERT_TRUE(usage) << usage.error().to_string();
  EXPECT_EQ(usage->manifests.count, 1);
  EXPECT_EQ(usage->layers.count, 1);
  EXPECT_EQ(usage->layers.bytes, shared.size);
  EXPECT_EQ(usage->cache.count, 2);
  EXPECT_EQ(usage->cache.bytes, cached.size + cached_too.size);
  EXPECT_EQ(usage->unreferenced.count, 1);
  EXPECT_EQ(usage->unreferenced.bytes, stray.size);
  EXPECT_EQ(usage->total_bytes(), manifest.size + shared.size + cached.size + cached_too.size +
                                      stray.size + usage->metadata.bytes);

  // Untagged, the image's layer is still cached; the manifest is not.
  ASSERT_TRUE(store->untag("app:1"));
  usage = store->disk_usage();
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->layers.count, 0);
  EXPECT_EQ(usage->cache.count, 3);
  EXPECT_EQ(usage->cache.bytes, shared.size + cached.size + cached_too.size);
  EXPECT_EQ(usage->unreferenced.count, 2);
  EXPECT_EQ(usage->unreferenced.bytes, manifest.size + stray.size);
}

TEST(CacheGc, DeleteBlobDropsTheLayersThatNameIt) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const Descriptor blob = ingest(*store, "to be repaired away");
  ASSERT_TRUE(store->put_cache_record(record("k", "snap")));
  ASSERT_TRUE(store->set_cache_layer("k", "gzip", layer_of(blob, "tar")));
  ASSERT_TRUE(store->delete_blob(blob.digest));
  EXPECT_FALSE(layer(*store, "k", "gzip"));
  EXPECT_TRUE(find(*store, "k")); // the record stays: its snapshot is still there
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
  // Re-ingested, the blob is no cached layer until set again.
  ASSERT_EQ(ingest(*store, "to be repaired away").digest, blob.digest);
  EXPECT_FALSE(layer(*store, "k", "gzip"));
}

TEST(CacheGc, CheckReportsAndGcDropsLayersWhoseBlobVanished) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const Descriptor blob = ingest(*store, "will vanish");
  ASSERT_TRUE(store->put_cache_record(record("k", "snap")));
  ASSERT_TRUE(store->set_cache_layer("k", "gzip", layer_of(blob, "tar")));
  ASSERT_TRUE(store->release_lease());
  std::filesystem::remove(blob_path(dir, blob.digest)); // by hand, behind the store's back
  EXPECT_FALSE(layer(*store, "k", "gzip"));

  auto checked = store->check();
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code(), ErrorCode::corruption);
  const std::string message = checked.error().to_string();
  EXPECT_NE(message.find("cache record k"), std::string::npos) << message;
  EXPECT_NE(message.find(blob.digest.str()), std::string::npos) << message;

  auto dry = store->gc({.dry_run = true});
  ASSERT_TRUE(dry);
  EXPECT_FALSE(store->check()); // a dry run repairs nothing
  auto report = store->gc();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_TRUE(report->removed_blobs.empty());
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
  EXPECT_TRUE(find(*store, "k")); // the record stays
  EXPECT_FALSE(layer(*store, "k", "gzip"));
  // No longer a root, the blob's row went too, like any vanished blob's.
  EXPECT_EQ(store->blob_info(blob.digest).error().code(), ErrorCode::not_found);
}

TEST(CacheGc, ReplacedBlobOfAnotherSizeIsNoLayer) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const Descriptor blob = ingest(*store, "original");
  ASSERT_TRUE(store->put_cache_record(record("k", "snap")));
  ASSERT_TRUE(store->set_cache_layer("k", "gzip", layer_of(blob, "tar")));
  const auto path = blob_path(dir, blob.digest);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  std::filesystem::resize_file(path, 3);
  EXPECT_FALSE(layer(*store, "k", "gzip"));
}

TEST(CacheSchema, StoreOfSchemaVersionTwoIsMigrated) {
  ScratchDir dir;
  Descriptor blob;
  {
    auto store = open_store(dir.root());
    ASSERT_TRUE(store);
    blob = ingest(*store, "from before the migration", mt::oci_manifest);
    ASSERT_TRUE(store->tag("example.com/old:1", blob));
    ASSERT_TRUE(store->record_blob_source(blob.digest, "example.com/old"));
  }
  // Back to version 2 exactly: what migrations 3 and 4 add is gone.
  EXPECT_EQ(run_sql(dir.root() / "metadata.db",
                    "DROP TABLE cache_layers; DROP TABLE cache_records; "
                    "ALTER TABLE blobs DROP COLUMN unpacked_size; PRAGMA user_version=2;"),
            2);

  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  EXPECT_EQ(k_schema_version, 4);
  EXPECT_EQ(run_sql(dir.root() / "metadata.db", "SELECT 1"), k_schema_version);
  EXPECT_TRUE(store->resolve("example.com/old:1")); // old rows kept
  EXPECT_EQ(store->blob_sources(blob.digest).value(), std::vector<std::string>{"example.com/old"});
  ASSERT_TRUE(store->put_cache_record(record("k", "snap", "lineage")));
  ASSERT_TRUE(store->set_cache_layer("k", "gzip", layer_of(blob, "tar")));
  EXPECT_TRUE(layer(*store, "k", "gzip"));
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
}

// Version 4 keeps a layer's uncompressed size with the blob; a version 3
// store gains the column, its blobs without a size.
TEST(BlobSchema, StoreOfSchemaVersionThreeIsMigratedAndKeepsUnpackedSizes) {
  ScratchDir dir;
  Descriptor blob;
  {
    auto store = open_store(dir.root());
    ASSERT_TRUE(store);
    blob = ingest(*store, "a layer", mt::oci_layer_gzip);
    ASSERT_TRUE(store->tag("example.com/old:1", blob));
  }
  EXPECT_EQ(run_sql(dir.root() / "metadata.db",
                    "ALTER TABLE blobs DROP COLUMN unpacked_size; PRAGMA user_version=3;"),
            3);
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  EXPECT_EQ(run_sql(dir.root() / "metadata.db", "SELECT 1"), k_schema_version);
  EXPECT_FALSE(store->blob_info(blob.digest).value().unpacked_size);
  BlobAnnotation note;
  note.unpacked_size = 12345;
  ASSERT_TRUE(store->annotate_blob(blob.digest, note));
  EXPECT_EQ(store->blob_info(blob.digest).value().unpacked_size, 12345);
  note = {}; // an annotation without a size keeps the one known
  note.media_type = std::string(mt::oci_layer_gzip);
  ASSERT_TRUE(store->annotate_blob(blob.digest, note));
  EXPECT_EQ(store->blob_info(blob.digest).value().unpacked_size, 12345);
}

// A new build layer's uncompressed size rides on its cache layer's
// transaction (no write of its own).
TEST(BlobSchema, CacheLayerTeachesTheBlobItsUnpackedSize) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  const Descriptor blob = ingest(*store, "layer bytes", mt::oci_layer_gzip);
  ASSERT_TRUE(store->put_cache_record(record("k", "snap", "step")));
  auto layer = layer_of(blob, "tar");
  layer.unpacked_size = 4096;
  ASSERT_TRUE(store->set_cache_layer("k", "gzip", layer));
  EXPECT_EQ(store->blob_info(blob.digest).value().unpacked_size, 4096);
}

TEST(CacheConcurrency, TwoStoresOnOneRootSeeEachOther) {
  ScratchDir dir;
  auto builder = open_store(dir.root());
  auto other = open_store(dir.root());
  ASSERT_TRUE(builder && other);
  const Descriptor blob = ingest(*builder, "built layer");
  ASSERT_TRUE(builder->put_cache_record(record("k", "snap", "step")));
  ASSERT_TRUE(builder->set_cache_layer("k", "gzip", layer_of(blob, "tar")));
  ASSERT_TRUE(builder->release_lease());

  auto seen = find(*other, "k");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->snapshot, "snap");
  EXPECT_TRUE(layer(*other, "k", "gzip"));
  auto latest = other->latest_cache_record("step");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->key, "k");

  // The other Store's gc keeps the cached blob although no lease holds it.
  auto report = other->gc();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->removed_blobs.empty());
  EXPECT_TRUE(builder->has_blob(blob.digest));

  ASSERT_TRUE(other->put_cache_record(record("k2", "snap2", "step")));
  latest = builder->latest_cache_record("step");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->key, "k2");
  const std::vector<std::string> keys{"k"};
  ASSERT_TRUE(other->delete_cache_records(keys));
  EXPECT_FALSE(find(*builder, "k"));
  EXPECT_FALSE(layer(*builder, "k", "gzip"));
  report = builder->gc();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_blobs, std::vector<Digest>{blob.digest});
}

// Processes put records with layers, look up each other's and run gc, all
// at once: every record ends up with its layer, and every layer's blob is
// present.
TEST(CacheConcurrency, ProcessesPutFindAndCollect) {
  ScratchDir dir;
  ASSERT_TRUE(open_store(dir.root()));
  constexpr int k_records = 30;
  std::vector<pid_t> children;
  children.reserve(2);
  for (int p = 0; p < 2; ++p)
    children.push_back(spawn([&, p] {
      auto store = Store::open(dir.root());
      if (!store) return 10;
      for (int i = 0; i < k_records; ++i) {
        const std::string key = "p" + std::to_string(p) + "-" + std::to_string(i);
        auto blob = (*store)->ingest_bytes("layer " + key);
        if (!blob) return 11;
        if (!(*store)->put_cache_record(record(key, "snap-" + key, "step" + std::to_string(i))))
          return 12;
        if (!(*store)->set_cache_layer(key, "gzip", layer_of(*blob, key))) return 13;
        if (!(*store)->release_lease()) return 14; // only the record holds the blob now
        const std::string theirs = "p" + std::to_string(1 - p) + "-" + std::to_string(i / 2);
        auto found = (*store)->find_cache_record(theirs);
        if (!found) return 15;
        if (*found && (*found)->snapshot != "snap-" + theirs) return 16;
        if (!(*store)->latest_cache_record("step" + std::to_string(i))) return 17;
        if (i % 10 == 0 && !(*store)->gc()) return 18;
      }
      return 0;
    }));
  for (pid_t pid : children) EXPECT_EQ(wait_for(pid), 0);
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->gc());
  auto all = store->list_cache_records();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u * k_records);
  for (const auto& r : *all) {
    auto l = layer(*store, r.key, "gzip");
    ASSERT_TRUE(l) << r.key;
    EXPECT_EQ(store->read_blob(l->layer.digest).value_or(""), "layer " + r.key);
  }
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
}
