// AtomicFile: a reader sees the old file or the whole new one; an
// uncommitted file leaves nothing behind; the mode is the one asked for.
#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>

#include "mason/sys/file.h"
#include "mason/sys/temp_dir.h"

namespace mason::sys {
namespace {

namespace fs = std::filesystem;

std::size_t entries(const std::string& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

TEST(AtomicFile, CommitReplacesTheFileWhole) {
  auto tmp = TempDir::create("mason-file-test-");
  ASSERT_TRUE(tmp);
  const std::string path = tmp->path() + "/f";
  ASSERT_TRUE(write_file_atomic(path, "old"));
  auto file = AtomicFile::create(path, 0600);
  ASSERT_TRUE(file) << file.error().to_string();
  ASSERT_TRUE(file->write("new content"));
  EXPECT_EQ(read_file(path).value(), "old") << "visible before commit";
  ASSERT_TRUE(file->commit());
  EXPECT_EQ(read_file(path).value(), "new content");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(entries(tmp->path()), 1u) << "a temporary file was left";
}

TEST(AtomicFile, UncommittedLeavesNothing) {
  auto tmp = TempDir::create("mason-file-test-");
  ASSERT_TRUE(tmp);
  const std::string path = tmp->path() + "/f";
  {
    auto file = AtomicFile::create(path, 0644, Durability::best_effort);
    ASSERT_TRUE(file);
    ASSERT_TRUE(file->write("half"));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(entries(tmp->path()), 0u);
}

TEST(AtomicFile, ErrorsNameThePath) {
  auto file = AtomicFile::create("/nonexistent-dir-mason/f");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code(), util::ErrorCode::not_found);
  EXPECT_NE(file.error().to_string().find("/nonexistent-dir-mason/f"), std::string::npos);
}

} // namespace
} // namespace mason::sys
