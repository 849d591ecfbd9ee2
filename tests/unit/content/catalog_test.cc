// Image names, references between blobs, blob metadata, the schema
// version, and several processes and threads writing metadata at once.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
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

Descriptor ingest(Store& store, std::string_view content, std::string_view media_type) {
  auto d = store.ingest_bytes(content, {.media_type = std::string(media_type)});
  EXPECT_TRUE(d) << d.error().to_string();
  return d.value_or(Descriptor{});
}

int sqlite_user_version(const std::filesystem::path& db_path, int set = -1) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  if (set >= 0) {
    const std::string sql = "PRAGMA user_version=" + std::to_string(set);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  sqlite3_step(stmt);
  const int version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

} // namespace

TEST(Images, TagResolveList) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(2);
  const Descriptor m = ingest(*store, "{\"manifest\":1}", mt::oci_manifest);
  ASSERT_TRUE(store->tag("docker.io/library/busybox:latest", m));
  auto resolved = store->resolve("docker.io/library/busybox:latest");
  ASSERT_TRUE(resolved) << resolved.error().to_string();
  EXPECT_EQ(*resolved, m);
  auto images = store->list_images();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].name, "docker.io/library/busybox:latest");
  EXPECT_EQ((*images)[0].target, m);
  EXPECT_GE((*images)[0].created, before);
  EXPECT_LE((*images)[0].created, std::chrono::system_clock::now());
  // The manifest's media type was learned for its blob.
  EXPECT_EQ(store->blob_info(m.digest)->media_type, mt::oci_manifest);
}

TEST(Images, ListIsSortedAndSurvivesReopening) {
  ScratchDir dir;
  const auto root = dir.root();
  {
    auto store = open_store(root);
    const Descriptor m = ingest(*store, "m", mt::oci_manifest);
    for (const char* name : {"b:1", "a:1", "c:1"}) ASSERT_TRUE(store->tag(name, m));
  }
  auto store = open_store(root);
  auto images = store->list_images();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 3u);
  EXPECT_EQ((*images)[0].name, "a:1");
  EXPECT_EQ((*images)[2].name, "c:1");
}

TEST(Images, RetagMovesTheName) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor a = ingest(*store, "a", mt::oci_manifest);
  const Descriptor b = ingest(*store, "b", mt::oci_index);
  ASSERT_TRUE(store->tag("x:latest", a));
  ASSERT_TRUE(store->tag("x:latest", a));
  ASSERT_TRUE(store->tag("x:latest", b));
  EXPECT_EQ(store->resolve("x:latest").value(), b);
  EXPECT_EQ(store->list_images()->size(), 1u);
}

TEST(Images, TagChecksItsArguments) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor m = ingest(*store, "m", mt::oci_manifest);
  auto absent =
      store->tag("x:1", descriptor(std::string(mt::oci_manifest), Digest::sha256_of("no"), 2));
  EXPECT_EQ(absent.error().code(), ErrorCode::not_found);
  EXPECT_NE(absent.error().to_string().find("tag x:1"), std::string::npos);
  EXPECT_EQ(
      store->tag("x:1", descriptor(std::string(mt::oci_manifest), m.digest, 7)).error().code(),
      ErrorCode::invalid_argument);
  EXPECT_EQ(store->tag("x:1", descriptor("", m.digest, 1)).error().code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(store->tag("", m).error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(store->tag("has space:1", m).error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(store->tag(std::string(1025, 'a'), m).error().code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(store->list_images()->empty());
}

TEST(Images, Untag) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor m = ingest(*store, "m", mt::oci_manifest);
  ASSERT_TRUE(store->tag("x:1", m));
  ASSERT_TRUE(store->untag("x:1"));
  EXPECT_EQ(store->resolve("x:1").error().code(), ErrorCode::not_found);
  EXPECT_EQ(store->untag("x:1").error().code(), ErrorCode::not_found);
  EXPECT_TRUE(store->has_blob(m.digest)); // untag frees nothing by itself
}

TEST(References, RecordedInOrderAndReplaced) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor c = ingest(*store, "config", mt::oci_config);
  const Descriptor l = ingest(*store, "layer", mt::oci_layer_gzip);
  const Descriptor m = ingest(*store, "manifest", mt::oci_manifest);
  const std::vector<Descriptor> children{c, l, l};
  ASSERT_TRUE(store->record_references(m.digest, children));
  EXPECT_EQ(store->references(m.digest).value(), children);
  ASSERT_TRUE(store->record_references(m.digest, std::span(&c, 1)));
  EXPECT_EQ(store->references(m.digest).value(), std::vector<Descriptor>{c});
  EXPECT_TRUE(store->references(c.digest)->empty());
}

TEST(References, ReferrersAreTheParentsThatNameAChild) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor c = ingest(*store, "config", mt::oci_config);
  const Descriptor m = ingest(*store, "manifest", mt::oci_manifest);
  const Descriptor i1 = ingest(*store, "index 1", mt::oci_index);
  const Descriptor i2 = ingest(*store, "index 2", mt::oci_index);
  ASSERT_TRUE(store->record_references(m.digest, std::span(&c, 1)));
  const std::vector<Descriptor> twice{m, m};
  ASSERT_TRUE(store->record_references(i1.digest, twice));
  ASSERT_TRUE(store->record_references(i2.digest, std::span(&m, 1)));
  auto expected = std::vector<Digest>{i1.digest, i2.digest};
  std::ranges::sort(expected);
  EXPECT_EQ(store->referrers(m.digest).value(), expected);
  EXPECT_EQ(store->referrers(c.digest).value(), std::vector<Digest>{m.digest});
  EXPECT_TRUE(store->referrers(i1.digest)->empty());
}

TEST(References, ChildrenMayBeAbsentButTheParentMustNot) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor index = ingest(*store, "index", mt::oci_index);
  const Descriptor other_platform =
      descriptor(std::string(mt::oci_manifest), Digest::sha256_of("never pulled"), 12);
  ASSERT_TRUE(store->record_references(index.digest, std::span(&other_platform, 1)));
  auto missing = store->record_references(Digest::sha256_of("absent"), {});
  EXPECT_EQ(missing.error().code(), ErrorCode::not_found);
  const Descriptor bad = descriptor("x", Digest::sha256_hex("nothex"), 1);
  EXPECT_EQ(store->record_references(index.digest, std::span(&bad, 1)).error().code(),
            ErrorCode::invalid_argument);
}

TEST(References, TeachChildMediaTypes) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor l = ingest(*store, "layer", "");
  const Descriptor m = ingest(*store, "manifest", mt::oci_manifest);
  EXPECT_EQ(store->blob_info(l.digest)->media_type, "");
  const Descriptor typed = descriptor(std::string(mt::oci_layer_zstd), l.digest, l.size);
  ASSERT_TRUE(store->record_references(m.digest, std::span(&typed, 1)));
  EXPECT_EQ(store->blob_info(l.digest)->media_type, mt::oci_layer_zstd);
}

TEST(BlobMetadata, AnnotateAndMarkUsed) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor l = ingest(*store, "compressed layer", "");
  const Digest diff_id = Digest::sha256_of("uncompressed layer");
  ASSERT_TRUE(store->annotate_blob(
      l.digest, {.media_type = std::string(mt::oci_layer_gzip), .diff_id = diff_id}));
  auto info = store->blob_info(l.digest);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->media_type, mt::oci_layer_gzip);
  EXPECT_EQ(info->diff_id, diff_id);
  ASSERT_TRUE(store->annotate_blob(l.digest, {}));
  EXPECT_EQ(store->blob_info(l.digest)->diff_id, diff_id); // unset fields are kept
  EXPECT_EQ(store->annotate_blob(Digest::sha256_of("absent"), {}).error().code(),
            ErrorCode::not_found);
  const Digest used[] = {l.digest, Digest::sha256_of("unknown")};
  ASSERT_TRUE(store->mark_used(used));
  EXPECT_GE(store->blob_info(l.digest)->last_used, info->created);
}

TEST(Schema, NewStoreHasTheCurrentVersion) {
  ScratchDir dir;
  ASSERT_TRUE(open_store(dir.root()));
  EXPECT_EQ(sqlite_user_version(dir.root() / "metadata.db"), k_schema_version);
}

TEST(Schema, NewerDatabaseIsRefused) {
  ScratchDir dir;
  ASSERT_TRUE(open_store(dir.root()));
  sqlite_user_version(dir.root() / "metadata.db", k_schema_version + 1);
  auto store = Store::open(dir.root());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::unsupported);
  EXPECT_NE(store.error().to_string().find("schema version"), std::string::npos);
}

TEST(Schema, ConcurrentFirstOpensAgree) {
  ScratchDir dir;
  std::vector<pid_t> children;
  for (int p = 0; p < 6; ++p)
    children.push_back(spawn([&] { return Store::open(dir.root()) ? 0 : 1; }));
  for (pid_t pid : children) EXPECT_EQ(wait_for(pid), 0);
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->check());
}

TEST(Concurrency, TwoProcessesTagging) {
  ScratchDir dir;
  ASSERT_TRUE(open_store(dir.root()));
  constexpr int k_names = 60;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p)
    children.push_back(spawn([&, p] {
      auto store = Store::open(dir.root());
      if (!store) return 10;
      for (int i = 0; i < k_names; ++i) {
        auto m = (*store)->ingest_bytes("manifest " + std::to_string(p) + "/" + std::to_string(i),
                                        {.media_type = std::string(mt::oci_manifest)});
        if (!m) return 11;
        if (!(*store)->tag("p" + std::to_string(p) + "/img:" + std::to_string(i), *m)) return 12;
        if (!(*store)->tag("shared:latest", *m)) return 13;
        if (i % 3 == 0 && !(*store)->untag("p" + std::to_string(p) + "/img:" + std::to_string(i)))
          return 14;
      }
      return 0;
    }));
  for (pid_t pid : children) EXPECT_EQ(wait_for(pid), 0);
  auto store = open_store(dir.root());
  auto images = store->list_images();
  ASSERT_TRUE(images);
  EXPECT_EQ(images->size(), 2u * (k_names - k_names / 3) + 1u);
  auto shared = store->resolve("shared:latest");
  ASSERT_TRUE(shared);
  EXPECT_TRUE(shared->digest == Digest::sha256_of("manifest 0/" + std::to_string(k_names - 1)) ||
              shared->digest == Digest::sha256_of("manifest 1/" + std::to_string(k_names - 1)));
  EXPECT_TRUE(store->check());
}

TEST(Concurrency, ThreadsShareOneStore) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto m = store->ingest_bytes("t" + std::to_string(t) + "/" + std::to_string(i),
                                     {.media_type = std::string(mt::oci_manifest)});
        if (!m || !store->tag("t" + std::to_string(t) + ":" + std::to_string(i), *m) ||
            !store->resolve("t" + std::to_string(t) + ":" + std::to_string(i)))
          ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->list_images()->size(), 100u);
}
