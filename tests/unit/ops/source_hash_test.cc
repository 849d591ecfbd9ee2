// Content digests of context selections: what changes them (content,
// permission bits, link targets, hard-link structure, new matches) and
// what must not (mtimes, owners, ignored or unselected files); the stat
// cache avoids reading unchanged files.
#include <sys/time.h>

#include "copy_test_util.h"
#include "mason/ops/source_hash.h"

namespace mason::ops::test {
namespace {

class SourceHash : public CopyFixture {
public:
  std::string digest(const std::vector<std::string>& sources,
                     const frontend::IgnoreMatcher* ignore = nullptr,
                     cache::StatCache* stats = nullptr) {
    SourceHashOptions o;
    o.ignore = ignore;
    o.stats = stats;
    auto d = hash_sources(src_fd(), sources, o);
    EXPECT_TRUE(d) << d.error().to_string();
    if (d) m_last = *d;
    return d ? d->digest : "";
  }
  int src_fd() const { return m_src.get(); }
  void tree() {
    dir("app");
    file("app/main.go", "package main\n");
    file("app/go.mod", "module x\n");
    dir("app/sub");
    file("app/sub/util.go", "package sub\n", 0600);
    symlink("app/link", "main.go");
    file("README", "read me\n");
  }
  SourcesDigest m_last;
};

TEST_F(SourceHash, StableForAnUnchangedTree) {
  tree();
  const auto a = digest({"app"});
  EXPECT_TRUE(a.starts_with("sha256:"));
  EXPECT_EQ(a, digest({"app"}));
  EXPECT_EQ(a, digest({"/app/"})); // same selection, other spelling
  EXPECT_EQ(m_last.files, 3u);
  EXPECT_TRUE(m_last.entries.contains("app/sub/util.go"));
}

TEST_F(SourceHash, ContentModeAndLinkTargetChangeIt) {
  tree();
  const auto before = digest({"app"});
  write_host(src("app/main.go"), "package main // changed\n", 0644);
  const auto content = digest({"app"});
  EXPECT_NE(before, content);
  ASSERT_EQ(::chmod(src("app/main.go").c_str(), 0755), 0);
  const auto mode = digest({"app"});
  EXPECT_NE(content, mode);
  ASSERT_EQ(::unlink(src("app/link").c_str()), 0);
  symlink("app/link", "go.mod");
  EXPECT_NE(mode, digest({"app"}));
}

TEST_F(SourceHash, SameContentRewrittenIsTheSame) {
  tree();
  const auto before = digest({"app"});
  write_host(src("app/main.go"), "package main\n", 0644); // same bytes, new mtime
  const timeval times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimes(src("app/go.mod").c_str(), times), 0);
  EXPECT_EQ(before, digest({"app"}));
  if (is_root()) {
    ASSERT_EQ(::lchown(src("app/main.go").c_str(), 1234, 1234), 0);
    EXPECT_EQ(before, digest({"app"})) << "context owners are not inputs";
  }
}

TEST_F(SourceHash, UnselectedAndIgnoredFilesDoNotCount) {
  tree();
  file("app/debug.log", "x");
  auto ignore = frontend::IgnoreMatcher::create({"**/*.log"});
  ASSERT_TRUE(ignore);
  const auto before = digest({"app"}, &*ignore);
  write_host(src("README"), "changed\n", 0644);
  write_host(src("app/debug.log"), "changed a lot\n", 0644);
  EXPECT_EQ(before, digest({"app"}, &*ignore));
  EXPECT_NE(before, digest({"app"})) << "without the ignore file the log counts";
}

TEST_F(SourceHash, WildcardsCountNewMatches) {
  tree();
  const auto before = digest({"app/*.go"});
  EXPECT_EQ(m_last.files, 1u);
  file("app/extra.go", "package main\n");
  EXPECT_NE(before, digest({"app/*.go"}));
  const auto after = digest({"app/*.go"});
  file("app/notes.txt", "not matched\n");
  EXPECT_EQ(after, digest({"app/*.go"}));
}

TEST_F(SourceHash, MissingSourcesAreHashedNotRefused) {
  tree();
  const auto missing = digest({"nothere"});
  EXPECT_FALSE(missing.empty());
  file("nothere", "now here\n");
  EXPECT_NE(missing, digest({"nothere"}));
  EXPECT_NE(digest({"no*match"}), digest({"other*"})) << "the source words are inputs";
}

TEST_F(SourceHash, HardLinksAreNotCopies) {
  file("a", "same\n");
  file("b", "same\n");
  const auto copies = digest({"/"});
  ASSERT_EQ(::unlink(src("b").c_str()), 0);
  hardlink("a", "b");
  EXPECT_NE(copies, digest({"/"}));
}

TEST_F(SourceHash, StatCacheSkipsUnchangedFilesAndSeesChanges) {
  tree();
  auto stats = cache::StatCache::load(path("ctx.stat"), std::chrono::nanoseconds(0));
  const auto first = digest({"app"}, nullptr, &stats);
  EXPECT_GT(m_last.hashed_bytes, 0u);
  EXPECT_EQ(first, digest({"app"}, nullptr, &stats));
  EXPECT_EQ(m_last.hashed_bytes, 0u) << "unchanged files are not read again";
  ASSERT_TRUE(stats.save());
  stats = cache::StatCache::load(path("ctx.stat"), std::chrono::nanoseconds(0));
  EXPECT_EQ(first, digest({"app"}, nullptr, &stats));
  EXPECT_EQ(m_last.hashed_bytes, 0u) << "nor after a reload";
  write_host(src("app/main.go"), "package main // new\n", 0644);
  const auto changed = digest({"app"}, nullptr, &stats);
  EXPECT_NE(first, changed);
  EXPECT_GT(m_last.hashed_bytes, 0u);
  EXPECT_EQ(changed, digest({"app"})) << "the cache gives what reading gives";
}

} // namespace
} // namespace mason::ops::test
