// The client against a real registry (docker-registry) on loopback:
// push and pull, skipped blobs, htpasswd basic auth, TLS with a private
// CA, an index resolved for a platform, docker.io mirrors, and
// cross-repository mounts. Skipped when docker-registry
// is missing, unless $CI is set.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "mason/image/media_type.h"
#include "mason/image/platform.h"
#include "mason/image/reference.h"
#include "mason/registry/client.h"
#include "registry_fixtures.h"

namespace mason::registry {
namespace {

using testing::ScratchStore;
using testing::TestImage;

constexpr const char* k_registry_binary = "/usr/bin/docker-registry";

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int run(const std::string& command) { return std::system(command.c_str()); }

enum class Security { plain, basic_auth, tls, token };

// One docker-registry process with its storage in a temp dir.
class LocalRegistry {
public:
  explicit LocalRegistry(Security security) : m_port(free_port()) {
    std::ofstream config(m_dir.path() + "/config.yml");
    config << "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
           << "storage:\n  filesystem:\n    rootdirectory: " << m_dir.path() << "/data\n"
           << "http:\n  addr: 127.0.0.1:" << m_port << "\n";
    if (security == Security::tls) {
      make_cert();
      config << "  tls:\n    certificate: " << cert() << "\n    key: " << m_dir.path()
             << "/key.pem\n";
    }
    if (security == Security::token) {
      make_cert();
      const auto realm = start_token_server();
      config << "auth:\n  token:\n    realm: " << realm
             << "\n    service: test-registry\n    issuer: mason-test\n    rootcertbundle: "
             << cert() << "\n";
    }
    if (security == Security::basic_auth) {
      run("htpasswd -Bbn user secret > " + m_dir.path() + "/htpasswd 2>/dev/null");
      config << "auth:\n  htpasswd:\n    realm: test-realm\n    path: " << m_dir.path()
             << "/htpasswd\n";
    }
    config.close();
    start();
  }
  ~LocalRegistry() {
    if (m_token_pid > 0) {
      ::kill(m_token_pid, SIGTERM);
      ::waitpid(m_token_pid, nullptr, 0);
    }
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;

  std::string domain() const { return "127.0.0.1:" + std::to_string(m_port); }
  std::string cert() const { return m_dir.path() + "/cert.pem"; }
  bool ready() const { return m_ready; }

private:
  void make_cert() {
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
        " -addext subjectAltName=IP:127.0.0.1 -keyout " +
        m_dir.path() + "/key.pem -out " + cert() + " >/dev/null 2>&1");
  }

  // The python token service (tests/data/registry/token_server.py); its
  // realm URL, or "" when it did not come up.
  std::string start_token_server() {
    const auto der = m_dir.path() + "/cert.der";
    run("openssl x509 -in " + cert() + " -outform DER -out " + der);
    const auto key = m_dir.path() + "/key.pem";
    const auto port_file = m_dir.path() + "/token-port";
    const std::string script = MASON_TEST_DATA "/registry/token_server.py";
    m_token_pid = ::fork();
    if (m_token_pid == 0) {
      ::execlp("python3", "python3", script.c_str(), key.c_str(), der.c_str(), port_file.c_str(),
               nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port) return "http://127.0.0.1:" + std::to_string(port) + "/token";
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return {};
  }

  void start() {
    const auto config = m_dir.path() + "/config.yml";
    const auto log = m_dir.path() + "/log";
    m_pid = ::fork();
    if (m_pid == 0) {
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execl(k_registry_binary, k_registry_binary, "serve", config.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !m_ready; ++i) {
      m_ready = port_open(m_port);
      if (!m_ready) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }

  sys::TempDir m_dir = *sys::TempDir::create("mason-registry-");
  int m_port;
  pid_t m_pid = -1;
  pid_t m_token_pid = -1;
  bool m_ready = false;
};

bool registry_available() {
  if (::access(k_registry_binary, X_OK) == 0) return true;
  if (std::getenv("CI")) ADD_FAILURE() << "docker-registry is required when CI is set";
  return false;
}

#define REQUIRE_REGISTRY()                                                                         \
  if (!registry_available()) GTEST_SKIP() << "docker-registry is not installed"

struct Events {
  std::mutex mutex;
  std::vector<TransferEvent> all;
  TransferProgress sink() {
    return [this](const TransferEvent& e) {
      std::lock_guard lock(mutex);
      all.push_back(e);
    };
  }
  int count_skipped() {
    std::lock_guard lock(mutex);
    return static_cast<int>(std::ranges::count_if(all, [](const auto& e) { return e.skipped; }));
  }
};

struct Side {
  sys::TempDir config_dir = *sys::TempDir::create("mason-docker-config-");
  RegistryOptions options;
  Events events;
  Side() {
    options.credentials.config_dir = config_dir.path();
    options.retry_backoff = std::chrono::milliseconds(10);
    options.max_attempts = 2;
    options.progress = events.sink();
  }
  void login(const std::string& domain, const std::string& user_colon_pass) {
    std::ofstream(config_dir.path() + "/config.json")
        << R"({"auths":{")" << domain << R"(":{"auth":")" << base64_for(user_colon_pass) << "\"}}}";
  }
  static std::string base64_for(const std::string& s);
  std::unique_ptr<Client> client() { return *Client::create(options); }
};

std::string Side::base64_for(const std::string& s) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(s[i])) << 16;
    if (i + 1 < s.size())
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + 1])) << 8;
    if (i + 2 < s.size()) n |= static_cast<unsigned char>(s[i + 2]);
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += i + 1 < s.size() ? k_alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < s.size() ? k_alphabet[n & 63] : '=';
  }
  return out;
}

image::Reference ref(const LocalRegistry& r, const std::string& rest) {
  return *image::Reference::parse(r.domain() + "/" + rest);
}

const image::Platform k_amd64 = *image::parse_platform("linux/amd64");

void expect_same_blobs(const TestImage& image, const content::Store& store) {
  for (const auto& [digest, bytes] : image.blobs()) {
    auto got = store.read_blob(*image::Digest::parse(digest));
    ASSERT_TRUE(got) << digest;
    EXPECT_EQ(*got, bytes);
  }
}

TEST(ClientRegistry, PushThenPullGivesTheSameImage) {
  REQUIRE_REGISTRY();
  LocalRegistry registry(Security::plain);
  ASSERT_TRUE(registry.ready());
  ScratchStore source, dest;
  TestImage image("push-pull");
  const auto manifest = image.store_in(*source.store);
  Side side;
  auto client = side.client();
  auto pushed = client->push(*source.store, manifest, ref(registry, "team/app:v1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  EXPECT_EQ(pushed->digest, image.manifest.digest);
  EXPECT_EQ(side.events.count_skipped(), 0);

  auto again = client->push(*source.store, manifest, ref(registry, "team/app:v1"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(side.events.count_skipped(), 3); // config and both layers

  auto resolved = client->resolve(ref(registry, "team/app:v1"));
  ASSERT_TRUE(resolved) << resolved.error().to_string();
  EXPECT_EQ(resolved->digest, image.manifest.digest);

  auto pulled = side.client()->pull(*dest.store, ref(registry, "team/app:v1"), k_amd64);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->digest, image.manifest.digest);
  expect_same_blobs(image, *dest.store);
  auto tagged = dest.store->resolve(registry.domain() + "/team/app:v1");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->digest, image.manifest.digest);
}

TEST(ClientRegistry, MissingTagIsNotFoundNamingTheRegistry) {
  REQUIRE_REGISTRY();
  LocalRegistry registry(Security::plain);
  ASSERT_TRUE(registry.ready());
  ScratchStore dest;
  Side side;
  auto pulled = side.client()->pull(*dest.store, ref(registry, "nothing:here"), k_amd64);
  ASSERT_FALSE(pulled);
  EXPECT_EQ(pulled.error().code(), util::ErrorCode::not_found);
  const auto text = pulled.error().to_string();
  EXPECT_NE(text.find("pull " + registry.domain() + "/nothing:here"), std::string::npos) << text;
  EXPECT_NE(text.find("404"), std::string::npos) << text;
}

TEST(ClientRegistry, BasicAuthWithRightAndWrongCredentials) {
  REQUIRE_REGISTRY();
  LocalRegistry registry(Security::basic_auth);
  ASSERT_TRUE(registry.ready());
  ScratchStore source, dest;
  TestImage image("basic");
  const auto manifest = image.store_in(*source.store);

  Side anonymous;
  auto refused = anonymous.client()->push(*source.store, manifest, ref(registry, "app:1"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), util::ErrorCode::unauthorized);

  Side good;
  good.login(registry.domain(), "user:secret");
  auto pushed = good.client()->push(*source.store, manifest, ref(registry, "app:1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  auto pulled = good.client()->pull(*dest.store, ref(registry, "app:1"), k_amd64);
  ASSERT_TRUE(pulled) << pulled.error().to_string();

  Side bad;
  bad.login(registry.domain(), "user:wrong");
  auto denied = bad.client()->pull(*dest.store, ref(registry, "app:1"), k_amd64);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), util::ErrorCode::unauthorized);
  EXPECT_NE(denied.error().to_string().find(registry.domain()), std::string::npos);

  EXPECT_TRUE(good.client()->check_login(registry.domain(), {"user", "secret", ""}));
  auto login = good.client()->check_login(registry.domain(), {"user", "nope", ""});
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().code(), util::ErrorCode::unauthorized);
}

TEST(ClientRegistry, TlsTrustedOnlyWithTheCaFile) {
  REQUIRE_REGISTRY();
  LocalRegistry registry(Security::tls);
  ASSERT_TRUE(registry.ready());
  ScratchStore source, dest;
  TestImage image("tls");
  const auto manifest = image.store_in(*source.store);

  Side untrusting;
  auto refused = untrusting.client()->push(*source.store, manifest, ref(registry, "app:1"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), util::ErrorCode::unauthorized) << refused.error().to_string();

  Side trusting;
  trusting.options.ca_files = {registry.cert()};
  auto pushed = trusting.client()->push(*source.store, manifest, ref(registry, "app:1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  auto pulled = trusting.client()->pull(*dest.store, ref(registry, "app:1"), k_amd64);
  ASSERT_TRUE(pulled) << pulled.error().to_string();

  Side insecure;
  insecure.options.insecure_registries = {registry.domain()};
  ScratchStore other;
  auto skipped = insecure.client()->pull(*other.store, ref(registry, "app:1"), k_amd64);
  ASSERT_TRUE(skipped) << skipped.error().to_string();
}

TEST(ClientRegistry, IndexResolvesToThePlatform) {
  REQUIRE_REGISTRY();
  LocalRegistry registry(Security::plain);
  ASSERT_TRUE(registry.ready());
  ScratchStore source, dest;
  TestImage amd64("multi-amd64", "amd64"), arm64("multi-arm64", "arm64");
  image::Index index;
  index.media_type = std::string(image::media_type::oci_index);
  for (auto [img, platform] :
       {std::pair{&amd64, "linux/amd64"}, std::pair{&arm64, "linux/arm64"}}) {
    auto d = img->store_in(*source.store);
    d.platform = *image::parse_platform(platform);
    index.manifests.push_back(d);
  }
  index.seal();
  auto stored =
      source.store->ingest_bytes(index.raw, {std::string(image::media_type::oci_index), {}, {}});
  ASSERT_TRUE(stored);
  Side side;
  auto pushed = side.client()->push(*source.store, index.descriptor(), ref(registry, "multi:1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  EXPECT_EQ(pushed->digest, index.digest);

  auto pulled = side.client()->pull(*dest.store, ref(registry, "multi:1"),
                                    *image::parse_platform("linux/arm64"));
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->digest, arm64.manifest.digest);
  expect_same_blobs(arm64, *dest.store);
  EXPECT_FALSE(dest.store->has_blob(amd64.manifest.layers[0].digest));
  EXPECT_TRUE(dest.store->has_blob(index.digest));
  EXPECT_EQ(dest.store->resolve(registry.domain() + "/multi:1")->digest, arm64.manifest.digest);
  // The repository is recorded on what the tag named (the index), as
  // docker's RepoDigests show it; the index leads to the manifest.
  EXPECT_EQ(dest.store->blob_sources(index.digest).value(),
            std::vector<std::string>{registry.domain() + "/multi"});
  EXPECT_TRUE(dest.store->blob_sources(arm64.manifest.digest)->empty());
  EXPECT_EQ(dest.store->referrers(arm64.manifest.digest).value(),
            std::vector<image::Digest>{index.digest});
}

TEST(ClientRegistry, BearerTokenFromATokenService) {
  REQUIRE_REGISTRY();
  LocalRegistry registry(Security::token);
  ASSERT_TRUE(registry.ready());
  ScratchStore source, dest;
  TestImage image("bearer");
  const auto manifest = image.store_in(*source.store);

  Side anonymous;
  auto refused = anonymous.client()->push(*source.store, manifest, ref(registry, "app:1"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), util::ErrorCode::unauthorized);

  Side user;
  user.login(registry.domain(), "user:secret");
  auto pushed = user.client()->push(*source.store, manifest, ref(registry, "app:1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  auto pulled = user.client()->pull(*dest.store, ref(registry, "app:1"), k_amd64);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  expect_same_blobs(image, *dest.store);
}

const image::Reference k_hub_busybox = *image::Reference::parse("docker.io/library/busybox:1");

// registry-1.docker.io is not reachable from the tests: a pull of a
// docker.io reference that succeeds came from a mirror.
TEST(ClientRegistry, DockerIoPullsComeFromTheMirror) {
  REQUIRE_REGISTRY();
  LocalRegistry mirror(Security::plain);
  ASSERT_TRUE(mirror.ready());
  ScratchStore source, dest;
  TestImage image("mirrored");
  const auto manifest = image.store_in(*source.store);
  Side side;
  auto pushed = side.client()->push(*source.store, manifest, ref(mirror, "library/busybox:1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();

  side.options.docker_io_mirrors = {"http://" + mirror.domain()};
  auto client = side.client();
  auto resolved = client->resolve(k_hub_busybox);
  ASSERT_TRUE(resolved) << resolved.error().to_string();
  EXPECT_EQ(resolved->digest, image.manifest.digest);
  auto pulled = client->pull(*dest.store, k_hub_busybox, k_amd64);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->digest, image.manifest.digest);
  expect_same_blobs(image, *dest.store);
  auto tagged = dest.store->resolve(k_hub_busybox.str());
  ASSERT_TRUE(tagged) << tagged.error().to_string();
  EXPECT_EQ(tagged->digest, image.manifest.digest);
  // Recorded as docker.io's and the mirror's, where a push could mount it
  // from (the mirror's registry: as BuildKit's distribution sources).
  auto sources = dest.store->blob_sources(image.manifest.layers[0].digest);
  ASSERT_TRUE(sources);
  EXPECT_EQ(*sources, (std::vector<std::string>{mirror.domain() + "/library/busybox",
                                                "registry-1.docker.io/library/busybox"}));
  // The manifest's repositories (RepoDigests) stay docker.io's.
  auto manifest_sources = dest.store->blob_sources(image.manifest.digest);
  ASSERT_TRUE(manifest_sources);
  EXPECT_EQ(*manifest_sources, std::vector<std::string>{"registry-1.docker.io/library/busybox"});
}

TEST(ClientRegistry, FailingMirrorsFallBackToTheNext) {
  REQUIRE_REGISTRY();
  LocalRegistry empty(Security::plain), mirror(Security::plain);
  ASSERT_TRUE(empty.ready());
  ASSERT_TRUE(mirror.ready());
  ScratchStore source, dest;
  TestImage image("second-mirror");
  const auto manifest = image.store_in(*source.store);
  Side side;
  auto pushed = side.client()->push(*source.store, manifest, ref(mirror, "library/busybox:1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();

  side.options.docker_io_mirrors = {"http://127.0.0.1:" + std::to_string(free_port()),
                                    "http://" + empty.domain() + "/", "http://" + mirror.domain()};
  auto client = side.client();
  auto resolved = client->resolve(k_hub_busybox);
  ASSERT_TRUE(resolved) << resolved.error().to_string();
  EXPECT_EQ(resolved->digest, image.manifest.digest);
  auto pulled = client->pull(*dest.store, k_hub_busybox, k_amd64);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->digest, image.manifest.digest);
  expect_same_blobs(image, *dest.store);
}

TEST(ClientRegistry, MirrorsAreNotUsedForOtherRegistriesNorForPushes) {
  REQUIRE_REGISTRY();
  LocalRegistry mirror(Security::plain), other(Security::plain);
  ASSERT_TRUE(mirror.ready());
  ASSERT_TRUE(other.ready());
  ScratchStore source, dest;
  TestImage image("not-mirrored");
  const auto manifest = image.store_in(*source.store);
  Side side;
  side.options.docker_io_mirrors = {"http://" + mirror.domain()};
  auto client = side.client();
  ASSERT_TRUE(client->push(*source.store, manifest, ref(mirror, "app:1")));
  // Same path on another registry: not looked up on the mirror.
  auto pulled = client->pull(*dest.store, ref(other, "app:1"), k_amd64);
  ASSERT_FALSE(pulled);
  EXPECT_EQ(pulled.error().code(), util::ErrorCode::not_found) << pulled.error().to_string();
}

TEST(ClientRegistry, PushToAnotherRepositoryMountsTheBlobs) {
  REQUIRE_REGISTRY();
  LocalRegistry registry(Security::plain);
  ASSERT_TRUE(registry.ready());
  ScratchStore source, dest;
  TestImage image("mount");
  const auto manifest = image.store_in(*source.store);
  Side first;
  auto pushed = first.client()->push(*source.store, manifest, ref(registry, "a/x:1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  EXPECT_EQ(first.events.count_skipped(), 0);
  auto sources = source.store->blob_sources(image.manifest.config.digest);
  ASSERT_TRUE(sources);
  EXPECT_EQ(*sources, std::vector<std::string>{registry.domain() + "/a/x"});

  // b/y is a new repository (HEAD answers 404 there): skipped = mounted.
  Side second;
  auto mounted = second.client()->push(*source.store, manifest, ref(registry, "b/y:1"));
  ASSERT_TRUE(mounted) << mounted.error().to_string();
  EXPECT_EQ(second.events.count_skipped(), 3); // config and both layers

  auto pulled = second.client()->pull(*dest.store, ref(registry, "b/y:1"), k_amd64);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  expect_same_blobs(image, *dest.store);

  // What a pull recorded is mounted from too.
  Side third;
  auto again = third.client()->push(*dest.store, *pulled, ref(registry, "c/z:1"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(third.events.count_skipped(), 3);
  ScratchStore check;
  auto final_pull = third.client()->pull(*check.store, ref(registry, "c/z:1"), k_amd64);
  ASSERT_TRUE(final_pull) << final_pull.error().to_string();
  expect_same_blobs(image, *check.store);
}

} // namespace
} // namespace mason::registry
