// ADD <url>: downloads from a loopback HTTP server (python3's http.server
// on 127.0.0.1, started per test), checksums, names, modes, mtimes,
// --unpack; and the pure helpers (source kinds, URL file names, checksum
// syntax).
#include <csignal>
#include <cstdlib>
#include <sys/wait.h>

#include "copy_test_util.h"
#include "mason/ops/add_remote.h"
#include "mason/ops/fetch_http.h"
#include "mason/util/sha256.h"

namespace mason::ops::test {
namespace {

constexpr const char* k_server = R"(
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
handler = functools.partial(Quiet, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
)";

// A python3 http.server serving `dir` on a free loopback port.
class LoopbackServer {
public:
  explicit LoopbackServer(const std::string& dir) {
    int out[2];
    if (::pipe(out) != 0) return;
    m_pid = ::fork();
    if (m_pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execlp("python3", "python3", "-c", k_server, dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    m_port = line;
  }
  ~LoopbackServer() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGTERM);
    ::waitpid(m_pid, nullptr, 0);
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  bool ok() const { return !m_port.empty(); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + m_port + path; }

private:
  pid_t m_pid = -1;
  std::string m_port;
};

// One server for the suite (starting python takes a while), serving a
// directory of its own.
class AddUrl : public CopyFixture {
protected:
  static void SetUpTestSuite() {
    ::setenv("no_proxy", "127.0.0.1", 1); // loopback only, whatever proxy CI sets
    auto www = sys::TempDir::create("mason-www-");
    ASSERT_TRUE(www);
    s_www = new sys::TempDir(std::move(*www));
    write_host(s_www->path() + "/file.txt", "content1", 0644);
    const timespec t[2] = {{1400000000, 0}, {1400000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (s_www->path() + "/file.txt").c_str(), t, 0), 0);
    s_server = new LoopbackServer(s_www->path());
  }

  static void TearDownTestSuite() {
    delete s_server;
    delete s_www;
    s_server = nullptr;
    s_www = nullptr;
  }

  void SetUp() override {
    CopyFixture::SetUp();
    ASSERT_TRUE(s_server != nullptr && s_server->ok()) << "python3 http.server did not start";
  }

  static CopyRequest add(std::vector<std::string> sources, std::string dest) {
    CopyRequest r = copy(std::move(sources), std::move(dest));
    r.kind = CopyKind::add;
    return r;
  }

  static std::string url(const std::string& p) { return s_server->url(p); }
  static std::string www(const std::string& p) { return s_www->path() + "/" + p; }

  static inline sys::TempDir* s_www = nullptr;
  static inline LoopbackServer* s_server = nullptr;
};

TEST_F(AddUrl, DownloadsIntoADirectory) {
  auto r = run(add({url("/file.txt")}, "/d/"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(listing(), "d/ 0755\nd/file.txt 0600 content1\n");
  EXPECT_EQ(dst_stat("d/file.txt")->st_mtim.tv_sec, 1400000000); // Last-Modified
  if (is_root()) {
    EXPECT_EQ(owner("d/file.txt"), "0:0");
  }
}

TEST_F(AddUrl, NamedDestinationAndChmod) {
  CopyRequest r = add({url("/file.txt?x=1#frag")}, "/named");
  r.chmod = "644";
  ASSERT_TRUE(run(r));
  EXPECT_EQ(listing(), "named 0644 content1\n");
}

TEST_F(AddUrl, UnnamedUrl) {
  ASSERT_TRUE(run(add({url("/")}, "/d/")));
  EXPECT_TRUE(dst_stat("d/__unnamed__"));
}

TEST_F(AddUrl, Checksum) {
  const std::string good = "sha256:" + util::Sha256::hex_of("content1");
  CopyRequest r = add({url("/file.txt")}, "/ok");
  r.checksum = good;
  ASSERT_TRUE(run(r));
  EXPECT_EQ(read_host(dst("ok")), "content1");

  const std::string bad = "sha256:" + std::string(64, '0');
  r = add({url("/file.txt")}, "/bad");
  r.checksum = bad;
  auto e = run(r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), util::ErrorCode::corruption);
  const std::string msg = e.error().to_string();
  EXPECT_NE(msg.find("digest mismatch for " + url("/file.txt")), std::string::npos) << msg;
  EXPECT_NE(msg.find(good), std::string::npos) << msg;
  EXPECT_NE(msg.find("(expected: " + bad + ")"), std::string::npos) << msg;
  EXPECT_FALSE(dst_stat("bad"));
}

TEST_F(AddUrl, ChecksumRules) {
  const auto error_of = [&](std::vector<std::string> sources, const std::string& sum) {
    CopyRequest r = add(std::move(sources), "/x");
    r.checksum = sum;
    auto e = run(r);
    return e ? std::string("ok") : e.error().to_string();
  };
  const std::string u = url("/file.txt");
  EXPECT_NE(error_of({u}, "sha256:abc").find("invalid checksum digest length"), std::string::npos);
  EXPECT_NE(
      error_of({u}, "md5:7e55db001d319a94b0b713529a756623").find("unsupported digest algorithm"),
      std::string::npos);
  EXPECT_NE(error_of({u}, std::string(64, 'a')).find("invalid checksum digest format"),
            std::string::npos);
  EXPECT_NE(error_of({"a.txt"}, "sha256:" + std::string(64, 'a'))
                .find("checksum requires HTTP(S) or Git sources"),
            std::string::npos);
  EXPECT_NE(error_of({u, u}, "sha256:" + std::string(64, 'a')).find("multiple sources"),
            std::string::npos);
}

TEST_F(AddUrl, HttpErrors) {
  auto e = run(add({url("/missing")}, "/x"));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), util::ErrorCode::unavailable);
  EXPECT_NE(e.error().to_string().find("invalid response status 404"), std::string::npos)
      << e.error().to_string();
}

TEST_F(AddUrl, ArchivesAreExtractedOnlyWithUnpack) {
  // A tar holding "foo", made by python's tarfile (gzip).
  const std::string tgz = www("t.tar.gz");
  const std::string cmd = "python3 -c \"import io,tarfile; t=tarfile.open('" + tgz +
                          "','w:gz'); i=tarfile.TarInfo('foo'); d=b'content0'; i.size=len(d); "
                          "t.addfile(i, io.BytesIO(d)); t.close()\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(run(add({url("/t.tar.gz")}, "/plain/")));
  EXPECT_TRUE(dst_stat("plain/t.tar.gz"));
  CopyRequest r = add({url("/t.tar.gz")}, "/dest/");
  r.unpack = true;
  ASSERT_TRUE(run(r));
  EXPECT_EQ(read_host(dst("dest/foo")), "content0");
}

TEST_F(AddUrl, GitSourcesAreUnsupported) {
  auto e = run(add({"https://github.com/moby/buildkit.git#v0.1"}, "/x"));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), util::ErrorCode::unsupported);
}

class FailingFetcher final : public HttpFetcher {
public:
  util::Result<FetchResult> fetch(const std::string& u, int) override {
    ++calls;
    return util::make_error(util::ErrorCode::unavailable, "GET " + u + ": refused");
  }
  int calls = 0;
};

TEST_F(AddUrl, FetcherCanBeReplaced) {
  FailingFetcher fetcher;
  CopyRequest r = add({"https://example.invalid/x"}, "/x");
  r.fetcher = &fetcher;
  auto e = run(r);
  ASSERT_FALSE(e);
  EXPECT_EQ(fetcher.calls, 1);
  EXPECT_NE(e.error().to_string().find("https://example.invalid/x: refused"), std::string::npos);
}

TEST(SourceKinds, LikeDockerfile2llb) {
  EXPECT_EQ(classify_source("https://example.com/a.txt"), SourceKind::http);
  EXPECT_EQ(classify_source("http://example.com/"), SourceKind::http);
  EXPECT_EQ(classify_source("https://github.com/moby/buildkit.git"), SourceKind::git);
  EXPECT_EQ(classify_source("https://github.com/moby/buildkit.git#main:dir"), SourceKind::git);
  EXPECT_EQ(classify_source("git://host/repo"), SourceKind::git);
  EXPECT_EQ(classify_source("ssh://git@host/repo"), SourceKind::git);
  EXPECT_EQ(classify_source("git@github.com:moby/buildkit.git"), SourceKind::git);
  EXPECT_EQ(classify_source("github.com/moby/buildkit"), SourceKind::local);
  EXPECT_EQ(classify_source("./x"), SourceKind::local);
  EXPECT_EQ(classify_source("ftp://host/x"), SourceKind::local);
  EXPECT_EQ(classify_source("HTTP://host/x"), SourceKind::local);
  EXPECT_EQ(classify_source("a:b"), SourceKind::local);
  EXPECT_EQ(classify_source("*.txt"), SourceKind::local);
}

TEST(UrlFileName, LastPathElement) {
  EXPECT_EQ(url_file_name("https://h/a/b.tar.gz"), "b.tar.gz");
  EXPECT_EQ(url_file_name("https://h/a/b/"), "b");
  EXPECT_EQ(url_file_name("https://h/a%20b?q=1#f"), "a b");
  EXPECT_EQ(url_file_name("https://h"), "__unnamed__");
  EXPECT_EQ(url_file_name("https://h/"), "__unnamed__");
  EXPECT_EQ(url_file_name("https://h/%zz"), "__unnamed__");
  EXPECT_EQ(url_file_name("https://h/a%0ab"), "download");
}

TEST(Checksums, GoDigestSyntax) {
  auto c = parse_checksum("sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->algorithm, "sha256");
  EXPECT_TRUE(parse_checksum("sha512:" + std::string(128, '0')));
  EXPECT_FALSE(parse_checksum("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(parse_checksum(":abc"));
  EXPECT_FALSE(parse_checksum("sha256:"));
}

} // namespace
} // namespace mason::ops::test
