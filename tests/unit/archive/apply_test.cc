// apply_layer: escapes, replacement rules, policies and errors. Every test
// checks that the sentinel directory next to the destination is untouched.
#include <gtest/gtest.h>

#include "archive_test_util.h"

using namespace mason;
using namespace mason::archive;
using namespace mason::archive::testing;

namespace {

std::string link_target(const std::string& path) {
  std::string buf(4096, '\0');
  const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  buf.resize(static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
  return buf;
}

class Apply : public Dirs {
protected:
  void expect_error(const util::Result<ApplyStats>& r, util::ErrorCode code,
                    const std::string& needle) {
    ASSERT_FALSE(r) << "applied, expected: " << needle;
    EXPECT_EQ(r.error().code(), code) << r.error().to_string();
    EXPECT_NE(r.error().to_string().find(needle), std::string::npos) << r.error().to_string();
    expect_outside_untouched();
  }
};

} // namespace

TEST_F(Apply, DotDotThatEscapesIsRejected) {
  for (const char* name : {"../x", "a/../../x", "/../x", "../outside/sentinel"}) {
    SCOPED_TRACE(name);
    const std::string tar = TarBuilder().file(name, "evil").finish();
    expect_error(apply(tar), util::ErrorCode::invalid_argument,
                 "apply layer: entry \"" + std::string(name) + "\" at offset 0: path \"" + name +
                     "\" escapes the root");
    EXPECT_FALSE(exists(tmp() + "/x"));
  }
}

TEST_F(Apply, AbsoluteAndDotNamesAreRelativeToTheRoot) {
  const std::string tar =
      TarBuilder().dir("/abs/").file("/abs/f", "1").file("./a/./b/../c", "2").finish();
  auto r = apply(tar);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_file(dest() + "/abs/f"), "1");
  EXPECT_EQ(read_file(dest() + "/a/c"), "2");
  expect_outside_untouched();
}

TEST_F(Apply, AbsoluteSymlinkIsResolvedInsideTheRoot) {
  // l -> / : "l/etc/x" lands in <dest>/etc/x.
  auto r = apply(TarBuilder().symlink("l", "/").file("l/etc/mason-escape-check", "x").finish());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_file(dest() + "/etc/mason-escape-check"), "x");
  EXPECT_FALSE(exists("/etc/mason-escape-check"));
  expect_outside_untouched();
  // l2 -> the outside directory's real absolute path: inside the root that
  // path does not exist, so the entry fails (a dangling symlink is not a
  // directory to create)...
  const std::string via_l2 =
      TarBuilder().symlink("l2", outside()).file("l2/sentinel", "x").finish();
  expect_error(apply(via_l2), util::ErrorCode::not_found,
               "entry \"l2/sentinel\" at offset 512: open directory \"l2\"");
  // ... and once it exists inside the root, writes go there.
  ASSERT_TRUE(run("mkdir -p '" + dest() + outside() + "'"));
  r = apply(via_l2);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_file(dest() + outside() + "/sentinel"), "x");
  expect_outside_untouched();
}

TEST_F(Apply, RelativeSymlinkChainsAreConfined) {
  auto r = apply(TarBuilder()
                     .dir("a/")
                     .symlink("a/up", "../../..")
                     .file("a/up/x", "1")
                     .symlink("b", "a/up/outside")
                     .finish());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_file(dest() + "/x"), "1");
  EXPECT_EQ(link_target(dest() + "/a/up"), "../../.."); // kept verbatim
  expect_error(apply(TarBuilder().file("b/sentinel", "2").finish()), util::ErrorCode::not_found,
               "open directory \"b\"");
  r = apply(TarBuilder().dir("outside/").file("b/sentinel", "2").finish());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_file(dest() + "/outside/sentinel"), "2");
  expect_outside_untouched();
}

TEST_F(Apply, HardlinkTargetsMustStayInsideAndExist) {
  expect_error(apply(TarBuilder().hardlink("h", "../outside/sentinel").finish()),
               util::ErrorCode::invalid_argument, "hard link target: path");
  // Through a symlink to the real outside dir / to the root's parent.
  expect_error(apply(TarBuilder().symlink("s", outside()).hardlink("h", "s/sentinel").finish()),
               util::ErrorCode::not_found, "entry \"h\"");
  expect_error(
      apply(TarBuilder().symlink("s2", "../..").hardlink("h2", "s2/outside/sentinel").finish()),
      util::ErrorCode::not_found, "hard link target \"s2/outside/sentinel\"");
  expect_error(apply(TarBuilder().hardlink("h3", "not-yet").file("not-yet", "x").finish()),
               util::ErrorCode::not_found, "does not exist");
  expect_error(apply(TarBuilder().file("self", "x").hardlink("self", "self").finish()),
               util::ErrorCode::invalid_argument, "hard link to itself");
  EXPECT_FALSE(exists(dest() + "/h"));
  EXPECT_FALSE(exists(dest() + "/h2"));
}

TEST_F(Apply, HardlinksShareTheInode) {
  auto r = apply(TarBuilder()
                     .dir("d/")
                     .file("d/f", "data")
                     .hardlink("g", "/d/f")
                     .symlink("s", "d/f")
                     .hardlink("s2", "s")
                     .finish());
  ASSERT_TRUE(r) << r.error().to_string();
  struct stat a {
  }, b{};
  ASSERT_EQ(::lstat((dest() + "/d/f").c_str(), &a), 0);
  ASSERT_EQ(::lstat((dest() + "/g").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  // A hard link to a symlink links the symlink itself.
  ASSERT_EQ(::lstat((dest() + "/s2").c_str(), &b), 0);
  EXPECT_TRUE(S_ISLNK(b.st_mode));
  EXPECT_EQ(r->hardlinks, 2u);
}

TEST_F(Apply, ExistingSymlinksAreReplacedNeverWrittenThrough) {
  ASSERT_EQ(::symlink((outside() + "/sentinel").c_str(), (dest() + "/f").c_str()), 0);
  ASSERT_EQ(::symlink(outside().c_str(), (dest() + "/d").c_str()), 0);
  ASSERT_EQ(::symlink(outside().c_str(), (dest() + "/w").c_str()), 0);
  auto r = apply(TarBuilder()
                     .file("f", "replaced")
                     .dir("d/")
                     .file("d/sentinel", "inside")
                     .file("w/.wh.sentinel", "")
                     .file("w/.wh..wh..opq", "")
                     .finish());
  ASSERT_TRUE(r) << r.error().to_string();
  struct stat st {};
  ASSERT_EQ(::lstat((dest() + "/f").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(read_file(dest() + "/f"), "replaced");
  ASSERT_EQ(::lstat((dest() + "/d").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(read_file(dest() + "/d/sentinel"), "inside");
  expect_outside_untouched();
}

TEST_F(Apply, WhiteoutsCannotReachOutside) {
  ASSERT_EQ(::symlink("../..", (dest() + "/up").c_str()), 0);
  ASSERT_EQ(::symlink(outside().c_str(), (dest() + "/out").c_str()), 0);
  auto r = apply(TarBuilder()
                     .file("up/outside/.wh.sentinel", "")
                     .file("out/.wh.sentinel", "")
                     .file("up/outside/.wh..wh..opq", "")
                     .finish());
  ASSERT_TRUE(r) << r.error().to_string();
  expect_outside_untouched();
  for (const char* bad : {".wh..", ".wh...", "d/.wh."}) {
    SCOPED_TRACE(bad);
    expect_error(apply(TarBuilder().file(bad, "").finish()), util::ErrorCode::invalid_argument,
                 "invalid whiteout name");
  }
}

TEST_F(Apply, ReplacementRules) {
  ASSERT_EQ(::mkdir((dest() + "/was-dir").c_str(), 0755), 0);
  write_file(dest() + "/was-dir/inner", "x");
  write_file(dest() + "/was-file", "x");
  ASSERT_EQ(::mkdir((dest() + "/merge").c_str(), 0700), 0);
  write_file(dest() + "/merge/lower", "lower");
  auto r = apply(TarBuilder()
                     .file("was-dir", "now a file")
                     .dir("was-file/")
                     .dir("merge/", 0751)
                     .file("merge/upper", "upper")
                     .finish());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_file(dest() + "/was-dir"), "now a file");
  struct stat st {};
  ASSERT_EQ(::lstat((dest() + "/was-file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(read_file(dest() + "/merge/lower"), "lower");
  EXPECT_EQ(read_file(dest() + "/merge/upper"), "upper");
  ASSERT_EQ(::lstat((dest() + "/merge").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000); // set after its contents
}

TEST_F(Apply, ReadOnlyDirectoriesGetTheirModeLast) {
  TarBuilder b;
  b.dir("ro/", 0555).file("ro/f", "x", 0444).dir("ro/sub/", 0500).file("ro/sub/g", "y");
  auto r = apply(b.finish());
  ASSERT_TRUE(r) << r.error().to_string();
  struct stat st {};
  ASSERT_EQ(::lstat((dest() + "/ro").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  ASSERT_EQ(::lstat((dest() + "/ro/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0500u);
  EXPECT_EQ(read_file(dest() + "/ro/sub/g"), "y");
  ASSERT_EQ(::chmod((dest() + "/ro").c_str(), 0755), 0); // so the fixture can clean up
  ASSERT_EQ(::chmod((dest() + "/ro/sub").c_str(), 0755), 0);
}

TEST_F(Apply, RootEntriesAndMissingParents) {
  auto r = apply(TarBuilder().dir("./").dir("/").file("deep/er/f", "x").finish());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->skipped_entries, 2u);
  EXPECT_EQ(read_file(dest() + "/deep/er/f"), "x");
  struct stat st {};
  ASSERT_EQ(::lstat((dest() + "/deep").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  expect_error(apply(TarBuilder().file("./", "x").finish()), util::ErrorCode::invalid_argument,
               "cannot replace the root");
}

TEST_F(Apply, DevicePolicies) {
  TarEntry dev = TarBuilder::entry("null", EntryType::char_device, 0666);
  dev.dev_major = 1;
  dev.dev_minor = 3;
  const std::string tar = TarBuilder().add(dev).finish();
  ApplyOptions o;
  o.devices = DevicePolicy::reject;
  expect_error(apply(tar, o), util::ErrorCode::unsupported, "device nodes are not allowed");
  o.devices = DevicePolicy::skip;
  auto r = apply(tar, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->skipped_entries, 1u);
  EXPECT_FALSE(exists(dest() + "/null"));
  o.devices = DevicePolicy::create;
  r = apply(tar, o);
  if (!is_root()) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), util::ErrorCode::unauthorized);
    return;
  }
  ASSERT_TRUE(r) << r.error().to_string();
  struct stat st {};
  ASSERT_EQ(::lstat((dest() + "/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}

TEST_F(Apply, OverlayFormRejectsForgedWhiteoutsAndOverlayXattrs) {
  TarEntry wh = TarBuilder::entry("fake", EntryType::char_device, 0);
  ApplyOptions o;
  o.target = ApplyTarget::overlay_upper;
  expect_error(apply(TarBuilder().add(wh).finish(), o), util::ErrorCode::invalid_argument,
               "would be an overlay whiteout");
  TarEntry d = TarBuilder::entry("d/", EntryType::directory, 0755);
  d.xattrs = {{"trusted.overlay.opaque", "y"}, {"trusted.overlay.redirect", "/etc"}};
  auto r = apply(TarBuilder().add(d).finish(), o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->skipped_xattrs, 2u);
  auto v = sys::get_xattr_at(dest_fd(), "d", "trusted.overlay.opaque");
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
}

TEST_F(Apply, XattrPolicies) {
  TarEntry f = TarBuilder::entry("f", EntryType::regular, 0644);
  f.xattrs = {{"bogus.namespace", "x"}};
  const std::string tar = [&] {
    StringSink out;
    TarWriter w(out);
    EXPECT_TRUE(w.add_file(f, "x"));
    EXPECT_TRUE(w.finish());
    return out.take();
  }();
  auto r = apply(tar);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("set xattr bogus.namespace"), std::string::npos)
      << r.error().to_string();
  ApplyOptions o;
  o.xattrs = XattrPolicy::skip;
  r = apply(tar, o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->skipped_xattrs, 1u);
}

TEST_F(Apply, CorruptInputIsCorruptionNamingTheEntry) {
  std::string tar = TarBuilder().file("a", std::string(2000, 'a')).file("b", "b").finish();
  expect_error(apply(tar.substr(0, 1500)), util::ErrorCode::corruption,
               "entry \"a\" at offset 0: truncated data of entry \"a\" at offset 1500");
  std::string bad = tar;
  bad[512 * 5 + 10] ^= 1; // header of "b"
  expect_error(apply(bad), util::ErrorCode::corruption, "bad header checksum at offset 2560");
  expect_error(apply(std::string(512, 'x')), util::ErrorCode::corruption, "bad header checksum");
  // A truncated gzip layer.
  StringSink gz;
  CompressOptions co;
  auto w = LayerWriter::open(gz, co);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write(as_bytes(tar)));
  ASSERT_TRUE(w->finish());
  expect_error(apply(gz.data().substr(0, gz.data().size() - 4)), util::ErrorCode::corruption,
               "truncated gzip stream");
}

TEST_F(Apply, ExpectedDigestsAreVerified) {
  const std::string tar = TarBuilder().file("a", "a").finish();
  ApplyOptions o;
  o.read.expected_digest = image::Digest::sha256_hex(sha256(tar));
  o.read.expected_diff_id = o.read.expected_digest;
  auto r = apply(tar, o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->digest, o.read.expected_digest);
  o.read.expected_digest = image::Digest::sha256_hex(std::string(64, '0'));
  expect_error(apply(tar, o), util::ErrorCode::corruption,
               "layer digest mismatch: expected sha256:0000");
  // Trailing bytes after the end of the archive count for the digest.
  o.read.expected_digest = image::Digest::sha256_hex(sha256(tar));
  expect_error(apply(tar + "junk", o), util::ErrorCode::corruption, "layer digest mismatch");
}
