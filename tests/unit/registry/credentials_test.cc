#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include "mason/registry/credentials.h"
#include "mason/registry/credentials_helper.h"
#include "mason/sys/temp_dir.h"
#include "mason/util/base64.h"

using namespace mason;
using namespace mason::registry;
using Json = nlohmann::ordered_json;

namespace {

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> keys_of(const Json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

// A docker-credential-fake that keeps one file per server URL in `store`.
std::string fake_helper_script(const std::string& store) {
  return "#!/bin/sh\nstore='" + store + "'\n" + R"sh(
name() { printf '%s' "$1" | tr -c 'A-Za-z0-9.' '_'; }
input=$(cat)
echo "$1 $input" >> "$store/log"
case "$1" in
get)
  f="$store/$(name "$input")"
  if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store)
  url=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
  printf '%s' "$input" > "$store/$(name "$url")" ;;
erase)
  f="$store/$(name "$input")"
  if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*) echo "unknown action $1"; exit 1 ;;
esac
)sh";
}

class CredentialsFixture : public ::testing::Test {
protected:
  void SetUp() override {
    auto config = sys::TempDir::create("mason-creds-test-");
    auto bin = sys::TempDir::create("mason-creds-bin-");
    auto store = sys::TempDir::create("mason-creds-store-");
    ASSERT_TRUE(config && bin && store);
    m_config.emplace(std::move(*config));
    m_bin.emplace(std::move(*bin));
    m_store.emplace(std::move(*store));
    m_options.config_dir = m_config->path();
    const char* path = std::getenv("PATH");
    m_old_path = path != nullptr ? path : "/usr/bin:/bin";
    ::setenv("PATH", (m_bin->path() + ":" + m_old_path).c_str(), 1);
    install_helper("fake", fake_helper_script(m_store->path()));
  }
  void TearDown() override { ::setenv("PATH", m_old_path.c_str(), 1); }

  std::string config_file() const { return m_config->path() + "/config.json"; }
  void write_config(const std::string& text) { write_file(config_file(), text); }
  void install_helper(const std::string& name, const std::string& script) {
    write_file(m_bin->path() + "/docker-credential-" + name, script, 0755);
  }
  std::optional<Credentials> lookup(const std::string& host) {
    auto found = lookup_credentials(host, m_options);
    EXPECT_TRUE(found) << found.error().to_string();
    return found ? *found : std::nullopt;
  }

  std::optional<sys::TempDir> m_config;
  std::optional<sys::TempDir> m_bin;
  std::optional<sys::TempDir> m_store;
  CredentialStoreOptions m_options;
  std::string m_old_path;
};

using CredentialsFile = CredentialsFixture;
using CredentialsHelper = CredentialsFixture;

} // namespace

TEST(CredentialsRules, ConvertToHostnameAndKeys) {
  using detail::convert_to_hostname;
  EXPECT_EQ(convert_to_hostname("myreg.example"), "myreg.example");
  EXPECT_EQ(convert_to_hostname("myreg.example/"), "myreg.example");
  EXPECT_EQ(convert_to_hostname("https://myreg.example"), "myreg.example");
  EXPECT_EQ(convert_to_hostname("http://myreg.example:5000"), "myreg.example:5000");
  EXPECT_EQ(convert_to_hostname("https://myreg.example/v1/"), "myreg.example");
  EXPECT_EQ(convert_to_hostname("https://localhost:5000/v2/"), "localhost:5000");
  EXPECT_EQ(convert_to_hostname("localhost:5000/v1/"), "localhost:5000");
  EXPECT_EQ(detail::credential_key("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(detail::credential_key("index.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(detail::credential_key("registry-1.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(detail::credential_key("https://index.docker.io/v1/"), "https://index.docker.io/v1/");
  EXPECT_EQ(detail::credential_key("ghcr.io"), "ghcr.io");
}

TEST_F(CredentialsFile, LookupFromAuth) {
  write_config(R"({"auths": {"myreg.example": {"auth": ")" + util::base64_encode("alice:s3:cret") +
               R"("}}})");
  const auto found = lookup("myreg.example");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->password, "s3:cret");
  EXPECT_EQ(found->identity_token, "");
  EXPECT_FALSE(lookup("other.example"));
}

TEST_F(CredentialsFile, LookupFromUsernamePasswordAndIdentityToken) {
  write_config(R"({"auths": {
    "a.example": {"username": "bob", "password": "pw"},
    "b.example": {"auth": ")" +
               util::base64_encode("carol:") + R"(", "identitytoken": "refresh-tok"},
    "c.example": {}}})");
  const auto a = lookup("a.example");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->username, "bob");
  EXPECT_EQ(a->password, "pw");
  const auto b = lookup("b.example");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->username, "carol");
  EXPECT_EQ(b->password, "");
  EXPECT_EQ(b->identity_token, "refresh-tok");
  EXPECT_FALSE(lookup("c.example")); // an entry without a secret
}

TEST_F(CredentialsFile, DockerHubLivesUnderIndexV1) {
  write_config(R"({"auths": {"https://index.docker.io/v1/": {"auth": ")" +
               util::base64_encode("hubuser:hubpw") + R"("}}})");
  for (const char* host : {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
    const auto found = lookup(host);
    ASSERT_TRUE(found) << host;
    EXPECT_EQ(found->username, "hubuser");
  }
  ASSERT_TRUE(store_credentials("docker.io", {"new", "pw2", ""}, m_options));
  const auto config = Json::parse(read_file(config_file()));
  EXPECT_EQ(keys_of(config["auths"]), std::vector<std::string>{"https://index.docker.io/v1/"});
  EXPECT_EQ(lookup("docker.io")->username, "new");
}

TEST_F(CredentialsFile, HostKeyVariants) {
  const auto auth = [](const std::string& user) {
    return R"({"auth": ")" + util::base64_encode(user + ":pw") + R"("})";
  };
  write_config(R"({"auths": {)"
               R"("https://a.example": )" +
               auth("a") + "," + R"("http://b.example:5000": )" + auth("b") + "," +
               R"("https://c.example/v1/": )" + auth("c") + "," + R"("d.example/v2/": )" +
               auth("d") + "," + R"("https://e.example/v1/": )" + auth("e-legacy") + "," +
               R"("e.example": )" + auth("e") + "}}");
  EXPECT_EQ(lookup("a.example")->username, "a");
  EXPECT_EQ(lookup("b.example:5000")->username, "b");
  EXPECT_FALSE(lookup("b.example")); // the port is part of the host
  EXPECT_EQ(lookup("c.example")->username, "c");
  EXPECT_EQ(lookup("d.example")->username, "d");
  EXPECT_EQ(lookup("e.example")->username, "e"); // the exact key wins
}

TEST_F(CredentialsFile, MissingFileOrDirectoryMeansNone) {
  EXPECT_FALSE(lookup("myreg.example"));
  m_options.config_dir = m_config->path() + "/does/not/exist";
  EXPECT_FALSE(lookup("myreg.example"));
  write_config("");
  m_options.config_dir = m_config->path();
  EXPECT_FALSE(lookup("myreg.example"));
}

TEST_F(CredentialsFile, ConfigDirIsRequired) {
  // The CLI finds the directory (DOCKER_CONFIG, HOME): the library reads no
  // environment.
  const auto found = lookup_credentials("env.example", {});
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code(), util::ErrorCode::invalid_argument);
}

TEST_F(CredentialsFile, MalformedConfigIsCorruptionNamingTheFile) {
  const std::vector<std::string> unreadable = {R"({"auths": {)", R"([1, 2])", R"({"auths": []})",
                                               R"({"credsStore": 3})"};
  const std::vector<std::string> bad_entries = {
      R"({"auths": {"myreg.example": {"auth": "!!notbase64"}}})",
      R"({"auths": {"myreg.example": {"auth": "bm9jb2xvbg=="}}})", // "nocolon"
      R"({"auths": {"myreg.example": {"username": 5}}})"};
  for (const auto& list : {unreadable, bad_entries}) {
    for (const auto& text : list) {
      write_config(text);
      const auto found = lookup_credentials("myreg.example", m_options);
      ASSERT_FALSE(found) << text;
      EXPECT_EQ(found.error().code(), util::ErrorCode::corruption) << text;
      EXPECT_NE(found.error().to_string().find(config_file()), std::string::npos)
          << found.error().to_string();
    }
  }
  // A store never overwrites a file it cannot parse...
  for (const auto& text : unreadable) {
    write_config(text);
    EXPECT_FALSE(store_credentials("myreg.example", {"u", "p", ""}, m_options)) << text;
    EXPECT_EQ(read_file(config_file()), text);
  }
  // ...but a new login replaces a broken entry for its host.
  for (const auto& text : bad_entries) {
    write_config(text);
    EXPECT_TRUE(store_credentials("myreg.example", {"u", "p", ""}, m_options)) << text;
    EXPECT_EQ(lookup("myreg.example")->password, "p");
  }
}

TEST_F(CredentialsFile, StoreKeepsOtherKeysAndOrder) {
  write_config(R"({
	"proxies": {"default": {"httpProxy": "http://proxy:3128"}},
	"auths": {"zz.example": {"auth": "eno6eg=="}, "aa.example": {"auth": "YWE6YWE="}},
	"currentContext": "remote",
	"psFormat": "table {{.ID}}"
})");
  ASSERT_EQ(::chmod(config_file().c_str(), 0600), 0);
  auto stored = store_credentials("myreg.example:5000", {"alice", "pw", ""}, m_options);
  ASSERT_TRUE(stored) << stored.error().to_string();
  const auto config = Json::parse(read_file(config_file()));
  EXPECT_EQ(keys_of(config),
            (std::vector<std::string>{"proxies", "auths", "currentContext", "psFormat"}));
  EXPECT_EQ(keys_of(config["auths"]),
            (std::vector<std::string>{"zz.example", "aa.example", "myreg.example:5000"}));
  EXPECT_EQ(config["auths"]["myreg.example:5000"]["auth"], util::base64_encode("alice:pw"));
  EXPECT_EQ(config["proxies"]["default"]["httpProxy"], "http://proxy:3128");
  EXPECT_EQ(config["currentContext"], "remote");
  EXPECT_EQ(config["psFormat"], "table {{.ID}}");
  const auto found = lookup("myreg.example:5000");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->password, "pw");
  EXPECT_EQ(lookup("zz.example")->username, "zz");
}

TEST_F(CredentialsFile, StoreCreatesPrivateDirAndFile) {
  m_options.config_dir = m_config->path() + "/new/.docker";
  ASSERT_TRUE(store_credentials("myreg.example", {"u", "p", "tok"}, m_options));
  struct stat st {};
  ASSERT_EQ(::stat((m_options.config_dir + "/config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  ASSERT_EQ(::stat(m_options.config_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  const auto found = lookup("myreg.example");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "u");
  EXPECT_EQ(found->password, "p");
  EXPECT_EQ(found->identity_token, "tok");
  // No temp file is left behind.
  ASSERT_TRUE(store_credentials("myreg.example", {"u2", "p2", ""}, m_options));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(m_options.config_dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"config.json", "config.json.lock"}));
}

TEST_F(CredentialsFile, EraseRemovesEntryThenNotFound) {
  write_config(R"({"auths": {"https://legacy.example/v1/": {"auth": "YTpi"},
                            "keep.example": {"auth": "YTpi"}}, "currentContext": "x"})");
  ASSERT_TRUE(store_credentials("myreg.example", {"u", "p", ""}, m_options));
  ASSERT_TRUE(erase_credentials("myreg.example", m_options));
  EXPECT_FALSE(lookup("myreg.example"));
  const auto again = erase_credentials("myreg.example", m_options);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), util::ErrorCode::not_found);
  ASSERT_TRUE(erase_credentials("legacy.example", m_options));
  EXPECT_FALSE(lookup("legacy.example"));
  EXPECT_TRUE(lookup("keep.example"));
  EXPECT_EQ(Json::parse(read_file(config_file()))["currentContext"], "x");
  m_options.config_dir = m_config->path() + "/missing";
  EXPECT_EQ(erase_credentials("keep.example", m_options).error().code(),
            util::ErrorCode::not_found);
}

TEST_F(CredentialsFile, ConcurrentStoresKeepEveryHost) {
  write_config(R"({"currentContext": "default"})");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([this, i, &failures] {
      for (int round = 0; round < 5; ++round) {
        const std::string host = "host" + std::to_string(i) + ".example";
        if (!store_credentials(host, {"user" + std::to_string(round), "pw", ""}, m_options)) {
          ++failures[static_cast<std::size_t>(i)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
  for (int i = 0; i < 4; ++i) {
    const auto found = lookup("host" + std::to_string(i) + ".example");
    ASSERT_TRUE(found) << i;
    EXPECT_EQ(found->username, "user4");
  }
  EXPECT_EQ(Json::parse(read_file(config_file()))["currentContext"], "default");
}

TEST_F(CredentialsHelper, CredsStoreRoundTrip) {
  write_config(R"({"credsStore": "fake", "currentContext": "x"})");
  auto stored = store_credentials("myreg.example", {"alice", "secret-pw", ""}, m_options);
  ASSERT_TRUE(stored) << stored.error().to_string();
  // The secret went to the helper; config.json has only docker's placeholder.
  const std::string text = read_file(config_file());
  EXPECT_EQ(text.find("secret-pw"), std::string::npos);
  EXPECT_EQ(Json::parse(text)["auths"]["myreg.example"], Json::object());
  const auto found = lookup("myreg.example");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->password, "secret-pw");
  ASSERT_TRUE(erase_credentials("myreg.example", m_options));
  EXPECT_FALSE(lookup("myreg.example"));
  EXPECT_FALSE(Json::parse(read_file(config_file()))["auths"].contains("myreg.example"));
  EXPECT_EQ(erase_credentials("myreg.example", m_options).error().code(),
            util::ErrorCode::not_found);
}

TEST_F(CredentialsHelper, IdentityTokenAndDockerHubUrl) {
  write_config(R"({"credsStore": "fake"})");
  ASSERT_TRUE(store_credentials("docker.io", {"bob", "", "refresh"}, m_options));
  const std::string log = read_file(m_store->path() + "/log");
  EXPECT_NE(log.find(R"("ServerURL":"https://index.docker.io/v1/","Username":"<token>")"),
            std::string::npos)
      << log;
  const auto found = lookup("registry-1.docker.io");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "");
  EXPECT_EQ(found->identity_token, "refresh");
}

TEST_F(CredentialsHelper, CredHelpersPerHostComeFirst) {
  install_helper("other", "#!/bin/sh\necho 'should not run'; exit 1\n");
  write_config(R"({"credsStore": "other", "credHelpers": {"myreg.example": "fake"},
    "auths": {"plain.example": {"auth": "YTpi"}}})");
  ASSERT_TRUE(store_credentials("myreg.example", {"u", "p", ""}, m_options));
  EXPECT_EQ(lookup("myreg.example")->password, "p");
  // Other hosts go to credsStore, even with a plain-text entry (as docker).
  const auto other = lookup_credentials("plain.example", m_options);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), util::ErrorCode::exec_failed);
}

TEST_F(CredentialsHelper, NotFoundInKeychainIsNone) {
  write_config(R"({"credHelpers": {"myreg.example": "fake"}})");
  EXPECT_FALSE(lookup("myreg.example"));
}

TEST_F(CredentialsHelper, FailingHelperIsExecFailedWithItsMessage) {
  install_helper("broken", "#!/bin/sh\ncat >/dev/null\necho 'keychain is locked'\nexit 3\n");
  install_helper("stderr", "#!/bin/sh\necho 'no dbus session' >&2\nexit 1\n");
  write_config(R"({"credHelpers": {"a.example": "broken", "b.example": "stderr",
                                   "c.example": "absent"}})");
  const auto a = lookup_credentials("a.example", m_options);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), util::ErrorCode::exec_failed);
  EXPECT_NE(a.error().to_string().find("keychain is locked"), std::string::npos)
      << a.error().to_string();
  EXPECT_NE(a.error().to_string().find("docker-credential-broken"), std::string::npos);
  const auto b = lookup_credentials("b.example", m_options);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().to_string().find("no dbus session"), std::string::npos)
      << b.error().to_string();
  const auto c = lookup_credentials("c.example", m_options);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), util::ErrorCode::exec_failed);
  const auto stored = store_credentials("a.example", {"u", "p", ""}, m_options);
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().to_string().find("keychain is locked"), std::string::npos);
}

TEST_F(CredentialsHelper, HungHelperIsKilledAtTimeout) {
  install_helper("hang", "#!/bin/sh\nexec sleep 30\n");
  const auto start = std::chrono::steady_clock::now();
  const auto run =
      detail::run_helper("docker-credential-hang", "get", "x", std::chrono::milliseconds(300));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), util::ErrorCode::exec_failed);
  EXPECT_NE(run.error().to_string().find("timed out"), std::string::npos);
}

TEST_F(CredentialsHelper, HelperThatIgnoresStdinDoesNotKillUs) {
  install_helper("deaf", "#!/bin/sh\necho '{\"Username\":\"u\",\"Secret\":\"s\"}'\n");
  const std::string big(1 << 20, 'x'); // more than a pipe holds
  const auto run =
      detail::run_helper("docker-credential-deaf", "store", big, std::chrono::seconds(10));
  ASSERT_TRUE(run) << run.error().to_string();
  EXPECT_EQ(run->exit_status, 0);
  EXPECT_NE(run->out.find("Secret"), std::string::npos);
}
