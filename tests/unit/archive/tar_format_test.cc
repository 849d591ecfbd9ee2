// The tar writer's bytes and the tar reader's strictness.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive_test_util.h"
#include "mason/archive/tar_header.h"

using namespace mason;
using namespace mason::archive;
using namespace mason::archive::testing;

namespace {

const std::string k_long150 = "dir/" + std::string(60, 'a') + "/" + std::string(85, 'b');
const std::string k_long300 =
    std::string(120, 'c') + "/" + std::string(120, 'd') + "/" + std::string(59, 'e');
const std::string k_cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                        "\x00\x00",
                        20);

// The same entries as a Go 1.19 archive/tar program wrote (its source is
// quoted in docs/archive.md): its output had 15872 bytes, sha256 1e0eb4a0...
std::string go_reference_tar() {
  StringSink out;
  TarWriter w(out);
  const auto entry = TarBuilder::entry;
  EXPECT_TRUE(w.add(entry("etc/", EntryType::directory, 0755)));
  EXPECT_TRUE(w.add_file(entry("etc/hosts", EntryType::regular, 0644), "127.0.0.1 localhost\n"));
  TarEntry link = entry("etc/link", EntryType::symlink, 0777);
  link.linkname = "hosts";
  EXPECT_TRUE(w.add(link));
  TarEntry hard = entry("etc/hosts2", EntryType::hardlink, 0644);
  hard.linkname = "etc/hosts";
  EXPECT_TRUE(w.add(hard));
  EXPECT_TRUE(w.add_file(entry(k_long150, EntryType::regular, 0600), "x"));
  EXPECT_TRUE(w.add_file(entry(k_long300, EntryType::regular, 0600), "y"));
  EXPECT_TRUE(w.add_file(entry("etc/na\u00efve-\u00fcn\u00ef.txt", EntryType::regular, 0644), "u"));
  TarEntry ping = entry("bin/ping", EntryType::regular, 0755);
  ping.xattrs = {{"security.capability", k_cap}, {"user.note", "a=b\nc"}};
  EXPECT_TRUE(w.add_file(ping, "ping"));
  TarEntry dev = entry("dev/null", EntryType::char_device, 0666);
  dev.dev_major = 1;
  dev.dev_minor = 3;
  EXPECT_TRUE(w.add(dev));
  EXPECT_TRUE(w.add(entry("run/fifo", EntryType::fifo, 0600)));
  TarEntry big = entry("big-uid", EntryType::regular, 0644);
  big.uid = 3000000;
  big.gid = 5;
  EXPECT_TRUE(w.add(big));
  TarEntry suid = entry("suid", EntryType::regular, 04755);
  suid.uid = suid.gid = 1000;
  EXPECT_TRUE(w.add_file(suid, "s"));
  TarEntry long_link = entry("link-long", EntryType::symlink, 0777);
  long_link.linkname = k_long300;
  EXPECT_TRUE(w.add(long_link));
  EXPECT_TRUE(w.finish());
  return out.take();
}

std::string header(const std::string& tar, std::size_t block) {
  return tar.substr(block * 512, 512);
}

struct LibarchiveEntry {
  std::string path, link, hardlink;
  int type = 0;
  std::int64_t size = 0, uid = 0;
  std::map<std::string, std::string> xattrs;
};

std::vector<LibarchiveEntry> libarchive_list(const std::string& tar) {
  std::vector<LibarchiveEntry> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, tar.data(), tar.size()), ARCHIVE_OK);
  struct archive_entry* e = nullptr;
  for (;;) {
    const int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    // ARCHIVE_WARN: libarchive warns about binary SCHILY.xattr values it
    // cannot convert as text, and still returns the entry.
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      ADD_FAILURE() << archive_error_string(a);
      break;
    }
    LibarchiveEntry r;
    r.path = archive_entry_pathname(e);
    if (archive_entry_symlink(e) != nullptr) r.link = archive_entry_symlink(e);
    if (archive_entry_hardlink(e) != nullptr) r.hardlink = archive_entry_hardlink(e);
    r.type = static_cast<int>(archive_entry_filetype(e));
    r.size = archive_entry_size(e);
    r.uid = archive_entry_uid(e);
    archive_entry_xattr_reset(e);
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
      r.xattrs[name] = std::string(static_cast<const char*>(value), size);
    out.push_back(std::move(r));
  }
  archive_read_free(a);
  return out;
}

} // namespace

TEST(TarWriter, EmptyArchiveIsTwoZeroBlocks) {
  StringSink out;
  TarWriter tar(out);
  ASSERT_TRUE(tar.finish());
  EXPECT_EQ(out.data(), std::string(1024, '\0'));
  // The well-known diff_id of docker's empty layer.
  EXPECT_EQ(sha256(out.data()), "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
}

TEST(TarWriter, UstarHeaderFieldsAsGoWritesThem) {
  TarBuilder b;
  b.file("etc/hosts", "127.0.0.1 localhost\n");
  const std::string tar = b.finish();
  ASSERT_EQ(tar.size(), 512u + 512u + 1024u);
  const std::string h = header(tar, 0);
  EXPECT_EQ(h.substr(0, 10), std::string("etc/hosts\0", 10));
  EXPECT_EQ(h.substr(100, 8), std::string("0000644\0", 8));
  EXPECT_EQ(h.substr(108, 8), std::string("0000000\0", 8));
  EXPECT_EQ(h.substr(124, 12), std::string("00000000024\0", 12));
  EXPECT_EQ(h.substr(136, 12), std::string("14524770400\0", 12)); // 1700000000
  EXPECT_EQ(h[156], '0');
  EXPECT_EQ(h.substr(257, 8), std::string("ustar\0"
                                          "00",
                                          8));
  EXPECT_EQ(h.substr(265, 64), std::string(64, '\0')); // no uname/gname
  EXPECT_EQ(h.substr(329, 16), std::string("0000000\0"
                                           "0000000\0",
                                           16));
  EXPECT_EQ(h[155], ' '); // checksum: 6 digits, NUL, space
  EXPECT_EQ(h[154], '\0');
  EXPECT_EQ(tar.substr(512, 20), "127.0.0.1 localhost\n");
  EXPECT_EQ(tar.substr(532, 492), std::string(492, '\0'));
}

TEST(TarWriter, SameEntriesAsGoArchiveTarGiveTheSameBytes) {
  const std::string tar = go_reference_tar();
  EXPECT_EQ(tar.size(), 15872u);
  EXPECT_EQ(sha256(tar), "1e0eb4a0d92a2641ba9982f707eb1808b8be48e4281ce672f661fa181a2721c7");
}

TEST(TarWriter, LongNamesUseTheUstarPrefixThenPax) {
  const std::string tar = go_reference_tar();
  // Walk the raw blocks: the 150-byte name is split (no PAX header before
  // it), the 300-byte one needs a PAX "path" record.
  std::size_t block = 0;
  std::vector<char> flags;
  std::vector<std::string> names;
  while (block * 512 < tar.size()) {
    const std::string h = header(tar, block);
    if (h == std::string(512, '\0')) break;
    flags.push_back(h[156]);
    names.emplace_back(h.substr(0, h.find('\0') < 100 ? h.find('\0') : 100));
    const auto size = std::stoll(h.substr(124, 11), nullptr, 8); // 0 for header-only types
    block += 1 + static_cast<std::size_t>((size + 511) / 512);
  }
  const std::vector<char> want = {'5', '0', '2', '1', '0', 'x', '0', 'x', '0',
                                  'x', '0', '3', '6', 'x', '0', '0', 'x', '2'};
  EXPECT_EQ(flags, want);
  EXPECT_EQ(names[4], std::string(85, 'b')); // split: name part only
  EXPECT_TRUE(names[5].starts_with(std::string(120, 'c').substr(0, 90)));
  EXPECT_EQ(header(tar, 5).substr(345, 64), "dir/" + std::string(60, 'a'));
  EXPECT_EQ(names[7], "etc/PaxHeaders.0/nave-n.txt"); // non-ASCII dropped, as Go
  EXPECT_EQ(names[9], "bin/PaxHeaders.0/ping");
}

TEST(TarReader, ReadsBackWhatTheWriterWrote) {
  auto entries = read_all(go_reference_tar());
  ASSERT_TRUE(entries) << entries.error().to_string();
  ASSERT_EQ(entries->size(), 13u);
  const auto& e = *entries;
  EXPECT_EQ(e[0].entry.name, "etc/");
  EXPECT_EQ(e[0].entry.type, EntryType::directory);
  EXPECT_EQ(e[1].data, "127.0.0.1 localhost\n");
  EXPECT_EQ(e[1].entry.mtime, 1700000000);
  EXPECT_EQ(e[2].entry.type, EntryType::symlink);
  EXPECT_EQ(e[2].entry.linkname, "hosts");
  EXPECT_EQ(e[3].entry.type, EntryType::hardlink);
  EXPECT_EQ(e[3].entry.linkname, "etc/hosts");
  EXPECT_EQ(e[4].entry.name, k_long150);
  EXPECT_EQ(e[5].entry.name, k_long300);
  EXPECT_EQ(e[6].entry.name, "etc/na\u00efve-\u00fcn\u00ef.txt");
  EXPECT_EQ(e[7].entry.xattrs.at("security.capability"), k_cap);
  EXPECT_EQ(e[7].entry.xattrs.at("user.note"), "a=b\nc");
  EXPECT_EQ(e[7].data, "ping");
  EXPECT_EQ(e[8].entry.type, EntryType::char_device);
  EXPECT_EQ(e[8].entry.dev_major, 1u);
  EXPECT_EQ(e[8].entry.dev_minor, 3u);
  EXPECT_EQ(e[9].entry.type, EntryType::fifo);
  EXPECT_EQ(e[10].entry.uid, 3000000);
  EXPECT_EQ(e[11].entry.mode, 04755u);
  EXPECT_EQ(e[12].entry.linkname, k_long300);
  EXPECT_EQ(e[12].entry.offset, 15872u - 1024 - 3 * 512);
}

TEST(TarReader, LibarchiveReadsOurOutputTheSameWay) {
  auto entries = libarchive_list(go_reference_tar());
  ASSERT_EQ(entries.size(), 13u);
  EXPECT_EQ(entries[3].hardlink, "etc/hosts");
  EXPECT_EQ(entries[4].path, k_long150);
  EXPECT_EQ(entries[5].path, k_long300);
  EXPECT_EQ(entries[6].path, "etc/na\u00efve-\u00fcn\u00ef.txt");
  EXPECT_EQ(entries[7].xattrs.at("security.capability"), k_cap);
  EXPECT_EQ(entries[7].xattrs.at("user.note"), "a=b\nc");
  EXPECT_EQ(entries[10].uid, 3000000);
  EXPECT_EQ(entries[12].link, k_long300);
}

namespace {

// A tar written by libarchive in the given format.
std::string libarchive_tar(int format, std::int64_t uid = 0) {
  std::string out;
  struct archive* a = archive_write_new();
  EXPECT_EQ(archive_write_set_format(a, format), ARCHIVE_OK);
  archive_write_set_bytes_in_last_block(a, 1);
  std::vector<char> buf(1 << 20);
  std::size_t used = 0;
  EXPECT_EQ(archive_write_open_memory(a, buf.data(), buf.size(), &used), ARCHIVE_OK);
  const auto add = [&](const std::string& name, const std::string& data, mode_t type,
                       const std::string& link) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, 0640);
    archive_entry_set_uid(e, uid);
    archive_entry_set_mtime(e, 1700000000, 0);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    if (!link.empty()) archive_entry_set_symlink(e, link.c_str());
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!data.empty()) {
      EXPECT_EQ(archive_write_data(a, data.data(), data.size()),
                static_cast<la_ssize_t>(data.size()));
    }
    archive_entry_free(e);
  };
  add(k_long300, "long", AE_IFREG, "");
  add("l", "", AE_IFLNK, k_long300);
  add("d/", "", AE_IFDIR, "");
  archive_write_close(a);
  archive_write_free(a);
  out.assign(buf.data(), used);
  return out;
}

} // namespace

TEST(TarReader, ReadsGnuLongNamesBase256AndForeignPax) {
  for (int format : {ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED,
                     ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE}) {
    SCOPED_TRACE(format);
    const std::int64_t uid = format == ARCHIVE_FORMAT_TAR_GNUTAR ? 077777777 + 10 : 1000;
    auto entries = read_all(libarchive_tar(format, uid));
    ASSERT_TRUE(entries) << entries.error().to_string();
    ASSERT_EQ(entries->size(), 3u);
    EXPECT_EQ((*entries)[0].entry.name, k_long300);
    EXPECT_EQ((*entries)[0].data, "long");
    EXPECT_EQ((*entries)[0].entry.uid, uid);
    EXPECT_EQ((*entries)[0].entry.mode, 0640u);
    EXPECT_EQ((*entries)[1].entry.linkname, k_long300);
    EXPECT_EQ((*entries)[2].entry.type, EntryType::directory);
  }
}

namespace {

using detail::Block;

Block raw_header(const std::string& name, char flag, std::int64_t size, bool posix = true) {
  Block b{};
  detail::put_string(b, detail::k_name, name);
  detail::put_octal(b, detail::k_mode, 0644);
  detail::put_octal(b, detail::k_size, size);
  detail::put_octal(b, detail::k_mtime, 1);
  b[detail::k_typeflag.offset] = flag;
  if (posix) {
    detail::finish_header(b);
  } else { // v7: no magic
    const detail::Field digits{detail::k_chksum.offset, 7};
    detail::put_octal(b, digits, detail::unsigned_checksum(b));
    b[detail::k_chksum.offset + 7] = ' ';
  }
  return b;
}

std::string str(const Block& b) { return std::string(b.data(), b.size()); }
std::string pad(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}
const std::string k_end(1024, '\0');

void expect_corrupt(const std::string& tar, const std::string& needle) {
  auto r = read_all(tar);
  ASSERT_FALSE(r) << "accepted: " << needle;
  EXPECT_EQ(r.error().code(), util::ErrorCode::corruption) << r.error().to_string();
  EXPECT_NE(r.error().to_string().find(needle), std::string::npos) << r.error().to_string();
}

} // namespace

TEST(TarReader, EmptyStreamIsAnEmptyArchive) {
  auto r = read_all("");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  r = read_all(std::string(512, '\0')); // a lone zero block, then the end
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(TarReader, V7AndOldStyleDirectories) {
  const std::string tar = str(raw_header("old/", '\0', 0, false)) +
                          str(raw_header("f", '\0', 3, false)) + pad("abc") + k_end;
  auto r = read_all(tar);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].entry.type, EntryType::directory);
  EXPECT_EQ((*r)[1].entry.type, EntryType::regular);
  EXPECT_EQ((*r)[1].data, "abc");
}

TEST(TarReader, PaxTimesAndEmptyOverrides) {
  const std::string records = detail::pax_record("mtime", "-1.25") +
                              detail::pax_record("path", "") + detail::pax_record("atime", "5");
  const std::string tar = str(raw_header("x", 'x', static_cast<std::int64_t>(records.size()))) +
                          pad(records) + str(raw_header("name", '0', 0)) + k_end;
  auto r = read_all(tar);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].entry.name, "name");
  EXPECT_EQ((*r)[0].entry.mtime, -2);
  EXPECT_EQ((*r)[0].entry.mtime_nsec, 750000000u);
}

TEST(TarReader, RejectsBadChecksums) {
  std::string tar = go_reference_tar();
  tar[3] ^= 0x20; // "etc/" -> "etC/"
  expect_corrupt(tar, "bad header checksum at offset 0");
  tar = go_reference_tar();
  tar[1536 + 130] = '1'; // the size field of etc/link
  expect_corrupt(tar, "bad header checksum at offset 1536");
}

TEST(TarReader, RejectsTruncation) {
  const std::string tar = go_reference_tar();
  expect_corrupt(tar.substr(0, 700), "truncated header at offset 512");
  expect_corrupt(tar.substr(0, 1030), "truncated data of entry \"etc/hosts\"");
  expect_corrupt(tar.substr(0, 1536), "end of stream before the end-of-archive marker");
  expect_corrupt(tar.substr(0, tar.size() - 1024), "end-of-archive marker");
}

TEST(TarReader, RejectsMalformedFields) {
  Block b = raw_header("f", '0', 0);
  std::memcpy(b.data() + detail::k_size.offset, "0000009x000", 11);
  detail::finish_header(b);
  expect_corrupt(str(b) + k_end, "invalid size field of entry \"f\" at offset 0");
  expect_corrupt(str(raw_header("f", '0', 0)) + std::string(512, '\0') +
                     str(raw_header("g", '0', 0)),
                 "invalid end-of-archive marker at offset 1024");
  const std::string bad_pax = "99 path=x\n";
  expect_corrupt(str(raw_header("p", 'x', 10)) + pad(bad_pax) + str(raw_header("f", '0', 0)) +
                     k_end,
                 "invalid PAX record length in PAX header at offset 0");
  expect_corrupt(str(raw_header("p", 'x', 5 << 20)) + k_end, "exceeds the 1 MiB limit");
  expect_corrupt(str(raw_header("p", 'x', 0)) + k_end, "extension header not followed by an entry");
}

TEST(TarReader, SparseFilesAreUnsupported) {
  auto r = read_all(str(raw_header("s", 'S', 0)) + k_end);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::unsupported);
  const std::string rec = detail::pax_record("GNU.sparse.major", "1");
  r = read_all(str(raw_header("p", 'x', static_cast<std::int64_t>(rec.size()))) + pad(rec) +
               str(raw_header("s", '0', 0)) + k_end);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::unsupported);
}

TEST(TarReader, UnknownTypesKeepTheirDataSkippable) {
  const std::string tar = str(raw_header("dump", 'D', 5)) + pad("xxxxx") +
                          str(raw_header("f", '0', 1)) + pad("z") + k_end;
  auto r = read_all(tar);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].entry.type, EntryType::unsupported);
  EXPECT_EQ((*r)[0].entry.typeflag, 'D');
  EXPECT_EQ((*r)[1].data, "z");
}

TEST(TarWriter, RejectsWhatTarCannotHold) {
  StringSink out;
  TarWriter w(out);
  EXPECT_FALSE(w.add(TarBuilder::entry(std::string("a\0b", 3), EntryType::regular, 0644)));
  TarEntry neg = TarBuilder::entry("n", EntryType::regular, 0644);
  neg.uid = -1;
  EXPECT_FALSE(w.add(neg));
  TarEntry file = TarBuilder::entry("f", EntryType::regular, 0644);
  file.size = 10;
  ASSERT_TRUE(w.add(file));
  EXPECT_FALSE(w.write_data(as_bytes(std::string(11, 'x'))));
  EXPECT_FALSE(w.finish()); // 10 bytes still missing
}
