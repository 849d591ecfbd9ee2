// Directory tree → layer → directory tree, and what the writer produces.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sys/xattr.h>

#include "archive_test_util.h"
#include "mason/util/strings.h"

using namespace mason;
using namespace mason::archive;
using namespace mason::archive::testing;

namespace {

const std::string k_cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                        "\x00\x00",
                        20);

bool user_xattrs_supported(const std::string& dir) {
  const std::string probe = dir + "/.xattr-probe";
  write_file(probe, "");
  const bool ok = ::setxattr(probe.c_str(), "user.probe", "1", 1, 0) == 0;
  ::unlink(probe.c_str());
  return ok;
}

class RoundTrip : public Dirs {
protected:
  // Every kind of entry the writer and the applier handle.
  void make_tree() {
    const std::string s = src();
    ASSERT_EQ(::mkdir((s + "/d").c_str(), 0750), 0);
    ASSERT_EQ(::mkdir((s + "/d/sub").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((s + "/empty-dir").c_str(), 0755), 0);
    write_file(s + "/d/a.txt", "hello\n");
    write_file(s + "/empty", "", 0600);
    write_file(s + "/exec", "#!/bin/sh\n", 04755);
    ASSERT_EQ(::chmod((s + "/exec").c_str(), 04755), 0);
    ASSERT_EQ(::mkdir((s + "/sticky").c_str(), 01777), 0);
    ASSERT_EQ(::chmod((s + "/sticky").c_str(), 01777), 0);
    ASSERT_EQ(::symlink("../empty", (s + "/d/link").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/passwd", (s + "/abs").c_str()), 0);
    ASSERT_EQ(::link((s + "/d/a.txt").c_str(), (s + "/h1").c_str()), 0);
    ASSERT_EQ(::link((s + "/d/a.txt").c_str(), (s + "/d/sub/h2").c_str()), 0);
    // > 100 bytes (ustar prefix) and > 255 bytes (PAX) paths.
    const std::string d100 = s + "/" + std::string(90, 'p');
    ASSERT_EQ(::mkdir(d100.c_str(), 0755), 0);
    write_file(d100 + "/" + std::string(40, 'q'), "long1");
    const std::string d200 = d100 + "/" + std::string(200, 'r');
    ASSERT_EQ(::mkdir(d200.c_str(), 0755), 0);
    write_file(d200 + "/" + std::string(250, 's'), "long2");
    ASSERT_EQ(::symlink(std::string(300, 't').c_str(), (s + "/longlink").c_str()), 0);
    const std::string unicode = "\u00fcn\u00efc\u00f8d\u00e9";
    ASSERT_EQ(::mkdir((s + "/" + unicode).c_str(), 0755), 0);
    write_file(s + "/" + unicode + "/\u65e5\u672c.txt", "jp");
    // A big file, mostly holes.
    {
      sys::UniqueFd fd(::open((s + "/big").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      ASSERT_TRUE(fd.valid());
      ASSERT_EQ(::ftruncate(fd.get(), 8 << 20), 0);
      ASSERT_EQ(::pwrite(fd.get(), "middle", 6, 3 << 20), 6);
      ASSERT_EQ(::pwrite(fd.get(), "end", 3, (8 << 20) - 3), 3);
    }
    ASSERT_EQ(::mkfifo((s + "/fifo").c_str(), 0640), 0);
    ASSERT_EQ(::chmod((s + "/fifo").c_str(), 0640), 0);
    if (user_xattrs_supported(s)) {
      ASSERT_EQ(::setxattr((s + "/d/a.txt").c_str(), "user.note", "a\0b\nc", 5, 0), 0);
      ASSERT_EQ(::setxattr((s + "/d").c_str(), "user.dir", "v", 1, 0), 0);
    }
    if (is_root()) {
      ASSERT_EQ(
          ::setxattr((s + "/exec").c_str(), "security.capability", k_cap.data(), k_cap.size(), 0),
          0);
      ASSERT_EQ(::lsetxattr((s + "/abs").c_str(), "trusted.mason", "on-link", 7, 0), 0);
      ASSERT_EQ(::mknod((s + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
      ASSERT_EQ(::mknod((s + "/loop").c_str(), S_IFBLK | 0660, makedev(7, 0)), 0);
      ASSERT_EQ(::chmod((s + "/null").c_str(), 0666), 0);
      ASSERT_EQ(::chmod((s + "/loop").c_str(), 0660), 0);
      ASSERT_EQ(::chown((s + "/d/a.txt").c_str(), 1000, 1000), 0);
      ASSERT_EQ(::chown((s + "/d").c_str(), 123, 456), 0);
      ASSERT_EQ(::lchown((s + "/abs").c_str(), 77, 88), 0);
      // chown dropped the setuid bit and the capability: set them again.
      ASSERT_EQ(::chown((s + "/exec").c_str(), 0, 2000), 0);
      ASSERT_EQ(::chmod((s + "/exec").c_str(), 04755), 0);
      ASSERT_EQ(
          ::setxattr((s + "/exec").c_str(), "security.capability", k_cap.data(), k_cap.size(), 0),
          0);
    }
    // Fixed mtimes, deepest first (creating entries bumps parents).
    auto all = describe(s);
    for (auto it = all.rbegin(); it != all.rend(); ++it) set_mtime(s + "/" + it->first, 1600000000);
  }

  std::string layer_of(const std::string& root, const LayerOptions& options,
                       LayerInfo* info = nullptr) {
    StringSink out;
    auto r = write_layer(root, options, out);
    EXPECT_TRUE(r) << r.error().to_string();
    if (r && info != nullptr) *info = *r;
    return out.take();
  }
};

LayerOptions uncompressed() {
  LayerOptions o;
  o.compress.compression = Compression::none;
  return o;
}

} // namespace

TEST_F(RoundTrip, TreeToTarToTreeKeepsEverything) {
  make_tree();
  for (const Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    SCOPED_TRACE(std::string(to_string(c)));
    ASSERT_TRUE(sys::remove_children(dest_fd()));
    LayerOptions o;
    o.compress.compression = c;
    LayerInfo info;
    const std::string layer = layer_of(src(), o, &info);
    EXPECT_EQ(info.media_type, media_type_of(c));
    EXPECT_EQ(info.digest.str(), "sha256:" + sha256(layer));
    EXPECT_EQ(info.size, static_cast<std::int64_t>(layer.size()));
    auto stats = apply(layer);
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(stats->diff_id, info.diff_id);
    EXPECT_EQ(stats->digest, info.digest);
    EXPECT_EQ(stats->compression, c);
    EXPECT_EQ(stats->hardlinks, 2u);
    EXPECT_EQ(describe(dest()), describe(src()));
  }
  // Holes stay holes.
  struct stat st {};
  ASSERT_EQ(::stat((dest() + "/big").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);
  EXPECT_EQ(read_file(dest() + "/big").substr(3 << 20, 6), "middle");
  expect_outside_untouched();
}

TEST_F(RoundTrip, EntriesComeSortedWithHardlinksAfterTheirTarget) {
  make_tree();
  const std::string layer = layer_of(src(), uncompressed());
  auto entries = read_all(layer);
  ASSERT_TRUE(entries) << entries.error().to_string();
  std::vector<std::string> names;
  for (const auto& e : *entries) names.push_back(e.entry.name);
  // Depth first, names sorted by bytes within each directory.
  const std::vector<std::string> order = {
      "abs",    "big",        "d/",   "d/a.txt", "d/link", "d/sub/",   "d/sub/h2",
      "empty",  "empty-dir/", "exec", "fifo",    "h1",     "longlink", std::string(90, 'p') + "/",
      "sticky/"};
  std::vector<std::string> seen;
  for (const auto& n : names)
    if (std::find(order.begin(), order.end(), n) != order.end()) seen.push_back(n);
  EXPECT_EQ(seen, order);
  // d/a.txt is the file; h1 and d/sub/h2 link to it ("d/..." sorts before "h1").
  for (const auto& e : *entries) {
    if (e.entry.name == "d/a.txt") {
      EXPECT_EQ(e.entry.type, EntryType::regular);
    }
    if (e.entry.name == "h1" || e.entry.name == "d/sub/h2") { // NOLINT(bugprone-branch-clone)
      EXPECT_EQ(e.entry.type, EntryType::hardlink);
      EXPECT_EQ(e.entry.linkname, "d/a.txt");
    }
    EXPECT_EQ(e.entry.uid == 0 || is_root() ? true : e.entry.uid == ::geteuid(), true);
    EXPECT_FALSE(e.entry.name.starts_with("/") || e.entry.name.starts_with("./"));
  }
}

TEST_F(RoundTrip, SameTreeTwiceGivesTheSameBytes) {
  make_tree();
  const std::string a = layer_of(src(), uncompressed());
  EXPECT_EQ(sha256(a), sha256(layer_of(src(), uncompressed())));
  for (const Compression comp : {Compression::gzip, Compression::zstd}) {
    LayerOptions o;
    o.compress.compression = comp;
    EXPECT_EQ(sha256(layer_of(src(), o)), sha256(layer_of(src(), o))) << to_string(comp);
  }
  // The same files created in the opposite order (so listed in another
  // order by readdir) give the same bytes.
  auto other = sys::TempDir::create("mason-archive-test-");
  ASSERT_TRUE(other);
  const std::vector<std::string> names = {"zz", "a", "mm", "b0", "B"};
  for (const auto& n : names) write_file(src() + "/order-" + n, n);
  for (auto it = names.rbegin(); it != names.rend(); ++it)
    write_file(other->path() + "/order-" + *it, *it);
  for (const auto& n : names) {
    set_mtime(src() + "/order-" + n, 5);
    set_mtime(other->path() + "/order-" + n, 5);
  }
  ASSERT_TRUE(sys::remove_all_at(AT_FDCWD, src() + "/d"));
  std::map<std::string, std::string> src_only;
  for (const auto& [path, d] : describe(src())) src_only[path] = d;
  for (const auto& [path, d] : src_only) {
    if (!path.starts_with("order-") && exists(src() + "/" + path)) {
      ASSERT_TRUE(sys::remove_all_at(AT_FDCWD, src() + "/" + path));
    }
  }
  EXPECT_EQ(layer_of(src(), uncompressed()), layer_of(other->path(), uncompressed()));
}

TEST_F(RoundTrip, KnownTreeHasKnownDigest) {
  if (!is_root()) GTEST_SKIP() << "needs files owned by 0:0";
  ASSERT_EQ(::mkdir((src() + "/etc").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((src() + "/etc").c_str(), 0755), 0);
  write_file(src() + "/etc/hosts", "127.0.0.1 localhost\n");
  ASSERT_EQ(::link((src() + "/etc/hosts").c_str(), (src() + "/etc/hosts2").c_str()), 0);
  ASSERT_EQ(::symlink("hosts", (src() + "/etc/link").c_str()), 0);
  for (const char* p : {"/etc/link", "/etc/hosts", "/etc"}) {
    ASSERT_EQ(::lchown((src() + p).c_str(), 0, 0), 0);
    set_mtime(src() + p, 1700000000);
  }
  LayerInfo info;
  const std::string layer = layer_of(src(), uncompressed(), &info);
  // Go 1.19 archive/tar writes these four headers to the same 3584 bytes.
  EXPECT_EQ(layer.size(), 3584u);
  EXPECT_EQ(info.diff_id.str(),
            "sha256:c43457c3d30ee8e521df6559dcbb3391e7bfcff76b00146aef2d4f82f9241d83");
  EXPECT_EQ(info.digest, info.diff_id);
  EXPECT_EQ(info.media_type, "application/vnd.oci.image.layer.v1.tar");
}

TEST_F(RoundTrip, EmptyTreeIsTheEmptyLayer) {
  LayerInfo info;
  const std::string layer = layer_of(src(), uncompressed(), &info);
  EXPECT_EQ(layer, std::string(1024, '\0'));
  EXPECT_EQ(info.diff_id.str(),
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
}

TEST_F(RoundTrip, SourceDateEpochClampsMtimes) {
  write_file(src() + "/new", "n");
  write_file(src() + "/old", "o");
  set_mtime(src() + "/new", 2000000000);
  set_mtime(src() + "/old", 1000000000);
  set_mtime(src(), 2000000000);
  auto epoch = mason::util::parse_source_date_epoch("1500000000");
  ASSERT_TRUE(epoch && *epoch);
  EXPECT_EQ(**epoch, 1500000000);
  LayerOptions o = uncompressed();
  o.tar.clamp_mtime = *epoch;
  auto entries = read_all(layer_of(src(), o));
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].entry.mtime, 1500000000);
  EXPECT_EQ((*entries)[1].entry.mtime, 1000000000);
  // Touching a file after the epoch does not change the layer.
  const std::string before = layer_of(src(), o);
  set_mtime(src() + "/new", 2100000000);
  EXPECT_EQ(layer_of(src(), o), before);

  EXPECT_FALSE(mason::util::parse_source_date_epoch("12x"));
  EXPECT_FALSE(mason::util::parse_source_date_epoch("-"));
  EXPECT_EQ(mason::util::parse_source_date_epoch("-5").value(), -5);
  auto unset = mason::util::parse_source_date_epoch("");
  ASSERT_TRUE(unset);
  EXPECT_FALSE(*unset);
}

TEST_F(RoundTrip, XattrSelectionAndExclusions) {
  write_file(src() + "/f", "f");
  if (!user_xattrs_supported(src())) GTEST_SKIP() << "no user xattrs";
  ASSERT_EQ(::setxattr((src() + "/f").c_str(), "user.keep", "1", 1, 0), 0);
  if (is_root()) {
    ASSERT_EQ(::setxattr((src() + "/f").c_str(), "trusted.overlay.origin", "x", 1, 0), 0);
  }
  auto entries = read_all(layer_of(src(), uncompressed()));
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].entry.xattrs, (std::map<std::string, std::string>{{"user.keep", "1"}}));
  LayerOptions none = uncompressed();
  none.tar.xattrs = XattrSelection::none;
  entries = read_all(layer_of(src(), none));
  ASSERT_TRUE(entries);
  EXPECT_TRUE((*entries)[0].entry.xattrs.empty());
}

TEST_F(RoundTrip, SocketsAreSkipped) {
  const std::string path = src() + "/sock";
  ASSERT_EQ(::mknod(path.c_str(), S_IFSOCK | 0600, 0), 0);
  write_file(src() + "/f", "f");
  StringSink out;
  TarWriter tar(out);
  sys::UniqueFd root(::open(src().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  auto stats = write_tree(root.get(), {}, tar);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(stats->skipped_sockets, 1u);
  EXPECT_EQ(stats->entries, 1u);
}

TEST_F(RoundTrip, OwnersAreIgnoredWhenAsked) {
  if (!is_root()) GTEST_SKIP() << "needs files owned by someone else";
  write_file(src() + "/f", "f");
  ASSERT_EQ(::chown((src() + "/f").c_str(), 4242, 4343), 0);
  const std::string layer = layer_of(src(), uncompressed());
  ApplyOptions ignore;
  ignore.owners = OwnerPolicy::ignore;
  ASSERT_TRUE(apply(layer, ignore));
  struct stat st {};
  ASSERT_EQ(::stat((dest() + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_TRUE(apply(layer)); // auto: preserve as root
  ASSERT_EQ(::stat((dest() + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4242u);
  EXPECT_EQ(st.st_gid, 4343u);
}
