// Crashes: writers that exit or are killed half-way, and processes killed
// with SIGKILL at random moments while committing, referencing and tagging.
// Afterwards no partial blob may be visible, every blob's name must match
// its content, the database must be consistent, and gc must clean up.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "mason/content/store.h"
#include "scratch.h"

using namespace mason::content;
using namespace mason::content::testing;
using mason::image::Digest;
namespace mt = mason::image::media_type;

namespace {

const std::string k_content(1 << 20, 'z');

// Child body: writes half of k_content, then reports on `ready` and either
// leaves with _exit (no destructors run: like a crash) or waits to be killed.
int write_half(const std::filesystem::path& root, int ready, bool wait_for_kill) {
  auto store = Store::open(root);
  if (!store) return 10;
  auto writer = (*store)->new_writer();
  if (!writer) return 11;
  if (!writer->write(std::string_view(k_content).substr(0, k_content.size() / 2))) return 12;
  if (::write(ready, "r", 1) != 1) return 13;
  if (wait_for_kill)
    for (;;) ::pause();
  ::_exit(0);
}

void expect_abandoned_temp_is_collected(const ScratchDir& dir) {
  const auto ingest = dir.root() / "ingest";
  EXPECT_TRUE(files_in(dir.root() / "blobs" / "sha256").empty());
  ASSERT_EQ(files_in(ingest).size(), 1u);
  auto store = open_store(dir.root());
  EXPECT_FALSE(store->has_blob(Digest::sha256_of(k_content)));
  // Young abandoned temp files survive the default age threshold...
  auto report = store->gc();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->ingest_files, 0);
  EXPECT_EQ(files_in(ingest).size(), 1u);
  // ...and go once old enough.
  report = store->gc({.ingest_min_age = std::chrono::seconds(0)});
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->ingest_files, 1);
  EXPECT_EQ(report->ingest_bytes, static_cast<std::int64_t>(k_content.size() / 2));
  EXPECT_TRUE(files_in(ingest).empty());
}

void run_half_writer(const ScratchDir& dir, bool kill_it) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = spawn([&] { return write_half(dir.root(), pipe_fds[1], kill_it); });
  ::close(pipe_fds[1]);
  char c = 0;
  EXPECT_EQ(::read(pipe_fds[0], &c, 1), 1);
  ::close(pipe_fds[0]);
  if (kill_it) ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_for(pid), kill_it ? 128 + SIGKILL : 0);
}

} // namespace

TEST(Crash, WriterExitingMidWriteLeavesNoBlob) {
  ScratchDir dir;
  run_half_writer(dir, false);
  expect_abandoned_temp_is_collected(dir);
}

TEST(Crash, WriterKilledMidWriteLeavesNoBlob) {
  ScratchDir dir;
  run_half_writer(dir, true);
  expect_abandoned_temp_is_collected(dir);
}

TEST(Crash, LiveWritersTempFileIsKeptByGc) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto other = open_store(dir.root());
  auto writer = store->new_writer();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write("in progress"));
  auto report = other->gc({.ingest_min_age = std::chrono::seconds(0)});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->ingest_files, 0);
  EXPECT_EQ(files_in(dir.root() / "ingest").size(), 1u);
  auto d = writer->commit();
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(store->read_blob(d->digest).value(), "in progress");
}

// Children loop over ingest -> record_references -> tag -> untag until
// killed; the parent kills them at random moments, then inspects.
TEST(Crash, KillNineAtAnyMomentLeavesTheStoreConsistent) {
  ScratchDir dir;
  ASSERT_TRUE(open_store(dir.root()));
  std::mt19937 random(12345);
  for (int round = 0; round < 24; ++round) {
    int tagged[2];
    ASSERT_EQ(::pipe(tagged), 0);
    const pid_t pid = spawn([&] {
      ::close(tagged[0]);
      auto store = Store::open(dir.root());
      if (!store) return 10;
      for (int i = 0;; ++i) {
        const std::string layer(static_cast<std::size_t>(1000 + 997 * (i % 50)),
                                static_cast<char>('a' + (round + i) % 26));
        auto l = (*store)->ingest_bytes(layer, {.media_type = std::string(mt::oci_layer)});
        const std::string manifest =
            "{\"round\":" + std::to_string(round) + ",\"i\":" + std::to_string(i) + "}";
        auto m = (*store)->ingest_bytes(manifest, {.media_type = std::string(mt::oci_manifest)});
        if (!l || !m) return 11;
        if (!(*store)->record_references(m->digest, std::span(&*l, 1))) return 12;
        const std::string name = "r" + std::to_string(round % 3) + "/img:" + std::to_string(i % 5);
        if (!(*store)->tag(name, *m)) return 13;
        if (i == 0 && ::write(tagged[1], "t", 1) != 1) return 14;
        if (i % 7 == 3 && !(*store)->untag(name)) return 15;
      }
    });
    ::close(tagged[1]);
    // Half of the rounds are killed at any moment from start-up on, the
    // other half after their first tag.
    char c = 0;
    if (round % 2 == 1) {
      EXPECT_EQ(::read(tagged[0], &c, 1), 1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 60000));
    ::kill(pid, SIGKILL);
    EXPECT_EQ(wait_for(pid), 128 + SIGKILL) << "round " << round;
    ::close(tagged[0]); // only now: an early close would SIGPIPE the child
  }

  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->check()) << store->check().error().to_string();
  // Every visible blob is complete: its name is its content's digest.
  for (const auto& hex : files_in(dir.root() / "blobs" / "sha256")) {
    const auto ok = store->verify_blob(Digest::sha256_hex(hex));
    EXPECT_TRUE(ok) << ok.error().to_string();
  }
  auto images = store->list_images();
  ASSERT_TRUE(images) << images.error().to_string();
  EXPECT_FALSE(images->empty());
  for (const auto& image : *images) {
    EXPECT_TRUE(store->has_blob(image.target.digest)) << image.name;
    auto refs = store->references(image.target.digest);
    ASSERT_TRUE(refs);
    ASSERT_EQ(refs->size(), 1u) << image.name;
    EXPECT_TRUE(store->has_blob(refs->front().digest)) << image.name;
  }
  // gc removes the litter of the killed children and keeps every image.
  auto report = store->gc({.ingest_min_age = std::chrono::seconds(0)});
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
  EXPECT_TRUE(files_in(dir.root() / "leases").empty());
  EXPECT_TRUE(store->check());
  std::set<std::string> live;
  for (const auto& image : *images) {
    live.insert(std::string(image.target.digest.hex()));
    live.insert(std::string(store->references(image.target.digest)->front().digest.hex()));
  }
  const auto left = files_in(dir.root() / "blobs" / "sha256");
  EXPECT_EQ(std::set<std::string>(left.begin(), left.end()), live);
}
