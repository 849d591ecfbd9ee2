// ADD with local archives: detection by content (any name), extraction
// with go-archive's rules (whiteouts not interpreted, names confined to
// the destination, owners from the archive or --chown), --unpack=false.
// Archives are written with libarchive in each supported compression.
#include <archive.h>
#include <archive_entry.h>

#include "copy_test_util.h"
#include "mason/ops/add_archive.h"

namespace mason::ops::test {
namespace {

struct Item {
  Item(std::string n, char t = 'f', std::string d = "", mode_t m = 0644, std::string l = "",
       std::int64_t u = 0, std::int64_t g = 0)
      : name(std::move(n)), type(t), data(std::move(d)), mode(m), link(std::move(l)), uid(u),
        gid(g) {}
  std::string name;
  char type; // f file, d dir, l symlink, h hardlink, p fifo
  std::string data;
  mode_t mode;
  std::string link;
  std::int64_t uid, gid;
};

int filter_code(ArchiveCompression c) {
  switch (c) {
  case ArchiveCompression::gzip: return ARCHIVE_FILTER_GZIP;
  case ArchiveCompression::bzip2: return ARCHIVE_FILTER_BZIP2;
  case ArchiveCompression::xz: return ARCHIVE_FILTER_XZ;
  case ArchiveCompression::zstd: return ARCHIVE_FILTER_ZSTD;
  case ArchiveCompression::none: break;
  }
  return ARCHIVE_FILTER_NONE;
}

mode_t type_bits(char t) {
  switch (t) {
  case 'd': return AE_IFDIR;
  case 'l': return AE_IFLNK;
  case 'p': return AE_IFIFO;
  default: return AE_IFREG;
  }
}

std::string make_tar(const std::vector<Item>& items,
                     ArchiveCompression c = ArchiveCompression::none) {
  std::string out(1 << 20, '\0');
  std::size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (c != ArchiveCompression::none) archive_write_add_filter(a, filter_code(c));
  archive_write_open_memory(a, out.data(), out.size(), &used);
  for (const auto& it : items) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, it.name.c_str());
    archive_entry_set_perm(e, it.mode);
    archive_entry_set_uid(e, it.uid);
    archive_entry_set_gid(e, it.gid);
    archive_entry_set_mtime(e, 1500000000, 0);
    if (it.type == 'h') {
      archive_entry_set_hardlink(e, it.link.c_str());
    } else {
      archive_entry_set_filetype(e, type_bits(it.type));
      if (it.type == 'l') archive_entry_set_symlink(e, it.link.c_str());
      if (it.type == 'f') archive_entry_set_size(e, static_cast<la_int64_t>(it.data.size()));
    }
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (it.type == 'f') archive_write_data(a, it.data.data(), it.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

const std::vector<Item> k_items = {
    {"foo", 'f', "content0", 0644, "", 1000, 1001},
    {"d/", 'd', "", 0700},
    {"d/bar", 'f', "bar", 0600},
    {"d/link", 'l', "", 0777, "../foo"},
    {"hard", 'h', "", 0644, "foo", 1000, 1001}, // chowns the same inode again
    {".wh.gone", 'f', "", 0644},
    {"d/.wh..wh..opq", 'f', "", 0644},
    {"pipe", 'p', "", 0640},
};

const std::string k_extracted = ".wh.gone 0644 \n"
                                "d/ 0700\n"
                                "d/.wh..wh..opq 0644 \n"
                                "d/bar 0600 bar\n"
                                "d/link -> ../foo\n"
                                "foo 0644 content0\n"
                                "hard 0644 content0\n"
                                "pipe fifo 0640\n";

class AddArchive : public CopyFixture {
protected:
  static CopyRequest add(std::vector<std::string> sources, std::string dest) {
    CopyRequest r = copy(std::move(sources), std::move(dest));
    r.kind = CopyKind::add;
    return r;
  }

  std::string after(const std::string& prefix) const {
    std::string out;
    const std::string all = listing();
    std::size_t start = 0;
    while (start < all.size()) {
      const auto end = all.find('\n', start);
      const std::string line = all.substr(start, end - start);
      if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size() && line[prefix.size()] != ' ')
        out += line.substr(prefix.size()) + "\n";
      start = end + 1;
    }
    return out;
  }
};

TEST(ArchiveDetection, Magic) {
  EXPECT_EQ(detect_archive_compression("BZh91AY"), ArchiveCompression::bzip2);
  EXPECT_EQ(detect_archive_compression("\x1f\x8b\x08\x00"), ArchiveCompression::gzip);
  EXPECT_EQ(detect_archive_compression("\x1f\x8b\x07\x00"), ArchiveCompression::none);
  EXPECT_EQ(detect_archive_compression(std::string("\xfd\x37\x7a\x58\x5a\x00\x00", 7)),
            ArchiveCompression::xz);
  EXPECT_EQ(detect_archive_compression("\x28\xb5\x2f\xfd"), ArchiveCompression::zstd);
  EXPECT_EQ(detect_archive_compression(std::string("\x5a\x2a\x4d\x18\x00\x00\x00\x00", 8)),
            ArchiveCompression::zstd);
  EXPECT_EQ(detect_archive_compression("hello"), ArchiveCompression::none);
}

TEST_F(AddArchive, ExtractsEveryCompression) {
  const ArchiveCompression all[] = {ArchiveCompression::none, ArchiveCompression::gzip,
                                    ArchiveCompression::bzip2, ArchiveCompression::xz,
                                    ArchiveCompression::zstd};
  for (const auto c : all) {
    const std::string name = "t" + std::to_string(static_cast<int>(c)) + ".tar";
    file(name, make_tar(k_items, c), 0600);
    const std::string dest = "/out" + std::to_string(static_cast<int>(c)) + "/";
    auto r = run(add({name}, dest));
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(after(dest.substr(1)), k_extracted) << name;
    EXPECT_EQ(dst_stat(dest.substr(1) + "foo")->st_ino, dst_stat(dest.substr(1) + "hard")->st_ino);
    EXPECT_EQ(dst_stat(dest.substr(1) + "foo")->st_mtim.tv_sec, 1500000000);
  }
}

TEST_F(AddArchive, OwnersFromTheArchiveOrChown) {
  if (!is_root()) GTEST_SKIP() << "needs root for owners";
  file("t.tar", make_tar(k_items), 0600);
  ASSERT_TRUE(run(add({"t.tar"}, "/a/")));
  EXPECT_EQ(owner("a/foo"), "1000:1001");
  EXPECT_EQ(owner("a/d/bar"), "0:0");
  CopyRequest r = add({"t.tar"}, "/b/");
  r.chown = "7:8";
  r.chmod = "0777"; // not applied to archive entries
  ASSERT_TRUE(run(r));
  EXPECT_EQ(owner("b"), "7:8");
  EXPECT_EQ(owner("b/foo"), "7:8");
  EXPECT_EQ(owner("b/d/link"), "7:8");
  EXPECT_EQ(dst_stat("b/d/bar")->st_mode & 07777, 0600u);
}

TEST_F(AddArchive, DetectedByContentNotName) {
  file("data.bin", make_tar(k_items, ArchiveCompression::gzip), 0600);
  file("fake.tar", "not an archive at all", 0644);
  file("fake.tar.gz", std::string("\x1f\x8b\x08garbage", 10), 0644);
  file("empty.tar", "", 0644);
  ASSERT_TRUE(run(add({"data.bin"}, "/x/")));
  EXPECT_EQ(after("x/"), k_extracted);
  ASSERT_TRUE(run(add({"fake.tar", "fake.tar.gz", "empty.tar"}, "/y/")));
  EXPECT_EQ(after("y/"), "empty.tar 0644 \nfake.tar 0644 not an archive at all\n"
                         "fake.tar.gz 0644 \x1f\x8b\x08garbage\n");
}

TEST_F(AddArchive, UnpackFalseAndCopyKeepTheFile) {
  const std::string tgz = make_tar(k_items, ArchiveCompression::gzip);
  file("t.tar.gz", tgz, 0600);
  CopyRequest r = add({"t.tar.gz"}, "/");
  r.unpack = false;
  ASSERT_TRUE(run(r));
  EXPECT_EQ(read_host(dst("t.tar.gz")), tgz);
  ASSERT_TRUE(run(copy({"t.tar.gz"}, "/c/")));
  EXPECT_EQ(read_host(dst("c/t.tar.gz")), tgz);
  EXPECT_FALSE(dst_stat("foo"));
}

TEST_F(AddArchive, WildcardAndDestWithoutSlash) {
  file("a.tar", make_tar({{"foo", 'f', "content0"}}), 0644);
  file("b.tar", make_tar({{"bar", 'f', "content1"}}), 0644);
  ASSERT_TRUE(run(add({"*.tar"}, "/dest")));
  EXPECT_EQ(after("dest/"), "bar 0644 content1\nfoo 0644 content0\n");
}

TEST_F(AddArchive, ArchiveInsideADirectoryIsCopied) {
  dir("d");
  file("d/t.tar", make_tar(k_items), 0644);
  symlink("via", "d/t.tar");
  ASSERT_TRUE(run(add({"d"}, "/x/")));
  EXPECT_TRUE(dst_stat("x/t.tar"));
  ASSERT_TRUE(run(add({"via"}, "/y/"))); // a symlink source is followed, then extracted
  EXPECT_EQ(after("y/"), k_extracted);
}

TEST_F(AddArchive, EscapingNamesAreClampedInsideTheDestination) {
  // BuildKit extracts chrooted into the destination: "../" cannot climb
  // above it, so the entry lands inside it.
  file("evil.tar",
       make_tar({{"ok", 'f', "1"}, {"../../outside/evil", 'f', "x"}, {"a/../../../b", 'f', "y"}}),
       0644);
  auto r = run(add({"evil.tar"}, "/x/"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(after("x/"), "b 0644 y\nok 0644 1\noutside/ 0755\noutside/evil 0644 x\n");
  // A hard link's target is clamped the same way; a missing one fails.
  file("evil2.tar", make_tar({{"h", 'h', "", 0644, "../../outside/secret"}}), 0644);
  ASSERT_FALSE(run(add({"evil2.tar"}, "/y/")));
  file("ok2.tar", make_tar({{"f", 'f', "z"}, {"h", 'h', "", 0644, "../../f"}}), 0644);
  r = run(add({"ok2.tar"}, "/z/"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(after("z/"), "f 0644 z\nh 0644 z\n");
}

TEST_F(AddArchive, SymlinksInTheArchiveStayInTheDestination) {
  file("s.tar",
       make_tar({{"root", 'l', "", 0777, "/"},
                 {"up", 'l', "", 0777, "../../../.."},
                 {"root/a", 'f', "A"},
                 {"up/b", 'f', "B"},
                 {"/abs/c", 'f', "C"}}),
       0644);
  auto r = run(add({"s.tar"}, "/x/"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(after("x/"), "a 0644 A\nabs/ 0755\nabs/c 0644 C\nb 0644 B\nroot -> /\n"
                         "up -> ../../../..\n");
}

TEST_F(AddArchive, ArchiveWithoutEndMarker) {
  // Go's tar reader (and so docker) accepts a stream that stops cleanly
  // where the next header would start; a truncated entry is an error.
  std::string tar = make_tar({{"foo", 'f', "content0"}});
  tar.resize(1024); // header + one data block, no end-of-archive blocks
  file("short.tar", tar, 0644);
  auto r = run(add({"short.tar"}, "/x/"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(after("x/"), "foo 0644 content0\n");
  tar.resize(700);
  file("cut.tar", tar, 0644);
  EXPECT_FALSE(run(add({"cut.tar"}, "/y/")));
}

TEST_F(AddArchive, ReplacesAndMerges) {
  ASSERT_EQ(::mkdir(dst("x").c_str(), 0755), 0);
  write_host(dst("x/d"), "was a file", 0644);
  ASSERT_EQ(::mkdir(dst("x/keep").c_str(), 0755), 0);
  write_host(dst("x/keep/old"), "old", 0644);
  file("m.tar", make_tar({{"d/", 'd', "", 0750}, {"keep/", 'd', "", 0711}, {"keep/new", 'f', "n"}}),
       0644);
  ASSERT_TRUE(run(add({"m.tar"}, "/x")));
  EXPECT_EQ(after("x/"), "d/ 0750\nkeep/ 0711\nkeep/new 0644 n\nkeep/old 0644 old\n");
}

} // namespace
} // namespace mason::ops::test
