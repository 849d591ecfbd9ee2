// Garbage collection (reachability through index -> manifest -> config and
// layers, leases, dead processes, concurrent commits) and disk usage.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "mason/content/blob_kind.h"
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

// index -> {manifest, absent manifest of another platform};
// manifest -> {config, layer1, layer2}.
struct Image {
  Descriptor index, manifest, config, layer1, layer2;
  std::vector<Digest> all() const {
    return {index.digest, manifest.digest, config.digest, layer1.digest, layer2.digest};
  }
};

Image make_image(Store& store, const std::string& tag, const std::string& salt) {
  Image img;
  img.layer1 = ingest(store, "layer one " + salt, mt::oci_layer_gzip);
  img.layer2 = ingest(store, "layer two, a bit longer " + salt, mt::docker_layer_gzip);
  img.config = ingest(store, "{\"config\":\"" + salt + "\"}", mt::oci_config);
  img.manifest = ingest(store, "{\"manifest\":\"" + salt + "\"}", mt::oci_manifest);
  img.index = ingest(store, "{\"index\":\"" + salt + "\"}", mt::oci_index);
  const std::vector<Descriptor> layers{img.config, img.layer1, img.layer2};
  EXPECT_TRUE(store.record_references(img.manifest.digest, layers));
  const std::vector<Descriptor> manifests{
      img.manifest,
      descriptor(std::string(mt::oci_manifest), Digest::sha256_of("arm64 " + salt), 9)};
  EXPECT_TRUE(store.record_references(img.index.digest, manifests));
  EXPECT_TRUE(store.tag(tag, img.index));
  return img;
}

void expect_present(const Store& store, const std::vector<Digest>& digests, bool present) {
  for (const auto& d : digests) EXPECT_EQ(store.has_blob(d), present) << d.str();
}

} // namespace

TEST(Gc, KeepsWhatImagesReachAndDeletesTheRest) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Image img = make_image(*store, "docker.io/library/app:1", "a");
  const Descriptor stray = ingest(*store, "nobody points at me", mt::oci_layer);
  ASSERT_TRUE(store->release_lease());
  auto report = store->gc();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->removed_blobs, std::vector<Digest>{stray.digest});
  EXPECT_EQ(report->blob_bytes, stray.size);
  EXPECT_EQ(report->total_bytes(), stray.size);
  expect_present(*store, img.all(), true);
  EXPECT_FALSE(store->has_blob(stray.digest));
  EXPECT_EQ(store->blob_info(stray.digest).error().code(), ErrorCode::not_found);
  EXPECT_TRUE(store->check());
  // A second run finds nothing.
  EXPECT_TRUE(store->gc()->removed_blobs.empty());
}

TEST(Gc, UntaggedImageIsCollectedWhole) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Image img = make_image(*store, "app:1", "a");
  ASSERT_TRUE(store->release_lease());
  ASSERT_TRUE(store->untag("app:1"));
  auto report = store->gc();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_blobs.size(), 5u);
  expect_present(*store, img.all(), false);
  EXPECT_TRUE(store->references(img.manifest.digest)->empty());
  EXPECT_TRUE(files_in(dir.root() / "blobs" / "sha256").empty());
  EXPECT_TRUE(store->check());
}

TEST(Gc, SharedBlobsSurviveWhileOneImageNeedsThem) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Image a = make_image(*store, "a:1", "a");
  // b is a plain manifest (no index) sharing a's config and first layer.
  const Descriptor own = ingest(*store, "b's own layer", mt::oci_layer_gzip);
  const Descriptor b = ingest(*store, "b manifest", mt::oci_manifest);
  const std::vector<Descriptor> children{a.config, a.layer1, own};
  ASSERT_TRUE(store->record_references(b.digest, children));
  ASSERT_TRUE(store->tag("b:1", b));
  ASSERT_TRUE(store->release_lease());
  ASSERT_TRUE(store->untag("a:1"));
  auto report = store->gc();
  ASSERT_TRUE(report);
  expect_present(*store, {b.digest, own.digest, a.config.digest, a.layer1.digest}, true);
  expect_present(*store, {a.index.digest, a.manifest.digest, a.layer2.digest}, false);
  EXPECT_EQ(report->removed_blobs.size(), 3u);
}

TEST(Gc, DryRunDeletesNothing) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor stray = ingest(*store, "stray", "");
  ASSERT_TRUE(store->release_lease());
  auto report = store->gc({.dry_run = true});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_blobs, std::vector<Digest>{stray.digest});
  EXPECT_TRUE(store->has_blob(stray.digest));
  EXPECT_TRUE(store->blob_info(stray.digest).has_value());
}

TEST(Gc, LeaseProtectsFreshBlobsUntilReleased) {
  ScratchDir dir;
  auto builder = open_store(dir.root());
  auto pruner = open_store(dir.root());
  const Descriptor fresh = ingest(*builder, "just committed, not yet tagged", mt::oci_layer);
  const Descriptor manifest = ingest(*builder, "manifest of the build", mt::oci_manifest);
  ASSERT_TRUE(builder->record_references(manifest.digest, std::span(&fresh, 1)));
  auto report = pruner->gc();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->removed_blobs.empty());
  expect_present(*pruner, {fresh.digest, manifest.digest}, true);
  ASSERT_TRUE(builder->release_lease());
  report = pruner->gc();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_blobs.size(), 2u);
  expect_present(*pruner, {fresh.digest, manifest.digest}, false);
  EXPECT_TRUE(files_in(dir.root() / "leases").empty());
}

TEST(Gc, ClosingTheStoreEndsItsLease) {
  ScratchDir dir;
  auto pruner = open_store(dir.root());
  Descriptor fresh;
  {
    auto builder = open_store(dir.root());
    fresh = ingest(*builder, "fresh", "");
    EXPECT_EQ(files_in(dir.root() / "leases").size(), 1u);
  }
  EXPECT_TRUE(files_in(dir.root() / "leases").empty());
  auto report = pruner->gc();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_blobs, std::vector<Digest>{fresh.digest});
  EXPECT_EQ(report->stale_leases, 0);
}

TEST(Gc, LeaseOfALiveProcessHoldsAndDiesWithIt) {
  ScratchDir dir;
  auto pruner = open_store(dir.root());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = spawn([&] {
    auto store = Store::open(dir.root());
    if (!store || !(*store)->ingest_bytes("child's blob")) return 10;
    if (::write(ready[1], "r", 1) != 1) return 11;
    for (;;) ::pause();
  });
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  const Digest blob = Digest::sha256_of("child's blob");
  auto report = pruner->gc();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->removed_blobs.empty());
  EXPECT_EQ(report->stale_leases, 0);
  EXPECT_TRUE(pruner->has_blob(blob));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_for(pid), 128 + SIGKILL);
  report = pruner->gc();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->stale_leases, 1);
  EXPECT_EQ(report->removed_blobs, std::vector<Digest>{blob});
  EXPECT_TRUE(files_in(dir.root() / "leases").empty());
  EXPECT_TRUE(pruner->check());
}

TEST(Gc, RowsOfVanishedBlobsAreDropped) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Descriptor d = ingest(*store, "will vanish", mt::oci_manifest);
  ASSERT_TRUE(store->release_lease());
  // As after a crash between a commit's transaction and its rename.
  std::filesystem::remove(dir.root() / "blobs" / "sha256" / std::string(d.digest.hex()));
  ASSERT_TRUE(store->blob_info(d.digest));
  ASSERT_TRUE(store->gc());
  EXPECT_EQ(store->blob_info(d.digest).error().code(), ErrorCode::not_found);
}

TEST(Gc, ForeignFilesAreLeftAlone) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const auto foreign = dir.root() / "blobs" / "sha256" / "README";
  { std::ofstream(foreign) << "not a blob"; }
  ASSERT_TRUE(store->gc());
  EXPECT_TRUE(std::filesystem::exists(foreign));
}

// Commits and tags race gc from other threads and other Store instances:
// a tag either lands (and its blobs survive every later gc) or fails with
// not_found because gc took the untagged blob first; nothing else.
TEST(Gc, RacingCommitsAndTagsNeverLoseATaggedBlob) {
  ScratchDir dir;
  ASSERT_TRUE(open_store(dir.root()));
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected_errors{0};
  std::thread collector([&] {
    auto pruner = open_store(dir.root());
    while (!stop) {
      auto r = pruner->gc({.ingest_min_age = std::chrono::seconds(0)});
      if (!r) ++unexpected_errors;
    }
  });
  std::vector<std::thread> builders;
  for (int t = 0; t < 3; ++t)
    builders.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        auto store = Store::open(dir.root());
        if (!store) {
          ++unexpected_errors;
          continue;
        }
        const std::string salt = std::to_string(t) + "/" + std::to_string(i);
        auto layer = (*store)->ingest_bytes("layer " + salt);
        auto m = (*store)->ingest_bytes("manifest " + salt,
                                        {.media_type = std::string(mt::oci_manifest)});
        if (!layer || !m || !(*store)->record_references(m->digest, std::span(&*layer, 1)) ||
            !(*store)->tag("img" + salt, *m))
          ++unexpected_errors;
        // Store destroyed: its lease ends; only the tag keeps the blobs now.
      }
    });
  for (auto& b : builders) b.join();
  stop = true;
  collector.join();
  EXPECT_EQ(unexpected_errors.load(), 0);
  auto store = open_store(dir.root());
  ASSERT_TRUE(store->gc());
  auto images = store->list_images();
  ASSERT_TRUE(images);
  EXPECT_EQ(images->size(), 120u);
  for (const auto& image : *images) {
    EXPECT_TRUE(store->has_blob(image.target.digest)) << image.name;
    const auto refs = store->references(image.target.digest);
    ASSERT_TRUE(refs && refs->size() == 1u) << image.name;
    EXPECT_TRUE(store->has_blob(refs->front().digest)) << image.name;
  }
  EXPECT_TRUE(store->check());
}

TEST(DiskUsage, BytesByKind) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Image img = make_image(*store, "app:1", "a");
  // A reachable child of unknown kind.
  const Descriptor sig = ingest(*store, "signature", "");
  const std::vector<Descriptor> children{
      img.config, img.layer1, img.layer2,
      descriptor("application/vnd.example+json", sig.digest, sig.size)};
  ASSERT_TRUE(store->record_references(img.manifest.digest, children));
  const Descriptor stray = ingest(*store, "unreferenced", mt::oci_layer);
  auto writer = store->new_writer();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write("0123456789"));

  auto usage = store->disk_usage();
  ASSERT_TRUE(usage) << usage.error().to_string();
  EXPECT_EQ(usage->manifests.count, 2);
  EXPECT_EQ(usage->manifests.bytes, img.index.size + img.manifest.size);
  EXPECT_EQ(usage->configs.count, 1);
  EXPECT_EQ(usage->configs.bytes, img.config.size);
  EXPECT_EQ(usage->layers.count, 2);
  EXPECT_EQ(usage->layers.bytes, img.layer1.size + img.layer2.size);
  EXPECT_EQ(usage->other.count, 1);
  EXPECT_EQ(usage->other.bytes, sig.size);
  EXPECT_EQ(usage->unreferenced.count, 1);
  EXPECT_EQ(usage->unreferenced.bytes, stray.size);
  EXPECT_EQ(usage->ingest.count, 1);
  EXPECT_EQ(usage->ingest.bytes, 10);
  EXPECT_GE(usage->metadata.count, 1);
  EXPECT_GT(usage->metadata.bytes, 0);
  EXPECT_EQ(usage->total_bytes(), img.index.size + img.manifest.size + img.config.size +
                                      img.layer1.size + img.layer2.size + sig.size + stray.size +
                                      10 + usage->metadata.bytes);
}

TEST(DiskUsage, EmptyStore) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto usage = store->disk_usage();
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->total_bytes(), usage->metadata.bytes);
  EXPECT_EQ(usage->unreferenced.count, 0);
}

TEST(BlobKind, ByMediaType) {
  EXPECT_EQ(kind_of(mt::oci_index), BlobKind::manifest);
  EXPECT_EQ(kind_of(mt::oci_manifest), BlobKind::manifest);
  EXPECT_EQ(kind_of(mt::docker_manifest), BlobKind::manifest);
  EXPECT_EQ(kind_of(mt::docker_manifest_list), BlobKind::manifest);
  EXPECT_EQ(kind_of(mt::docker_manifest_v1_signed), BlobKind::manifest);
  EXPECT_EQ(kind_of(mt::oci_config), BlobKind::config);
  EXPECT_EQ(kind_of(mt::docker_config), BlobKind::config);
  EXPECT_EQ(kind_of(mt::oci_layer), BlobKind::layer);
  EXPECT_EQ(kind_of(mt::oci_layer_gzip), BlobKind::layer);
  EXPECT_EQ(kind_of(mt::oci_layer_zstd), BlobKind::layer);
  EXPECT_EQ(kind_of(mt::docker_layer_gzip), BlobKind::layer);
  EXPECT_EQ(kind_of(mt::docker_layer_foreign_gzip), BlobKind::layer);
  EXPECT_EQ(kind_of("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
            BlobKind::layer);
  EXPECT_EQ(kind_of("application/vnd.in-toto+json"), BlobKind::other);
  EXPECT_EQ(kind_of(""), BlobKind::other);
}
