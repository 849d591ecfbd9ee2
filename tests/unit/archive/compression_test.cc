// LayerWriter / LayerReader: round trips, digests against the command-line
// tools, determinism across thread counts, and damaged streams.
#include <gtest/gtest.h>

#include <random>

#include "archive_test_util.h"

using namespace mason;
using namespace mason::archive;
using namespace mason::archive::testing;

namespace {

// Compressible but not trivial: words from a small vocabulary plus noise.
std::string sample(std::size_t size, unsigned seed = 1) {
  static const char* k_words[] = {"layer ", "digest ", "tar ", "mason ", "overlay\n", "0x1f8b "};
  std::mt19937 rng(seed);
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    out += k_words[rng() % 6];
    if (rng() % 7 == 0) out += static_cast<char>(rng() & 0xff);
  }
  out.resize(size);
  return out;
}

util::Result<std::pair<std::string, LayerInfo>> compress(std::string_view data,
                                                         const CompressOptions& o) {
  StringSink out;
  auto w = LayerWriter::open(out, o);
  if (!w) return std::unexpected(std::move(w.error()));
  // Uneven pieces, to exercise buffering.
  std::size_t pos = 0, step = 1;
  while (pos < data.size()) {
    const std::size_t n = std::min(step, data.size() - pos);
    if (auto st = w->write(as_bytes(data.substr(pos, n))); !st) return std::unexpected(st.error());
    pos += n;
    step = step * 3 + 7;
  }
  auto info = w->finish();
  if (!info) return std::unexpected(std::move(info.error()));
  return std::pair{out.take(), *info};
}

util::Result<std::string> decompress(std::string_view data, const ReadOptions& o = {}) {
  MemorySource src(data);
  auto r = LayerReader::open(src, o);
  if (!r) return std::unexpected(std::move(r.error()));
  std::string out;
  std::string buf(7777, '\0');
  for (;;) {
    auto n = r->read(std::as_writable_bytes(std::span(buf)));
    if (!n) return std::unexpected(std::move(n.error()));
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

std::string through(const std::string& command, const std::string& input) {
  auto dir = sys::TempDir::create("mason-compress-test-");
  EXPECT_TRUE(dir);
  const std::string in = dir->path() + "/in";
  write_file(in, input);
  auto out = run("<'" + in + "' " + command); // the input of the pipeline's first command
  EXPECT_TRUE(out) << command;
  return out.value_or("");
}

CompressOptions opts(Compression c, unsigned threads = 0) {
  CompressOptions o;
  o.compression = c;
  o.threads = threads;
  return o;
}

} // namespace

TEST(Compression, RoundTripsWithDigestsAndMediaTypes) {
  const std::string data = sample(3 << 20);
  for (const Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    SCOPED_TRACE(std::string(to_string(c)));
    auto r = compress(data, opts(c));
    ASSERT_TRUE(r) << r.error().to_string();
    const auto& [bytes, info] = *r;
    EXPECT_EQ(info.diff_id.str(), "sha256:" + sha256(data));
    EXPECT_EQ(info.digest.str(), "sha256:" + sha256(bytes));
    EXPECT_EQ(info.size, static_cast<std::int64_t>(bytes.size()));
    EXPECT_EQ(info.uncompressed_size, static_cast<std::int64_t>(data.size()));
    EXPECT_EQ(info.media_type, media_type_of(c));
    EXPECT_EQ(info.descriptor().digest, info.digest);
    if (c != Compression::none) {
      EXPECT_LT(bytes.size(), data.size() / 2);
    }
    ReadOptions ro;
    ro.expected_digest = info.digest;
    ro.expected_diff_id = info.diff_id;
    auto back = decompress(bytes, ro);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, data);
  }
  EXPECT_EQ(media_type_of(Compression::gzip), "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(media_type_of(Compression::zstd), "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(compression_of_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Compression::gzip);
  EXPECT_EQ(compression_of_media_type("application/json"), std::nullopt);
}

TEST(Compression, CommandLineToolsAgree) {
  if (!have_tool("gzip") || !have_tool("zstd") || !have_tool("sha256sum")) {
    GTEST_SKIP() << "gzip, zstd or sha256sum missing";
  }
  const std::string data = sample(2 << 20, 7);
  for (const auto& [c, tool] : {std::pair{Compression::gzip, std::string("gzip -dc")},
                                std::pair{Compression::zstd, std::string("zstd -dcq")}}) {
    SCOPED_TRACE(tool);
    auto r = compress(data, opts(c));
    ASSERT_TRUE(r);
    // What `<tool> | sha256sum` says is our diff_id; `sha256sum` of the blob our digest.
    EXPECT_EQ(through(tool + " | sha256sum", r->first).substr(0, 64), r->second.diff_id.hex());
    EXPECT_EQ(through("sha256sum", r->first).substr(0, 64), r->second.digest.hex());
  }
  // The other way: streams made by the tools (gzip: two members
  // concatenated, as `cat a.gz b.gz` gives) decode and verify.
  const std::string half1 = data.substr(0, data.size() / 2), half2 = data.substr(data.size() / 2);
  const std::string two = through("gzip -c", half1) + through("gzip -9c", half2);
  ReadOptions ro;
  ro.expected_diff_id = image::Digest::sha256_hex(sha256(data));
  auto back = decompress(two, ro);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, data);
  back = decompress(through("zstd -qc -9", half1) + through("zstd -qc", half2), ro);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, data);
}

TEST(Compression, OutputDoesNotDependOnThreads) {
  const std::string data = sample(3 << 20, 3);
  for (const Compression c : {Compression::gzip, Compression::zstd}) {
    SCOPED_TRACE(std::string(to_string(c)));
    auto one = compress(data, opts(c, 1));
    auto two = compress(data, opts(c, 2));
    auto four = compress(data, opts(c, 4));
    ASSERT_TRUE(one && two && four);
    EXPECT_EQ(one->second.digest, two->second.digest);
    EXPECT_EQ(one->second.digest, four->second.digest);
  }
  // Single-stream gzip (zlib) is one member and also reads back.
  CompressOptions single = opts(Compression::gzip);
  single.gzip_framing = GzipFraming::single_stream;
  auto s = compress(data, single);
  ASSERT_TRUE(s);
  auto back = decompress(s->first);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  // Members mode: one member per MiB of input (gzip -l cannot count them;
  // count the headers of our own framing instead).
  auto m = compress(data, opts(Compression::gzip, 2));
  ASSERT_TRUE(m);
  std::size_t members = 0;
  for (std::size_t pos = m->first.find("\x1f\x8b\x08"); pos != std::string::npos;
       pos = m->first.find("\x1f\x8b\x08", pos + 1))
    ++members;
  EXPECT_GE(members, 3u);
}

TEST(Compression, EmptyInputGivesValidStreams) {
  for (const Compression c : {Compression::gzip, Compression::zstd}) {
    auto r = compress("", opts(c));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->first.empty());
    auto back = decompress(r->first);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, "");
  }
}

TEST(Compression, DamagedStreamsAreCorruption) {
  const std::string data = sample(1 << 20, 5);
  for (const Compression c : {Compression::gzip, Compression::zstd}) {
    SCOPED_TRACE(std::string(to_string(c)));
    auto r = compress(data, opts(c));
    ASSERT_TRUE(r);
    const std::string& z = r->first;
    auto truncated = decompress(z.substr(0, z.size() - 9));
    ASSERT_FALSE(truncated);
    EXPECT_EQ(truncated.error().code(), util::ErrorCode::corruption);
    std::string flipped = z;
    flipped[z.size() / 2] ^= 0x55;
    auto bad = decompress(flipped);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), util::ErrorCode::corruption) << bad.error().to_string();
    auto trailing = decompress(z + "garbage!");
    ASSERT_FALSE(trailing);
    EXPECT_EQ(trailing.error().code(), util::ErrorCode::corruption) << trailing.error().to_string();
    ReadOptions wrong;
    wrong.expected_diff_id = image::Digest::sha256_hex(sha256("other"));
    auto mismatch = decompress(z, wrong);
    ASSERT_FALSE(mismatch);
    EXPECT_NE(mismatch.error().message().find("layer diff_id mismatch"), std::string::npos);
  }
  auto half = decompress(std::string("\x1f\x8b", 2));
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().code(), util::ErrorCode::corruption);
}

TEST(Compression, DetectsByMagic) {
  EXPECT_EQ(detect_compression(as_bytes("\x1f\x8b\x08")).value(), Compression::gzip);
  EXPECT_EQ(detect_compression(as_bytes("\x28\xb5\x2f\xfd")).value(), Compression::zstd);
  EXPECT_EQ(detect_compression(as_bytes("etc/")).value(), Compression::none);
  EXPECT_EQ(detect_compression(as_bytes("")).value(), Compression::none);
  auto bz = detect_compression(as_bytes("BZh91AY"));
  ASSERT_FALSE(bz);
  EXPECT_EQ(bz.error().code(), util::ErrorCode::unsupported);
  auto xz = detect_compression(as_bytes(std::string("\xfd"
                                                    "7zXZ\0",
                                                    6)));
  ASSERT_FALSE(xz);
  EXPECT_EQ(xz.error().code(), util::ErrorCode::unsupported);
}

TEST(Compression, BadOptionsAreRejected) {
  StringSink out;
  CompressOptions o = opts(Compression::gzip);
  o.level = 13;
  EXPECT_FALSE(LayerWriter::open(out, o));
  o.level = 6;
  o.gzip_member_size = 0;
  EXPECT_FALSE(LayerWriter::open(out, o));
}
