// The COPY semantics table: one source tree, one fresh destination root
// per case, the resulting tree compared as a listing (path, type, mode,
// content or link target). Expected results follow BuildKit (see
// src/mason/ops/copy.h and copy_tree.h for the rules and their sources).
#include <functional>

#include "copy_test_util.h"

namespace mason::ops::test {
namespace {

struct Case {
  std::string name;
  CopyRequest request;
  std::string expected; // listing, or "" with an error
  std::string error;    // substring of the error, "" for success
  std::function<void(CopyFixture&)> prepare_dest = {};
  std::vector<std::string> ignore = {};
  SourceOrigin origin = SourceOrigin::context;
};

// gtest prints a parameter with this (instead of its bytes) in test names
// as ctest lists them.
[[maybe_unused]] void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

CopyRequest req(std::vector<std::string> sources, std::string dest,
                std::function<void(CopyRequest&)> tweak = {}) {
  CopyRequest r;
  r.sources = std::move(sources);
  r.dest = std::move(dest);
  if (tweak) tweak(r);
  return r;
}

const std::string k_dir_contents = "fifo fifo 0644\n"
                                   "link -> x.txt\n"
                                   "sub/ 0755\n"
                                   "sub/hard 0640 X\n"
                                   "sub/y.txt 0644 Y\n"
                                   "x.txt 0640 X\n";

// Prefixes every line of a listing with `dir/`.
std::string under(const std::string& dir, const std::string& listing) {
  std::string out;
  std::size_t start = 0;
  while (start < listing.size()) {
    const auto end = listing.find('\n', start);
    out += dir + "/" + listing.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::vector<Case> cases() {
  return {
      {"file to file", req({"a.txt"}, "/x"), "x 0644 A\n", ""},
      {"file into new dir", req({"a.txt"}, "/d/"), "d/ 0755\nd/a.txt 0644 A\n", ""},
      {"file into dir with /.", req({"a.txt"}, "/d/."), "d/ 0755\nd/a.txt 0644 A\n", ""},
      {"file to nested path", req({"a.txt"}, "/p/q/f"), "p/ 0755\np/q/ 0755\np/q/f 0644 A\n", ""},
      {"dir copies contents", req({"dir"}, "/d"), "d/ 0755\n" + under("d", k_dir_contents), ""},
      {"dir with trailing slash", req({"dir/"}, "/d/"), "d/ 0755\n" + under("d", k_dir_contents),
       ""},
      {"dir with /.", req({"dir/."}, "/d"), "d/ 0755\n" + under("d", k_dir_contents), ""},
      {"glob several", req({"*.txt"}, "/g/"), "g/ 0755\ng/a.txt 0644 A\ng/b.txt 0600 B\n", ""},
      {"glob none copies nothing", req({"*.none"}, "/g/"), "", ""},
      {"glob none among others", req({"a.txt", "nomatch*"}, "/"), "a.txt 0644 A\n", ""},
      {"glob below a directory", req({"dir/*/y.txt"}, "/g/"), "g/ 0755\ng/y.txt 0644 Y\n", ""},
      {"glob with missing directory", req({"nodir/*.txt"}, "/g/"), "", "not found"},
      {"star with directories", req({"*"}, "/all/"),
       "all/ 0755\n"
       "all/a.txt 0644 A\n"
       "all/abs 0644 A\n"
       "all/b.txt 0600 B\n"
       "all/dangling -> nowhere\n"
       "all/escape -> ../../outside/secret\n"
       "all/fifo fifo 0644\n"
       "all/link -> x.txt\n"
       "all/lnk 0644 A\n"
       "all/run.sh 0755 #!/bin/sh\n"
       "all/sub/ 0755\n"
       "all/sub/hard 0640 X\n"
       "all/sub/y.txt 0644 Y\n"
       "all/x.txt 0640 X\n",
       ""},
      {"dest dot is the workdir", req({"a.txt"}, ".", [](auto& r) { r.workdir = "/w"; }),
       "w/ 0755\nw/a.txt 0644 A\n", ""},
      {"empty dest is the workdir", req({"a.txt"}, "", [](auto& r) { r.workdir = "/w"; }),
       "w/ 0755\nw/a.txt 0644 A\n", ""},
      {"relative dest file", req({"a.txt"}, "rel", [](auto& r) { r.workdir = "/w"; }),
       "w/ 0755\nw/rel 0644 A\n", ""},
      {"relative dest dir", req({"a.txt"}, "rel/", [](auto& r) { r.workdir = "/w"; }),
       "w/ 0755\nw/rel/ 0755\nw/rel/a.txt 0644 A\n", ""},
      {"relative dest climbing", req({"a.txt"}, "../up/", [](auto& r) { r.workdir = "/w/v"; }),
       "w/ 0755\nw/up/ 0755\nw/up/a.txt 0644 A\n", ""},
      {"several sources onto one path", req({"a.txt", "b.txt"}, "/m"), "m 0600 B\n", ""},
      {"several dirs merge", req({"dir/sub", "bad"}, "/m"),
       "m/ 0755\nm/dangling -> nowhere\nm/escape -> ../../outside/secret\nm/hard 0640 X\n"
       "m/y.txt 0644 Y\n",
       ""},
      {"file onto existing dir goes inside", req({"a.txt"}, "/e"), "e/ 0755\ne/a.txt 0644 A\n", "",
       [](CopyFixture& f) { f.dst_dir("e"); }},
      {"dir onto existing file", req({"dir"}, "/f"), "", "cannot copy to non-directory",
       [](CopyFixture& f) { CopyFixture::write_host(f.dst("f"), "F", 0644); }},
      {"file onto existing file replaces", req({"a.txt"}, "/f"), "f 0644 A\n", "",
       [](CopyFixture& f) { CopyFixture::write_host(f.dst("f"), "old", 0600); }},
      {"missing source", req({"nope"}, "/x"), "",
       "COPY source \"nope\": not found in build context"},
      {"file in the middle of a source", req({"a.txt/x"}, "/x"), "",
       "COPY source \"a.txt/x\": not found in build context"},
      {"missing among sources", req({"a.txt", "nope"}, "/x/"), "", "not found"},
      {"symlink source is followed", req({"lnk"}, "/s"), "s 0644 A\n", ""},
      {"symlinked dir source is followed", req({"lnkdir"}, "/s"),
       "s/ 0755\n" + under("s", k_dir_contents), ""},
      {"symlink inside a path is followed", req({"lnkdir/sub/y.txt"}, "/y"), "y 0644 Y\n", ""},
      {"absolute link stays in the root", req({"abs"}, "/x"), "x 0644 A\n", ""},
      {"escaping link stays in the root", req({"bad/escape"}, "/x"), "", "not found"},
      {"dangling link source", req({"bad/dangling"}, "/x"), "", "not found"},
      {"dotdot source stays in the root", req({"../../outside/secret"}, "/x"), "", "not found"},
      {"parents", req({"dir/sub/y.txt"}, "/p/", [](auto& r) { r.parents = true; }),
       "p/ 0755\np/dir/ 0750\np/dir/sub/ 0755\np/dir/sub/y.txt 0644 Y\n", ""},
      {"parents with pivot", req({"dir/./sub/y.txt"}, "/p/", [](auto& r) { r.parents = true; }),
       "p/ 0755\np/sub/ 0755\np/sub/y.txt 0644 Y\n", ""},
      {"parents with glob", req({"dir/*/y.txt"}, "/p/", [](auto& r) { r.parents = true; }),
       "p/ 0755\np/dir/ 0750\np/dir/sub/ 0755\np/dir/sub/y.txt 0644 Y\n", ""},
      {"parents of a directory", req({"./dir/sub"}, "/p/", [](auto& r) { r.parents = true; }),
       "p/ 0755\np/dir/ 0750\np/dir/sub/ 0755\np/dir/sub/hard 0640 X\np/dir/sub/y.txt 0644 Y\n",
       ""},
      {"parents missing", req({"dir/nope"}, "/p/", [](auto& r) { r.parents = true; }), "",
       "not found"},
      {"exclude top level", req({"dir"}, "/e", [](auto& r) { r.excludes = {"*.txt"}; }),
       "e/ 0755\ne/fifo fifo 0644\ne/link -> x.txt\ne/sub/ 0755\ne/sub/hard 0640 X\n"
       "e/sub/y.txt 0644 Y\n",
       ""},
      {"exclude everywhere", req({"dir"}, "/e", [](auto& r) { r.excludes = {"**/*.txt"}; }),
       "e/ 0755\ne/fifo fifo 0644\ne/link -> x.txt\ne/sub/ 0755\ne/sub/hard 0640 X\n", ""},
      {"exclude with exception",
       req({"dir"}, "/e",
           [](auto& r) {
             r.excludes = {"sub", "!sub/y.txt"};
           }),
       "e/ 0755\ne/fifo fifo 0644\ne/link -> x.txt\ne/sub/ 0755\ne/sub/y.txt 0644 Y\n"
       "e/x.txt 0640 X\n",
       ""},
      {"exclude does not apply to the source itself",
       req({"a.txt"}, "/e/", [](auto& r) { r.excludes = {"*.txt"}; }), "e/ 0755\ne/a.txt 0644 A\n",
       ""},
      {"exclude everything leaves the dir", req({"dir"}, "/e", [](auto& r) { r.excludes = {"*"}; }),
       "e/ 0755\n", ""},
      {"chmod octal", req({"dir"}, "/c/d", [](auto& r) { r.chmod = "0710"; }),
       "c/ 0710\nc/d/ 0710\nc/d/fifo fifo 0710\nc/d/link -> x.txt\nc/d/sub/ 0710\n"
       "c/d/sub/hard 0710 X\nc/d/sub/y.txt 0710 Y\nc/d/x.txt 0710 X\n",
       ""},
      {"chmod symbolic", req({"dir"}, "/c", [](auto& r) { r.chmod = "go-w,u+x"; }),
       "c/ 0755\nc/fifo fifo 0744\nc/link -> x.txt\nc/sub/ 0755\nc/sub/hard 0740 X\n"
       "c/sub/y.txt 0744 Y\nc/x.txt 0740 X\n",
       ""},
      {"chmod special bits", req({"a.txt"}, "/s", [](auto& r) { r.chmod = "4755"; }), "s 4755 A\n",
       ""},
      {"chmod invalid", req({"a.txt"}, "/s", [](auto& r) { r.chmod = "64a"; }), "",
       "invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777"},
      {"chmod too large", req({"a.txt"}, "/s", [](auto& r) { r.chmod = "10000"; }), "",
       "between 0 and 07777"},
      {"dockerignore",
       req({"."}, "/c"),
       "c/ 0755\nc/abs -> /a.txt\nc/b.txt 0600 B\nc/dir/ 0750\n" + under("c/dir", k_dir_contents) +
           "c/lnk -> a.txt\nc/lnkdir -> dir\nc/run.sh 0755 #!/bin/sh\n",
       "",
       {},
       {"*.txt", "!b.txt", "bad"}},
      {"dockerignore hides a source",
       req({"a.txt"}, "/x"),
       "",
       "not found in build context",
       {},
       {"a.txt"}},
      {"dockerignore hides a link target",
       req({"lnk"}, "/x"),
       "",
       "not found in build context",
       {},
       {"a.txt"}},
      {"dockerignore hides glob matches",
       req({"*.txt"}, "/g/"),
       "g/ 0755\ng/b.txt 0600 B\n",
       "",
       {},
       {"a.txt"}},
      {"dockerignore re-include below excluded dir",
       req({"dir"}, "/c"),
       "c/ 0755\nc/sub/ 0755\nc/sub/y.txt 0644 Y\n",
       "",
       {},
       {"dir", "!dir/sub/y.txt"}},
      {"dockerignore does not apply to stages",
       req({"a.txt"}, "/x"),
       "x 0644 A\n",
       "",
       {},
       {"a.txt"},
       SourceOrigin::stage},
      {"dest through escaping symlink stays inside", req({"a.txt"}, "/esc/"),
       "esc -> ../../outside\noutside/ 0755\noutside/a.txt 0644 A\n", "",
       [](CopyFixture& f) { f.dst_symlink("esc", "../../outside"); }},
      {"dest through absolute symlink stays inside", req({"a.txt"}, "/lnk/sub/"),
       "lnk -> /real\nreal/ 0755\nreal/sub/ 0755\nreal/sub/a.txt 0644 A\n", "",
       [](CopyFixture& f) {
         f.dst_symlink("lnk", "/real");
         f.dst_dir("real");
       }},
      {"symlink at the target is replaced, not followed", req({"a.txt"}, "/d/"),
       "d/ 0755\nd/a.txt 0644 A\n", "",
       [](CopyFixture& f) {
         f.dst_dir("d");
         f.dst_symlink("d/a.txt", "../../../outside/secret");
       }},
      {"dest symlink to a file is resolved", req({"a.txt"}, "/f"), "f -> t\nt 0644 A\n", "",
       [](CopyFixture& f) {
         f.dst_symlink("f", "t");
         CopyFixture::write_host(f.dst("t"), "old", 0600);
       }},
      {"url in COPY", req({"https://example.com/x"}, "/x"), "", "source can't be a URL for COPY"},
      {"git in COPY", req({"https://example.com/x.git"}, "/x"), "",
       "source can't be a git ref for COPY"},
      {"checksum in COPY", req({"a.txt"}, "/x", [](auto& r) { r.checksum = "sha256:00"; }), "",
       "checksum can't be specified for COPY"},
  };
}

class CopySemantics : public CopyFixture, public ::testing::WithParamInterface<Case> {
protected:
  void SetUp() override {
    CopyFixture::SetUp();
    file("a.txt", "A", 0644);
    file("b.txt", "B", 0600);
    file("run.sh", "#!/bin/sh", 0755);
    dir("dir", 0750);
    file("dir/x.txt", "X", 0640);
    symlink("dir/link", "x.txt");
    fifo("dir/fifo", 0644);
    dir("dir/sub", 0755);
    file("dir/sub/y.txt", "Y", 0644);
    hardlink("dir/x.txt", "dir/sub/hard");
    symlink("lnk", "a.txt");
    symlink("lnkdir", "dir");
    symlink("abs", "/a.txt");
    dir("bad", 0755);
    symlink("bad/escape", "../../outside/secret");
    symlink("bad/dangling", "nowhere");
  }
};

TEST_P(CopySemantics, Table) {
  const Case& c = GetParam();
  if (c.prepare_dest) c.prepare_dest(*this);
  auto ignore = frontend::IgnoreMatcher::create(c.ignore);
  ASSERT_TRUE(ignore) << ignore.error().to_string();
  const std::string before = listing();
  auto r = run(c.request, c.origin, *ignore);
  if (!c.error.empty()) {
    ASSERT_FALSE(r) << "expected an error containing: " << c.error;
    EXPECT_NE(r.error().to_string().find(c.error), std::string::npos) << r.error().to_string();
    EXPECT_EQ(listing(), before) << "a refused copy wrote something";
    return;
  }
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(listing(), c.expected);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string out;
  for (const char ch : info.param.name)
    out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

INSTANTIATE_TEST_SUITE_P(Copy, CopySemantics, ::testing::ValuesIn(cases()), case_name);

} // namespace
} // namespace mason::ops::test
