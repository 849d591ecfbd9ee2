// Ingest, commit and read of blobs; digest and size verification; several
// writers of one blob at once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "mason/content/store.h"
#include "scratch.h"

using namespace mason::content;
using namespace mason::content::testing;
using mason::image::Digest;
using mason::util::ErrorCode;

namespace {

std::string blob_path(const ScratchDir& dir, const Digest& d) {
  return (dir.root() / "blobs" / "sha256" / std::string(d.hex())).string();
}

std::string read_fd(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string pattern(std::size_t size, char seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>(seed + static_cast<char>(i % 251));
  return s;
}

} // namespace

TEST(Blobs, OpenCreatesTheLayout) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  ASSERT_TRUE(store);
  EXPECT_TRUE(std::filesystem::is_directory(dir.root() / "blobs" / "sha256"));
  EXPECT_TRUE(std::filesystem::is_directory(dir.root() / "ingest"));
  EXPECT_TRUE(std::filesystem::is_directory(dir.root() / "leases"));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.root() / "metadata.db"));
  EXPECT_EQ(store->root(), dir.root());
  const auto perms = std::filesystem::status(dir.root()).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
}

TEST(Blobs, OpenRefusesAFile) {
  ScratchDir dir;
  const auto file = dir.path() / "file";
  { std::ofstream(file) << "x"; }
  EXPECT_FALSE(Store::open(file).has_value());
  EXPECT_FALSE(Store::open("").has_value());
}

TEST(Blobs, IngestBytesRoundTrip) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto d = store->ingest_bytes("hello", {.media_type = "text/plain"});
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->digest, Digest::sha256_of("hello"));
  EXPECT_EQ(d->size, 5);
  EXPECT_EQ(d->media_type, "text/plain");
  EXPECT_TRUE(store->has_blob(d->digest));
  EXPECT_EQ(store->blob_size(d->digest).value(), 5);
  EXPECT_EQ(store->read_blob(d->digest).value(), "hello");
  auto fd = store->open_blob(d->digest);
  ASSERT_TRUE(fd);
  EXPECT_EQ(read_fd(fd->get()), "hello");
  EXPECT_TRUE(store->verify_blob(d->digest));
  EXPECT_TRUE(std::filesystem::is_regular_file(blob_path(dir, d->digest)));
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
  auto info = store->blob_info(d->digest);
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->size, 5);
  EXPECT_EQ(info->media_type, "text/plain");
  EXPECT_FALSE(info->diff_id.has_value());
}

TEST(Blobs, WriterStreamsChunksAndChecksExpectations) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const std::string content = pattern(300000, 'a');
  auto writer = store->new_writer("application/octet-stream");
  ASSERT_TRUE(writer);
  for (std::size_t at = 0; at < content.size(); at += 7000)
    ASSERT_TRUE(writer->write(std::string_view(content).substr(at, 7000)));
  EXPECT_EQ(writer->size(), 300000);
  auto d = writer->commit(Digest::sha256_of(content), 300000);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(store->read_blob(d->digest).value(), content);
}

TEST(Blobs, EmptyBlob) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto d = store->ingest_bytes("");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->digest.str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(store->read_blob(d->digest).value(), "");
}

TEST(Blobs, DigestMismatchIsCorruptionAndLeavesNothing) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Digest wanted = Digest::sha256_of("what the manifest says");
  auto d = store->ingest_bytes("what the registry sent", {.expected_digest = wanted});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::corruption);
  EXPECT_NE(d.error().to_string().find(wanted.str()), std::string::npos);
  EXPECT_NE(d.error().to_string().find(Digest::sha256_of("what the registry sent").str()),
            std::string::npos);
  EXPECT_FALSE(store->has_blob(wanted));
  EXPECT_FALSE(store->has_blob(Digest::sha256_of("what the registry sent")));
  EXPECT_TRUE(files_in(dir.root() / "blobs" / "sha256").empty());
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
}

TEST(Blobs, SizeMismatchIsCorruptionAndLeavesNothing) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto d = store->ingest_bytes("12345",
                               {.expected_digest = Digest::sha256_of("12345"), .expected_size = 6});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::corruption);
  EXPECT_NE(d.error().message().find("expected 6 bytes, got 5"), std::string::npos);
  EXPECT_TRUE(files_in(dir.root() / "blobs" / "sha256").empty());
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
}

TEST(Blobs, UnsupportedExpectedDigestLeavesNothing) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto sha512 = Digest::parse("sha512:" + std::string(128, 'a'));
  ASSERT_TRUE(sha512);
  auto d = store->ingest_bytes("x", {.expected_digest = *sha512});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::unsupported);
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
  EXPECT_TRUE(files_in(dir.root() / "blobs" / "sha256").empty());
}

TEST(Blobs, DroppedWriterRemovesItsTempFile) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  {
    auto writer = store->new_writer();
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write("partial"));
    EXPECT_EQ(files_in(dir.root() / "ingest").size(), 1u);
    EXPECT_TRUE(files_in(dir.root() / "blobs" / "sha256").empty());
  }
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
  EXPECT_FALSE(store->has_blob(Digest::sha256_of("partial")));
}

TEST(Blobs, FinishedWriterRefusesMore) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto writer = store->new_writer();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write("a"));
  ASSERT_TRUE(writer->commit());
  EXPECT_EQ(writer->write("b").error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(writer->commit().error().code(), ErrorCode::invalid_argument);
  Writer moved = std::move(*writer);
  EXPECT_FALSE(moved.commit().has_value());
}

TEST(Blobs, IngestFileReadsFromTheCurrentOffset) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const std::string content = pattern(3 << 20, 'x'); // several read buffers
  const auto src = dir.path() / "src";
  { std::ofstream(src, std::ios::binary) << "skip" << content; }
  UniqueFd fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::lseek(fd.get(), 4, SEEK_SET), 4);
  auto d = store->ingest_file(fd.get(), {.expected_size = 3 << 20});
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->digest, Digest::sha256_of(content));
  EXPECT_TRUE(store->verify_blob(d->digest));
}

TEST(Blobs, ReadBlobHasALimit) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto d = store->ingest_bytes("12345");
  ASSERT_TRUE(d);
  EXPECT_EQ(store->read_blob(d->digest, 4).error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(store->read_blob(d->digest, 5).value(), "12345");
}

TEST(Blobs, MissingBlobIsNotFound) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const Digest d = Digest::sha256_of("absent");
  EXPECT_FALSE(store->has_blob(d));
  auto fd = store->open_blob(d);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), ErrorCode::not_found);
  EXPECT_EQ(fd.error().to_string(), "open blob " + d.str() + ": No such file or directory");
  EXPECT_EQ(store->read_blob(d).error().code(), ErrorCode::not_found);
  EXPECT_EQ(store->blob_size(d).error().code(), ErrorCode::not_found);
  EXPECT_EQ(store->delete_blob(d).error().code(), ErrorCode::not_found);
  EXPECT_EQ(store->blob_info(d).error().code(), ErrorCode::not_found);
}

TEST(Blobs, MalformedDigestsNeverBecomePaths) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  { std::ofstream(dir.root() / "blobs" / "passwd") << "x"; }
  const Digest escape = Digest::sha256_hex("../passwd");
  EXPECT_FALSE(store->has_blob(escape));
  EXPECT_EQ(store->open_blob(escape).error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(store->open_blob(Digest()).error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(store->delete_blob(escape).error().code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(std::filesystem::exists(dir.root() / "blobs" / "passwd"));
}

TEST(Blobs, VerifyDetectsCorruptionAndDeleteRepairs) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto d = store->ingest_bytes("good content");
  ASSERT_TRUE(d);
  const auto path = blob_path(dir, d->digest);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << "bad content!"; }
  auto ok = store->verify_blob(d->digest);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code(), ErrorCode::corruption);
  EXPECT_NE(ok.error().message().find(d->digest.str()), std::string::npos);
  EXPECT_NE(ok.error().message().find(Digest::sha256_of("bad content!").str()), std::string::npos);
  // Readers do not verify by default.
  EXPECT_EQ(store->read_blob(d->digest).value(), "bad content!");
  ASSERT_TRUE(store->delete_blob(d->digest));
  EXPECT_FALSE(store->has_blob(d->digest));
  EXPECT_EQ(store->blob_info(d->digest).error().code(), ErrorCode::not_found);
  // Ingesting again heals it.
  ASSERT_TRUE(store->ingest_bytes("good content"));
  EXPECT_TRUE(store->verify_blob(d->digest));
}

TEST(Blobs, CommittedBlobsAreReadOnly) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto d = store->ingest_bytes("immutable");
  ASSERT_TRUE(d);
  using std::filesystem::perms;
  const auto mode = std::filesystem::status(blob_path(dir, d->digest)).permissions();
  EXPECT_EQ(mode & (perms::owner_write | perms::group_write | perms::others_write), perms::none);
  EXPECT_NE(mode & perms::owner_read, perms::none);
}

TEST(Blobs, RecommittingAnExistingBlobSucceeds) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  auto a = store->ingest_bytes("same");
  auto b = store->ingest_bytes("same", {.expected_digest = Digest::sha256_of("same")});
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(files_in(dir.root() / "blobs" / "sha256").size(), 1u);
}

TEST(Blobs, ConcurrentWritersOfOneBlobInThreads) {
  ScratchDir dir;
  auto store = open_store(dir.root());
  const std::string content = pattern(1 << 20, 'q');
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      auto writer = store->new_writer();
      if (!writer) return;
      for (std::size_t at = 0; at < content.size(); at += 65536)
        if (!writer->write(std::string_view(content).substr(at, 65536))) return;
      if (writer->commit(Digest::sha256_of(content), 1 << 20)) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(files_in(dir.root() / "blobs" / "sha256").size(), 1u);
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
  EXPECT_TRUE(store->verify_blob(Digest::sha256_of(content)));
}

TEST(Blobs, ConcurrentWritersOfOneBlobInProcesses) {
  ScratchDir dir;
  ASSERT_TRUE(open_store(dir.root())); // create the layout once
  const std::string content = pattern(256 << 10, 'p');
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p)
    children.push_back(spawn([&] {
      auto store = Store::open(dir.root());
      if (!store) return 10;
      for (int i = 0; i < 20; ++i) {
        auto writer = (*store)->new_writer();
        if (!writer) return 11;
        for (std::size_t at = 0; at < content.size(); at += 4096)
          if (!writer->write(std::string_view(content).substr(at, 4096))) return 12;
        if (!writer->commit(Digest::sha256_of(content))) return 13;
      }
      return 0;
    }));
  for (pid_t pid : children) EXPECT_EQ(wait_for(pid), 0);
  auto store = open_store(dir.root());
  EXPECT_EQ(files_in(dir.root() / "blobs" / "sha256"),
            std::vector<std::string>{std::string(Digest::sha256_of(content).hex())});
  EXPECT_TRUE(files_in(dir.root() / "ingest").empty());
  EXPECT_TRUE(store->verify_blob(Digest::sha256_of(content)));
  EXPECT_TRUE(store->check());
}
