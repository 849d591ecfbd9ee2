// Long chains (flattening), concurrent and repeated unpacks, stale
// temporary work, and the choice of kind.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <sys/mount.h>
#include <thread>

#include "../kernel_scratch.h"
#include "mason/snapshot/overlay.h"
#include "snapshot_test_util.h"

namespace mason::snapshot::testing {
namespace {

KindChoice choice_of(Kind kind) {
  return kind == Kind::overlay ? KindChoice::overlay : KindChoice::copy;
}

// Layer i of a long chain: adds d/f<i>; every 7th deletes d/f<i-3>; layer
// 150 makes d opaque (hiding everything below). `model` tracks the tree.
std::string chain_layer(int i, std::map<std::string, std::string>& model) {
  LayerBuilder b;
  b.dir("d");
  if (i == 150) {
    b.opaque("d");
    model.clear();
  }
  if (i % 7 == 0 && i >= 3) {
    b.whiteout("d", "f" + std::to_string(i - 3));
    model.erase("f" + std::to_string(i - 3));
  }
  b.file("d/f" + std::to_string(i), std::to_string(i));
  model["f" + std::to_string(i)] = std::to_string(i);
  return b.take();
}

struct Chain {
  std::vector<std::string> layers;
  std::map<std::string, std::string> model;
};

Chain make_chain(int length) {
  Chain c;
  for (int i = 0; i < length; ++i) c.layers.push_back(chain_layer(i, c.model));
  return c;
}

std::string unpack_all(Snapshotter& s, const std::vector<std::string>& layers,
                       std::atomic<int>* calls = nullptr) {
  std::optional<std::string> parent;
  for (const auto& layer : layers) {
    const std::string id = chain_id(parent, layer);
    auto got = s.unpack(parent, id, opener(layer, calls), nullptr);
    EXPECT_TRUE(got) << got.error().to_string();
    if (!got) return "";
    parent = id;
  }
  return *parent;
}

std::map<std::string, std::string> files_of(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& name : list_dir(dir)) out[name] = read_file(dir + "/" + name);
  return out;
}

class ChainTest : public ::testing::TestWithParam<Kind> {
protected:
  void SetUp() override {
    if (GetParam() == Kind::overlay) MASON_NEED_KERNEL_SCRATCH();
    auto dir = sys::TempDir::create_in(test::scratch_base(), "mason-snapshot-test-");
    ASSERT_TRUE(dir);
    m_dir.emplace(std::move(*dir));
  }
  void TearDown() override {
    if (m_dir) {
      EXPECT_EQ(mounts_below(m_dir->path()), std::vector<std::string>{});
    }
  }
  std::string state() const { return m_dir->path() + "/state"; }
  std::unique_ptr<Snapshotter> open(const OverlayLimits& limits = {}) {
    auto s = open_snapshotter(state(), choice_of(GetParam()), nullptr, limits);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(*s) : nullptr;
  }
  std::vector<std::string> tmp_entries() const {
    std::vector<std::string> out;
    for (auto& name : list_dir(state() + "/tmp"))
      if (!name.ends_with(".lock")) out.push_back(name);
    return out;
  }
  std::vector<std::string> snapshot_dirs() const {
    std::vector<std::string> out;
    for (auto& name : list_dir(state()))
      if (name.starts_with("sha256+3a") || name.starts_with("snapshot-")) out.push_back(name);
    return out;
  }
  std::optional<sys::TempDir> m_dir;
};

using Ms = std::chrono::milliseconds;

Ms since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start);
}

// A step on top of `top`: adds d/extra, drops d/<dropped>; checks the diff
// and the committed snapshot's view against `model`.
void step_over(Snapshotter& s, const std::string& top, std::map<std::string, std::string> model,
               const std::string& dropped) {
  auto active = s.prepare(top);
  ASSERT_TRUE(active) << active.error().to_string();
  write_file((*active)->path() + "/d/extra", "x");
  ASSERT_EQ(::unlink(((*active)->path() + "/d/" + dropped).c_str()), 0);
  auto id = s.commit(std::move(*active));
  ASSERT_TRUE(id) << id.error().to_string();
  archive::LayerOptions options;
  options.compress.compression = archive::Compression::none;
  archive::StringSink sink;
  ASSERT_TRUE(s.diff(*id, options, sink));
  std::set<std::string> names;
  for (const auto& e : read_tar(sink.data())) names.insert(e.entry.name);
  EXPECT_EQ(names, (std::set<std::string>{"d/", "d/.wh." + dropped, "d/extra"}));
  auto view = s.view(*id);
  ASSERT_TRUE(view) << view.error().to_string();
  model.erase(dropped);
  model["extra"] = "x";
  EXPECT_EQ(files_of((*view)->path() + "/d"), model);
}

TEST_P(ChainTest, LongChainMountsFlattenedWhenNeeded) {
  // 300 layers for overlay: with short lowerdir names they fit one mount
  // (up to 500 lowers and a page of mount data); the copy kind holds full
  // trees, so a shorter chain tells as much.
  const int length = GetParam() == Kind::overlay ? 300 : 25;
  const Chain chain = make_chain(length);
  auto s = open();
  ASSERT_NE(s, nullptr);
  auto start = std::chrono::steady_clock::now();
  const std::string top = unpack_all(*s, chain.layers);
  std::cout << "[ info ] unpack " << length << " layers: " << since(start).count() << " ms\n";
  start = std::chrono::steady_clock::now();
  {
    auto view = s->view(top);
    ASSERT_TRUE(view) << view.error().to_string();
    EXPECT_EQ(files_of((*view)->path() + "/d"), chain.model);
  }
  std::cout << "[ info ] view: " << since(start).count() << " ms\n";
  step_over(*s, top, chain.model, "f" + std::to_string(length - 1));
  if (GetParam() != Kind::overlay) return;
  EXPECT_TRUE(list_dir(state() + "/flat").empty());

  // A quarter page of mount data: about 70 lowers per mount, so the chain
  // mounts as about 30 layers over a flattened base (made in steps of 34).
  s = open({1024, 500, 128});
  ASSERT_NE(s, nullptr);
  start = std::chrono::steady_clock::now();
  {
    auto view = s->view(top);
    ASSERT_TRUE(view) << view.error().to_string();
    EXPECT_EQ(files_of((*view)->path() + "/d"), chain.model);
  }
  std::cout << "[ info ] view with flattening: " << since(start).count() << " ms\n";
  const auto flats = list_dir(state() + "/flat").size();
  EXPECT_GT(flats, 1U);
  // Writable roots over it reuse the flattened part.
  step_over(*s, top, chain.model, "f298");
  EXPECT_EQ(list_dir(state() + "/flat").size(), flats);
}

// A Source that waits before its first byte, so that racing unpacks overlap.
class SlowSource final : public archive::Source {
public:
  explicit SlowSource(std::shared_ptr<const std::string> data) : m_inner(std::move(data)) {}
  util::Result<std::size_t> read(archive::MutableBytes out) override {
    if (m_first) std::this_thread::sleep_for(std::chrono::milliseconds(30));
    m_first = false;
    return m_inner.read(out);
  }

private:
  OwningSource m_inner;
  bool m_first = true;
};

TEST_P(ChainTest, ConcurrentUnpackOfOneChainGivesOneSnapshot) {
  const Chain chain = make_chain(3);
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  const std::string base = unpack_all(*a, {chain.layers[0]});
  const std::string id = chain_id(base, chain.layers[1]);
  auto data = std::make_shared<const std::string>(chain.layers[1]);
  std::atomic<int> calls = 0;
  const LayerOpener slow = [&]() -> util::Result<std::unique_ptr<archive::Source>> {
    ++calls;
    return std::unique_ptr<archive::Source>(std::make_unique<SlowSource>(data));
  };
  std::vector<std::thread> threads;
  std::vector<util::Result<std::string>> results(4, std::string());
  for (std::size_t t = 0; t < 4; ++t)
    threads.emplace_back(
        [&, t] { results[t] = (t % 2 == 0 ? a : b)->unpack(base, id, slow, nullptr); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, id);
  }
  EXPECT_GE(calls, 1);
  EXPECT_LE(calls, 2); // at most once per instance (process)
  EXPECT_EQ(snapshot_dirs().size(), 2U);
  EXPECT_TRUE(tmp_entries().empty());
  if (GetParam() == Kind::overlay) {
    EXPECT_EQ(list_dir(state() + "/l").size(), 2U); // the loser's link is gone
  }
  auto view = a->view(id);
  ASSERT_TRUE(view) << view.error().to_string();
  EXPECT_EQ(read_file((*view)->path() + "/d/f1"), "1");
}

TEST_P(ChainTest, UnpackedChainIsReusedByAnotherInstance) {
  const Chain chain = make_chain(5);
  std::string top;
  {
    auto s = open();
    ASSERT_NE(s, nullptr);
    top = unpack_all(*s, chain.layers);
  }
  auto s = open();
  ASSERT_NE(s, nullptr);
  std::atomic<int> calls = 0;
  EXPECT_EQ(unpack_all(*s, chain.layers, &calls), top);
  EXPECT_EQ(calls, 0);
  auto view = s->view(top);
  ASSERT_TRUE(view) << view.error().to_string();
  EXPECT_EQ(files_of((*view)->path() + "/d"), chain.model);
}

TEST_P(ChainTest, StaleWorkOfDeadOwnersIsRemovedAtOpen) {
  auto live = open();
  ASSERT_NE(live, nullptr);
  auto active = live->prepare(std::nullopt);
  ASSERT_TRUE(active) << active.error().to_string();
  write_file((*active)->path() + "/mine", "mine");
  // A dead owner without a lock file, and one whose lock is not held.
  const std::string tmp = state() + "/tmp";
  ASSERT_EQ(::mkdir((tmp + "/1.deadbeef-active-abc").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((tmp + "/1.deadbeef-active-abc/fs").c_str(), 0700), 0);
  write_file(tmp + "/1.deadbeef-active-abc/fs/x", "x");
  write_file(tmp + "/2.cafebabe.lock", "");
  ASSERT_EQ(::mkdir((tmp + "/2.cafebabe-view-xyz").c_str(), 0700), 0);
  if (is_root()) {
    ASSERT_EQ(::mount("tmpfs", (tmp + "/2.cafebabe-view-xyz").c_str(), "tmpfs", 0, nullptr), 0);
  }
  const auto before = tmp_entries();
  EXPECT_EQ(before.size(), 3U);
  auto next = open();
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(tmp_entries().size(), 1U); // the live active's
  EXPECT_FALSE(exists(tmp + "/2.cafebabe.lock"));
  EXPECT_EQ(mounts_below(tmp + "/2.cafebabe-view-xyz"), std::vector<std::string>{});
  auto id = live->commit(std::move(*active));
  ASSERT_TRUE(id) << id.error().to_string();
  auto view = next->view(*id);
  ASSERT_TRUE(view) << view.error().to_string();
  EXPECT_EQ(read_file((*view)->path() + "/mine"), "mine");
}

INSTANTIATE_TEST_SUITE_P(Kinds, ChainTest, ::testing::Values(Kind::overlay, Kind::copy),
                         [](const auto& p) {
                           return p.param == Kind::overlay ? "overlay" : "copy";
                         });

TEST(OpenSnapshotter, AutomaticPicksOverlayAsRootAndKeepsTheKind) {
  MASON_NEED_KERNEL_SCRATCH();
  auto dir = sys::TempDir::create_in(test::scratch_base(), "mason-snapshot-test-");
  ASSERT_TRUE(dir);
  const std::string state = dir->path() + "/state";
  std::string why;
  {
    auto s = open_snapshotter(state, KindChoice::automatic, &why);
    ASSERT_TRUE(s) << s.error().to_string();
    const Kind expected = is_root() ? Kind::overlay : Kind::copy;
    EXPECT_EQ((*s)->kind(), expected) << why;
    EXPECT_NE(why.find(expected == Kind::overlay ? "overlay" : "copy"), std::string::npos) << why;
  }
  for (const auto& name : list_dir(state + "/tmp")) EXPECT_TRUE(name.ends_with(".lock")) << name;
  auto again = open_snapshotter(state, KindChoice::automatic, &why);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_NE(why.find("created with"), std::string::npos) << why;
  if (is_root()) {
    auto copy = open_snapshotter(state, KindChoice::copy);
    ASSERT_FALSE(copy);
    EXPECT_EQ(copy.error().code(), util::ErrorCode::invalid_argument);
  }
  EXPECT_EQ(mounts_below(dir->path()), std::vector<std::string>{});
}

} // namespace
} // namespace mason::snapshot::testing
