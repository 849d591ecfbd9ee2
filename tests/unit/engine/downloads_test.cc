// Downloads: one fetch per URL and build, the step copies the bytes the key
// saw, ETag revalidation across builds (304 answers the key; a step that
// runs after a 304 fetches again and must get the same digest).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "mason/engine/downloads.h"
#include "mason/util/sha256.h"

namespace mason::engine {
namespace {

// Serves `bodies`; an ETag (the body's digest) when `etags`; counts calls.
class FakeServer final : public ops::HttpFetcher {
public:
  std::map<std::string, std::string> bodies;
  bool etags = true;
  int gets = 0, conditional = 0, not_modified = 0;
  std::string last_if_none_match;

  util::Result<ops::FetchResult> fetch(const std::string& url, int out_fd) override {
    ++gets;
    auto it = bodies.find(url);
    if (it == bodies.end())
      return util::make_error(util::ErrorCode::unavailable, "GET " + url + ": 404");
    if (::write(out_fd, it->second.data(), it->second.size()) !=
        static_cast<ssize_t>(it->second.size()))
      return util::make_error(util::ErrorCode::internal, "write");
    ops::FetchResult r;
    r.sha256_hex = util::Sha256::hex_of(it->second);
    r.size = it->second.size();
    r.last_modified = 1000;
    if (etags) r.etag = "\"" + r.sha256_hex + "\"";
    return r;
  }
  util::Result<ops::FetchResult> fetch_if_changed(const std::string& url, int out_fd,
                                                  const std::string& etag) override {
    ++conditional;
    last_if_none_match = etag;
    auto it = bodies.find(url);
    if (etags && it != bodies.end() && etag == "\"" + util::Sha256::hex_of(it->second) + "\"") {
      ++not_modified;
      ops::FetchResult r;
      r.not_modified = true;
      r.etag = etag;
      return r;
    }
    return fetch(url, out_fd); // a 200: counted as a GET
  }
};

class Scratch {
public:
  Scratch() {
    std::string pattern = "/tmp/mason-downloads-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp";
    m_path = pattern;
  }
  ~Scratch() { std::filesystem::remove_all(m_path); }
  std::string path(const std::string& name) const { return (m_path / name).string(); }

private:
  std::filesystem::path m_path;
};

// fetch() into a fresh file; returns its bytes (or the error's text).
std::string copy_out(Downloads& d, const std::string& url, const Scratch& s) {
  static int n = 0;
  const auto path = s.path("out" + std::to_string(n++));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  auto got = d.fetch(url, fd);
  ::close(fd);
  if (!got) return "error: " + got.error().to_string();
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string k_url = "http://example.test/tool.txt";

TEST(Downloads, OneFetchPerUrlAndBuildAndTheStepGetsTheKeyedBytes) {
  Scratch s;
  FakeServer server;
  server.bodies[k_url] = "v1";
  Downloads d(s.path("dl"), "", &server);
  auto key = d.prefetch(k_url);
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(key->sha256_hex, util::Sha256::hex_of("v1"));
  EXPECT_EQ(key->last_modified, 1000);
  server.bodies[k_url] = "v2"; // changed after the key was made: the step still gets v1
  EXPECT_EQ(d.prefetch(k_url)->sha256_hex, key->sha256_hex);
  EXPECT_EQ(copy_out(d, k_url, s), "v1");
  EXPECT_EQ(server.gets, 1);
  EXPECT_EQ(server.conditional, 0); // no metadata directory: never conditional
}

TEST(Downloads, ErrorsNameTheUrlAndAreNotRemembered) {
  Scratch s;
  FakeServer server;
  Downloads d(s.path("dl"), s.path("meta"), &server);
  auto missing = d.prefetch(k_url);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().to_string().find(k_url), std::string::npos);
  server.bodies[k_url] = "late";
  EXPECT_EQ(copy_out(d, k_url, s), "late");
}

TEST(Downloads, RevalidatesWithTheETagOfTheLastBuild) {
  Scratch s;
  FakeServer server;
  server.bodies[k_url] = "v1";
  {
    Downloads build1(s.path("dl1"), s.path("meta"), &server);
    ASSERT_TRUE(build1.prefetch(k_url));
    EXPECT_EQ(copy_out(build1, k_url, s), "v1");
  }
  EXPECT_EQ(server.gets, 1);
  {
    Downloads build2(s.path("dl2"), s.path("meta"), &server);
    auto key = build2.prefetch(k_url);
    ASSERT_TRUE(key) << key.error().to_string();
    EXPECT_EQ(server.not_modified, 1);
    EXPECT_EQ(server.last_if_none_match, "\"" + util::Sha256::hex_of("v1") + "\"");
    EXPECT_EQ(key->sha256_hex, util::Sha256::hex_of("v1"));
    EXPECT_EQ(key->size, 2U);
    EXPECT_EQ(key->last_modified, 1000);
    EXPECT_EQ(server.gets, 1); // nothing downloaded for the key
    // The step runs after all: the bytes are fetched, once.
    EXPECT_EQ(copy_out(build2, k_url, s), "v1");
    EXPECT_EQ(copy_out(build2, k_url, s), "v1");
    EXPECT_EQ(server.gets, 2);
  }
  {
    // The content changes between the 304 and the step's fetch: an error,
    // never other bytes under the old key.
    Downloads build3(s.path("dl3"), s.path("meta"), &server);
    ASSERT_TRUE(build3.prefetch(k_url));
    server.bodies[k_url] = "v2";
    const auto out = copy_out(build3, k_url, s);
    EXPECT_NE(out.find("the content changed during the build"), std::string::npos) << out;
  }
  {
    // New content: a 200 with the new digest, remembered for the next build.
    Downloads build4(s.path("dl4"), s.path("meta"), &server);
    EXPECT_EQ(build4.prefetch(k_url)->sha256_hex, util::Sha256::hex_of("v2"));
  }
  {
    Downloads build5(s.path("dl5"), s.path("meta"), &server);
    const int before = server.not_modified;
    EXPECT_EQ(build5.prefetch(k_url)->sha256_hex, util::Sha256::hex_of("v2"));
    EXPECT_EQ(server.not_modified, before + 1);
  }
}

TEST(Downloads, NoETagNoRevalidation) {
  Scratch s;
  FakeServer server;
  server.etags = false;
  server.bodies[k_url] = "v1";
  for (int build = 0; build < 2; ++build) {
    Downloads d(s.path("dl" + std::to_string(build)), s.path("meta"), &server);
    ASSERT_TRUE(d.prefetch(k_url));
  }
  EXPECT_EQ(server.conditional, 0);
  EXPECT_EQ(server.gets, 2);
}

TEST(Downloads, DamagedMetadataIsIgnored) {
  Scratch s;
  FakeServer server;
  server.bodies[k_url] = "v1";
  {
    Downloads d(s.path("dl0"), s.path("meta"), &server);
    ASSERT_TRUE(d.prefetch(k_url));
  }
  for (const auto& f : std::filesystem::directory_iterator(s.path("meta")))
    std::ofstream(f.path())
        << R"({"url":"http://example.test/tool.txt","etag":"x","sha256":"short"})";
  Downloads d(s.path("dl1"), s.path("meta"), &server);
  auto key = d.prefetch(k_url);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->sha256_hex, util::Sha256::hex_of("v1"));
  EXPECT_EQ(server.conditional, 0);
  EXPECT_EQ(server.gets, 2);
}

} // namespace
} // namespace mason::engine
