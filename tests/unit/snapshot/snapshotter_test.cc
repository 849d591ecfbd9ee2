// The snapshotter, both kinds (overlay only as root): unpacked chains,
// views, prepare/modify/commit/diff, equivalence of the kinds' layers,
// removal and discarding.
#include <gtest/gtest.h>

#include <map>

#include <sys/sysmacros.h>

#include "../kernel_scratch.h"
#include "mason/snapshot/overlay.h"
#include "snapshot_test_util.h"

namespace mason::snapshot::testing {
namespace {

std::string base_layer() {
  return LayerBuilder()
      .dir("bin")
      .file("bin/sh", "#!sh", 0755)
      .hardlink("bin/bash", "bin/sh")
      .dir("data")
      .file("data/a", "A")
      .file("data/b", "B")
      .dir("data/sub")
      .file("data/sub/c", "C")
      .dir("etc")
      .file("etc/group", "root:x:0:")
      .file("etc/passwd", "root:x:0:0")
      .fifo("fifo0")
      .file("keep", "kept", 0600, 1000, 1000)
      .symlink("lib", "usr/lib")
      .dir("old")
      .file("old/x", "X")
      .dir("usr")
      .dir("usr/lib")
      .file("usr/lib/libc.so", "ELF")
      .take();
}

std::string second_layer() {
  return LayerBuilder()
      .dir("data")
      .opaque("data")
      .file("data/new", "N")
      .dir("etc")
      .file("etc/hosts", "127.0.0.1 localhost")
      .file("etc/passwd", "root:x:0:0:root")
      .whiteout("", "old")
      .take();
}

class SnapshotterTest : public ::testing::TestWithParam<Kind> {
protected:
  void SetUp() override {
    if (GetParam() == Kind::overlay) MASON_NEED_KERNEL_SCRATCH();
    auto dir = sys::TempDir::create_in(test::scratch_base(), "mason-snapshot-test-");
    ASSERT_TRUE(dir);
    m_dir.emplace(std::move(*dir));
    m_snap = open();
    ASSERT_NE(m_snap, nullptr);
  }

  void TearDown() override {
    m_snap.reset();
    if (m_dir) {
      EXPECT_EQ(mounts_below(m_dir->path()), std::vector<std::string>{});
    }
  }

  std::string state() const { return m_dir->path() + "/state"; }

  std::unique_ptr<Snapshotter> open(const OverlayLimits& limits = {}) {
    const auto choice = GetParam() == Kind::overlay ? KindChoice::overlay : KindChoice::copy;
    auto s = open_snapshotter(state(), choice, nullptr, limits);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(*s) : nullptr;
  }

  // Unpacks `layers` as a chain; returns the top id.
  std::string unpack_chain(const std::vector<std::string>& layers, Snapshotter* s = nullptr) {
    std::optional<std::string> parent;
    for (const auto& layer : layers) {
      const std::string id = chain_id(parent, layer);
      auto got = (s != nullptr ? s : m_snap.get())->unpack(parent, id, opener(layer), nullptr);
      EXPECT_TRUE(got) << got.error().to_string();
      if (!got) return "";
      EXPECT_EQ(*got, id);
      parent = id;
    }
    return *parent;
  }

  // The layers applied in merged form into a new directory (the reference).
  std::string reference(const std::vector<std::string>& layers) {
    const std::string path = m_dir->path() + "/ref" + std::to_string(m_refs++);
    EXPECT_EQ(::mkdir(path.c_str(), 0755), 0);
    for (const auto& layer : layers) apply_merged(layer, path);
    return path;
  }

  std::string diff(const std::string& id) {
    archive::LayerOptions options;
    options.compress.compression = archive::Compression::none;
    archive::StringSink sink;
    auto info = m_snap->diff(id, options, sink);
    EXPECT_TRUE(info) << info.error().to_string();
    if (info) {
      EXPECT_EQ(info->diff_id.hex(), util::Sha256::hex_of(sink.data()));
    }
    return sink.take();
  }

  std::vector<std::string> tmp_entries() const {
    std::vector<std::string> out;
    for (auto& name : list_dir(state() + "/tmp"))
      if (!name.ends_with(".lock")) out.push_back(name);
    return out;
  }

  std::optional<sys::TempDir> m_dir;
  std::unique_ptr<Snapshotter> m_snap;
  int m_refs = 0;
};

std::map<std::string, const DiffEntry*> by_name(const std::vector<DiffEntry>& entries) {
  std::map<std::string, const DiffEntry*> out;
  for (const auto& e : entries) out[e.entry.name] = &e;
  return out;
}

std::vector<std::string> names_of(const std::vector<DiffEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.entry.name);
  return out;
}

TEST_P(SnapshotterTest, KindIsTheOneAskedFor) { EXPECT_EQ(m_snap->kind(), GetParam()); }

TEST_P(SnapshotterTest, ViewOfAnUnpackedChainShowsTheMergedTree) {
  const std::vector<std::string> layers = {base_layer(), second_layer()};
  const std::string top = unpack_chain(layers);
  auto view = m_snap->view(top);
  ASSERT_TRUE(view) << view.error().to_string();
  const auto got = describe((*view)->path());
  EXPECT_EQ(got, describe(reference(layers)));
  EXPECT_FALSE(got.contains("old"));
  // Owners are kept as root only.
  const std::string owner =
      is_root() ? "0:0" : std::to_string(::getuid()) + ":" + std::to_string(::getgid());
  EXPECT_EQ(got.at("data/new"), "file[N] 0644 " + owner + " t1700000000");
  EXPECT_FALSE(got.contains("data/a"));
  EXPECT_EQ(got.at("bin/sh"), "file[#!sh] 0755 " + owner + " t1700000000 link=bin/bash");
  if (GetParam() == Kind::overlay) {
    // Read-only: a view is a mount without an upper.
    const std::string path = (*view)->path() + "/etc/passwd";
    EXPECT_LT(::open(path.c_str(), O_WRONLY | O_CLOEXEC), 0);
    EXPECT_EQ(errno, EROFS);
  }
}

TEST_P(SnapshotterTest, ViewOfOneLayerAndOfNothing) {
  const std::string base = base_layer();
  const std::string id = unpack_chain({base});
  {
    auto view = m_snap->view(id);
    ASSERT_TRUE(view) << view.error().to_string();
    EXPECT_EQ(describe((*view)->path()), describe(reference({base})));
  }
  auto empty = m_snap->view(std::nullopt);
  ASSERT_TRUE(empty) << empty.error().to_string();
  EXPECT_TRUE(list_dir((*empty)->path()).empty());
  const std::string path = (*empty)->path();
  empty->reset();
  EXPECT_FALSE(exists(path));
}

TEST_P(SnapshotterTest, UnknownParentOrSnapshotIsNotFound) {
  auto active = m_snap->prepare(std::string("sha256:nothing"));
  ASSERT_FALSE(active);
  EXPECT_EQ(active.error().code(), util::ErrorCode::not_found);
  auto view = m_snap->view(std::string("nothing"));
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error().code(), util::ErrorCode::not_found);
  auto unpacked = m_snap->unpack(std::string("nothing"), "sha256:x", opener(base_layer()), nullptr);
  ASSERT_FALSE(unpacked);
  EXPECT_EQ(unpacked.error().code(), util::ErrorCode::not_found);
  archive::StringSink sink;
  auto diffed = m_snap->diff("nothing", {}, sink);
  ASSERT_FALSE(diffed);
  EXPECT_EQ(diffed.error().code(), util::ErrorCode::not_found);
  auto removed = m_snap->remove("nothing");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code(), util::ErrorCode::not_found);
  EXPECT_NE(removed.error().to_string().find("nothing"), std::string::npos);
  EXPECT_TRUE(tmp_entries().empty());
}

// The operations of a RUN step, through the active root.
void modify(const std::string& root) {
  write_file(root + "/new.txt", "hello");
  write_file(root + "/etc/group", "root:x:0:\nstaff:x:50:");
  ASSERT_EQ(::unlink((root + "/etc/hosts").c_str()), 0);
  ASSERT_EQ(std::system(("rm -r '" + root + "/usr'").c_str()), 0);
  ASSERT_EQ(::mkdir((root + "/usr").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/usr/local").c_str(), 0700), 0);
  write_file(root + "/usr/local/tool", "tool", 0755);
  ASSERT_EQ(::chmod((root + "/etc/passwd").c_str(), 0600), 0);
  if (is_root()) {
    ASSERT_EQ(::lchown((root + "/keep").c_str(), 2000, 3000), 0);
  }
  ASSERT_EQ(::link((root + "/bin/sh").c_str(), (root + "/sh-link").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (root + "/mylink").c_str()), 0);
  ASSERT_EQ(::mkfifo((root + "/myfifo").c_str(), 0640), 0);
}

TEST_P(SnapshotterTest, PrepareModifyCommitDiff) {
  const std::vector<std::string> layers = {base_layer(), second_layer()};
  const std::string top = unpack_chain(layers);
  auto active = m_snap->prepare(top);
  ASSERT_TRUE(active) << active.error().to_string();
  const std::string root = (*active)->path();
  EXPECT_EQ(read_file(root + "/etc/passwd"), "root:x:0:0:root");
  modify(root);
  const DescribeOptions content_only{Links::ignore, false};
  const auto expected = describe(root, content_only);
  auto id = m_snap->commit(std::move(*active));
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_TRUE(tmp_entries().empty());

  const std::string tar = diff(*id);
  const auto entries = read_tar(tar);
  const auto named = by_name(entries);
  for (const char* name : {"new.txt", "etc/", "etc/group", "etc/.wh.hosts", "etc/passwd", "usr/",
                           "usr/local/", "usr/local/tool", "sh-link", "mylink", "myfifo"})
    EXPECT_TRUE(named.contains(name)) << name;
  for (const char* name : {"data/", "data/new", "old", "lib", "fifo0", "etc/hosts"})
    EXPECT_FALSE(named.contains(name)) << name;
  if (GetParam() == Kind::overlay) {
    EXPECT_TRUE(named.contains("usr/.wh..wh..opq"));
  } else {
    EXPECT_TRUE(named.contains("usr/.wh.lib"));
  }
  EXPECT_EQ(named.at("etc/passwd")->entry.mode, 0600U);
  EXPECT_EQ(named.at("etc/passwd")->data, "root:x:0:0:root");
  EXPECT_EQ(named.at("etc/group")->data, "root:x:0:\nstaff:x:50:");
  EXPECT_EQ(named.at("usr/local/")->entry.mode, 0700U);
  EXPECT_EQ(named.at("mylink")->entry.type, archive::EntryType::symlink);
  EXPECT_EQ(named.at("mylink")->entry.linkname, "/etc/passwd");
  EXPECT_EQ(named.at("myfifo")->entry.type, archive::EntryType::fifo);
  EXPECT_EQ(named.at("etc/.wh.hosts")->entry.type, archive::EntryType::regular);
  // The hard link to a lower file: a link entry to a full copy of it.
  const auto& link = named.at("sh-link")->entry;
  ASSERT_EQ(link.type, archive::EntryType::hardlink);
  ASSERT_TRUE(named.contains(link.linkname));
  EXPECT_EQ(named.at(link.linkname)->data, "#!sh");
  if (is_root()) {
    ASSERT_TRUE(named.contains("keep"));
    EXPECT_EQ(named.at("keep")->entry.uid, 2000);
    EXPECT_EQ(named.at("keep")->entry.gid, 3000);
    EXPECT_EQ(named.at("keep")->data, "kept");
  }
  // Parent directories come before their contents.
  const auto names = names_of(entries);
  const auto pos = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) - names.begin();
  };
  EXPECT_LT(pos("usr/"), pos("usr/local/"));
  EXPECT_LT(pos("usr/local/"), pos("usr/local/tool"));

  // The diff applied onto the parent's tree gives what the step saw.
  const std::string ref = reference(layers);
  apply_merged(tar, ref);
  EXPECT_EQ(describe(ref, content_only), expected);

  // The committed snapshot is a parent like any other.
  auto view = m_snap->view(*id);
  ASSERT_TRUE(view) << view.error().to_string();
  EXPECT_EQ(describe((*view)->path(), content_only), expected);
  auto next = m_snap->prepare(*id);
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(read_file((*next)->path() + "/new.txt"), "hello");
  EXPECT_FALSE(exists((*next)->path() + "/etc/hosts"));
}

TEST_P(SnapshotterTest, ReplacedTypesAndUnchangedEntries) {
  const std::string base = base_layer();
  const std::string top = unpack_chain({base});
  auto active = m_snap->prepare(top);
  ASSERT_TRUE(active) << active.error().to_string();
  const std::string root = (*active)->path();
  // A directory replaced by a file, a file by a directory.
  ASSERT_EQ(std::system(("rm -r '" + root + "/old'").c_str()), 0);
  write_file(root + "/old", "now a file");
  ASSERT_EQ(::unlink((root + "/keep").c_str()), 0);
  ASSERT_EQ(::mkdir((root + "/keep").c_str(), 0750), 0);
  write_file(root + "/keep/inner", "in");
  // Rewritten with the same bytes, size and mtime: changed all the same.
  write_file(root + "/data/a", "Z");
  const timespec times[2] = {{k_time, 0}, {k_time, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root + "/data/a").c_str(), times, 0), 0);
  const auto expected = describe(root, {Links::ignore, false});
  auto id = m_snap->commit(std::move(*active));
  ASSERT_TRUE(id) << id.error().to_string();
  const std::string tar = diff(*id);
  const auto names = names_of(read_tar(tar));
  if (GetParam() == Kind::overlay) {
    EXPECT_EQ(names, (std::vector<std::string>{"data/", "data/a", "keep/", "keep/.wh..wh..opq",
                                               "keep/inner", "old"}));
  } else {
    EXPECT_EQ(names, (std::vector<std::string>{"data/", "data/a", "keep/", "keep/inner", "old"}));
  }
  const std::string ref = reference({base});
  apply_merged(tar, ref);
  EXPECT_EQ(describe(ref, {Links::ignore, false}), expected);
}

// COPY --link's merge: a tree made over nothing put over a parent is that
// tree's layer applied over the parent (types replaced, directories
// merged with the layer's metadata), with no file data copied.
TEST_P(SnapshotterTest, StackIsTheLayerAppliedOverTheParent) {
  const std::string base = base_layer();
  const std::string top = unpack_chain({base});
  auto active = m_snap->prepare(std::nullopt);
  ASSERT_TRUE(active) << active.error().to_string();
  const std::string root = (*active)->path();
  ASSERT_EQ(::mkdir((root + "/keep").c_str(), 0750), 0); // a file in the parent
  write_file(root + "/keep/inner", "in");
  ASSERT_EQ(::mkdir((root + "/data").c_str(), 0700), 0); // a directory in the parent
  write_file(root + "/data/b", std::string(50000, 'b'));
  ASSERT_EQ(::symlink("data/b", (root + "/link").c_str()), 0);
  auto layer = m_snap->commit(std::move(*active));
  ASSERT_TRUE(layer) << layer.error().to_string();
  auto stacked = m_snap->stack(top, *layer);
  ASSERT_TRUE(stacked) << stacked.error().to_string();
  if (GetParam() == Kind::copy) {
    EXPECT_FALSE(*stacked); // the caller applies the layer instead
    return;
  }
  ASSERT_TRUE(*stacked);
  const std::string tar = diff(*layer);
  EXPECT_EQ(names_of(read_tar(diff(**stacked))), names_of(read_tar(tar)));
  const std::string ref = reference({base});
  apply_merged(tar, ref);
  auto view = m_snap->view(**stacked);
  ASSERT_TRUE(view) << view.error().to_string();
  EXPECT_EQ(describe((*view)->path(), {Links::ignore, false}),
            describe(ref, {Links::ignore, false}));
  auto parent = m_snap->parent(**stacked);
  ASSERT_TRUE(parent);
  EXPECT_EQ(*parent, std::optional<std::string>(top));
  // Only a tree made over nothing can be stacked.
  auto refused = m_snap->stack(std::nullopt, **stacked);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), util::ErrorCode::invalid_argument);
}

TEST_P(SnapshotterTest, ScratchSnapshotDiffIsTheWholeTree) {
  auto active = m_snap->prepare(std::nullopt);
  ASSERT_TRUE(active) << active.error().to_string();
  ASSERT_EQ(::mkdir(((*active)->path() + "/d").c_str(), 0755), 0);
  write_file((*active)->path() + "/d/f", "x");
  ASSERT_EQ(::link(((*active)->path() + "/d/f").c_str(), ((*active)->path() + "/g").c_str()), 0);
  auto id = m_snap->commit(std::move(*active));
  ASSERT_TRUE(id) << id.error().to_string();
  const auto entries = read_tar(diff(*id));
  ASSERT_EQ(names_of(entries), (std::vector<std::string>{"d/", "d/f", "g"}));
  EXPECT_EQ(entries[2].entry.type, archive::EntryType::hardlink);
  EXPECT_EQ(entries[2].entry.linkname, "d/f");
}

TEST_P(SnapshotterTest, BothKindsGiveEquivalentLayers) {
  // The same step in the other kind's state dir, the two diffs applied
  // onto the parent tree: the same tree.
  const std::vector<std::string> layers = {base_layer(), second_layer()};
  std::vector<std::string> trees;
  for (const Kind kind : {Kind::overlay, Kind::copy}) {
    if (kind == Kind::overlay && test::kernel_scratch().dir.empty()) continue;
    auto s = open_snapshotter(m_dir->path() + "/eq-" + std::to_string(static_cast<int>(kind)),
                              kind == Kind::overlay ? KindChoice::overlay : KindChoice::copy);
    ASSERT_TRUE(s) << s.error().to_string();
    const std::string top = unpack_chain(layers, s->get());
    auto active = (*s)->prepare(top);
    ASSERT_TRUE(active) << active.error().to_string();
    modify((*active)->path());
    auto id = (*s)->commit(std::move(*active));
    ASSERT_TRUE(id) << id.error().to_string();
    archive::LayerOptions options;
    archive::StringSink sink;
    auto info = (*s)->diff(*id, options, sink); // gzip, read back by apply_layer
    ASSERT_TRUE(info) << info.error().to_string();
    EXPECT_EQ(info->media_type, archive::media_type_of(archive::Compression::gzip));
    const std::string ref = reference(layers);
    apply_merged(sink.data(), ref);
    trees.push_back(ref);
  }
  if (trees.size() == 2) {
    // (Entries the step made carry the time of their making.)
    const DescribeOptions content{Links::ignore, false, false};
    EXPECT_EQ(describe(trees[0], content), describe(trees[1], content));
  }
}

TEST_P(SnapshotterTest, HardLinkToALowerFileUnpacks) {
  const std::string base = LayerBuilder().file("a", "A", 0640).dir("d").take();
  const std::string top = LayerBuilder().dir("d").hardlink("d/b", "a").file("c", "C").take();
  const std::string id = unpack_chain({base, top});
  auto view = m_snap->view(id);
  ASSERT_TRUE(view) << view.error().to_string();
  EXPECT_EQ(describe((*view)->path()), describe(reference({base, top})));
  EXPECT_EQ(read_file((*view)->path() + "/d/b"), "A");
  view->reset();
  EXPECT_TRUE(tmp_entries().empty());
  if (GetParam() == Kind::overlay) {
    // Applied through a mount: the kernel copied the link target up.
    const std::string upper = state() + "/sha256+3a" + id.substr(7) + "/fs";
    EXPECT_EQ(describe(upper),
              (std::map<std::string, std::string>{{"a", "file[A] 0640 0:0 t1700000000"},
                                                  {"c", "file[C] 0644 0:0 t1700000000"},
                                                  {"d", "dir 0755 0:0"},
                                                  {"d/b", "file[A] 0640 0:0 t1700000000 link=a"}}));
  }
}

TEST_P(SnapshotterTest, DiscardedActiveLeavesNothing) {
  const std::string top = unpack_chain({base_layer()});
  const auto before = list_dir(state());
  {
    auto active = m_snap->prepare(top);
    ASSERT_TRUE(active) << active.error().to_string();
    write_file((*active)->path() + "/junk", "junk");
    ASSERT_EQ(::unlink(((*active)->path() + "/keep").c_str()), 0);
    EXPECT_EQ(tmp_entries().size(), 1U);
  }
  EXPECT_TRUE(tmp_entries().empty());
  EXPECT_EQ(list_dir(state()), before);
  EXPECT_EQ(mounts_below(m_dir->path()), std::vector<std::string>{});
}

TEST_P(SnapshotterTest, CommitOfARootStillInUseFails) {
  if (GetParam() != Kind::overlay) GTEST_SKIP() << "only a mount can be busy";
  auto active = m_snap->prepare(std::nullopt);
  ASSERT_TRUE(active) << active.error().to_string();
  write_file((*active)->path() + "/f", "x");
  sys::UniqueFd busy(::open(((*active)->path() + "/f").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(busy.valid());
  auto id = m_snap->commit(std::move(*active));
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code(), util::ErrorCode::unavailable) << id.error().to_string();
  busy.reset();
  EXPECT_TRUE(tmp_entries().empty());
}

TEST_P(SnapshotterTest, RemoveRefusesSharedAndUsedSnapshots) {
  const std::string top = unpack_chain({base_layer()});
  auto a = m_snap->prepare(top);
  ASSERT_TRUE(a);
  auto first = m_snap->commit(std::move(*a));
  ASSERT_TRUE(first);
  auto b = m_snap->prepare(*first);
  ASSERT_TRUE(b);
  auto second = m_snap->commit(std::move(*b));
  ASSERT_TRUE(second);

  auto st = m_snap->remove(top);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::invalid_argument);
  st = m_snap->remove(*first);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::invalid_argument);
  {
    auto over = m_snap->prepare(*second);
    ASSERT_TRUE(over);
    st = m_snap->remove(*second);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), util::ErrorCode::unavailable);
  }
  EXPECT_TRUE(m_snap->remove(*second));
  EXPECT_TRUE(m_snap->remove(*first));
  EXPECT_FALSE(m_snap->view(*first));
  st = m_snap->remove(*first);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::not_found);
  EXPECT_TRUE(tmp_entries().empty());
  // Only the unpacked layer is left, with its one short link.
  if (GetParam() == Kind::overlay) {
    EXPECT_EQ(list_dir(state() + "/l").size(), 1U);
  }
  auto view = m_snap->view(top);
  EXPECT_TRUE(view) << view.error().to_string();
}

TEST_P(SnapshotterTest, RemoveLayerTakesUnpackedLayersOnRequest) {
  const std::string base = unpack_chain({base_layer()});
  auto built = m_snap->prepare(base);
  ASSERT_TRUE(built);
  auto child = m_snap->commit(std::move(*built));
  ASSERT_TRUE(child);
  // A layer something is built on stays; so does one in use here.
  auto st = m_snap->remove_layer(base);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::invalid_argument);
  ASSERT_TRUE(m_snap->remove(*child));
  {
    auto view = m_snap->view(base);
    ASSERT_TRUE(view);
    st = m_snap->remove_layer(base);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), util::ErrorCode::unavailable);
  }
  ASSERT_TRUE(m_snap->remove_layer(base)) << "an unused layer";
  EXPECT_FALSE(*m_snap->exists(base));
  EXPECT_TRUE(tmp_entries().empty());
  if (GetParam() == Kind::overlay) {
    EXPECT_TRUE(list_dir(state() + "/l").empty()) << "its short link is gone";
  }
  // Unpacked again on demand, under the same id.
  EXPECT_EQ(unpack_chain({base_layer()}), base);
  EXPECT_TRUE(m_snap->view(base));
}

TEST_P(SnapshotterTest, ListExistsAndUsage) {
  const std::string top = unpack_chain({base_layer()});
  auto a = m_snap->prepare(top);
  ASSERT_TRUE(a);
  write_file((*a)->path() + "/big", std::string(100000, 'x'));
  auto id = m_snap->commit(std::move(*a));
  ASSERT_TRUE(id) << id.error().to_string();
  auto listed = m_snap->list();
  ASSERT_TRUE(listed) << listed.error().to_string();
  std::map<std::string, SnapshotEntry> by_id;
  for (auto& e : *listed) by_id.emplace(e.id, e);
  ASSERT_TRUE(by_id.contains(top));
  ASSERT_TRUE(by_id.contains(*id));
  EXPECT_TRUE(by_id[top].unpacked);
  EXPECT_FALSE(by_id[*id].unpacked);
  EXPECT_EQ(by_id[*id].parent, std::optional<std::string>(top));
  EXPECT_TRUE(*m_snap->exists(*id));
  EXPECT_FALSE(*m_snap->exists("no-such-snapshot"));
  auto used = m_snap->usage(*id);
  ASSERT_TRUE(used) << used.error().to_string();
  EXPECT_GE(used->bytes, 100000);
  EXPECT_GE(used->apparent, 100000);
  EXPECT_EQ(*m_snap->parent(*id), std::optional<std::string>(top));
  EXPECT_TRUE(m_snap->remove(*id));
  EXPECT_FALSE(*m_snap->exists(*id));
  EXPECT_FALSE(m_snap->usage(*id));
}

TEST_P(SnapshotterTest, CommitRejectsAForeignActive) {
  auto other =
      open_snapshotter(m_dir->path() + "/other",
                       GetParam() == Kind::overlay ? KindChoice::overlay : KindChoice::copy);
  ASSERT_TRUE(other);
  auto active = (*other)->prepare(std::nullopt);
  ASSERT_TRUE(active);
  auto id = m_snap->commit(std::move(*active));
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code(), util::ErrorCode::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Kinds, SnapshotterTest, ::testing::Values(Kind::overlay, Kind::copy),
                         [](const auto& p) {
                           return p.param == Kind::overlay ? "overlay" : "copy";
                         });

} // namespace
} // namespace mason::snapshot::testing
