// Image reference parsing and normalisation (mason/image/reference.h).
// The tables are distribution/reference's own test cases
// (normalize_test.go: TestValidateReferenceName, TestValidateRemoteName,
// TestParseRepositoryInfo, TestNormalizedSplitHostname, TestParseDockerRef,
// TestParseReferenceWithTagAndDigest; reference_test.go: TestReferenceParse
// through ParseNormalizedNamed), with mason's default tag added as
// Docker's TagNameOnly adds it.
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/image/reference.h"

namespace mason::image {
namespace {

using ::testing::HasSubstr;

const std::string k_ffff = "sha256:" + std::string(64, 'f');
const std::string k_busybox_digest =
    "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";

// ----- normalisation: the whole result -----

struct NormalRow {
  std::string input;
  std::string full;     // str()
  std::string familiar; // familiar()
  std::string domain;
  std::string path;
  std::string tag;
};

void PrintTo(const NormalRow& row, std::ostream* os) { *os << row.input; }

class NormaliseTable : public testing::TestWithParam<NormalRow> {};

TEST_P(NormaliseTable, Parses) {
  const auto& row = GetParam();
  auto ref = Reference::parse(row.input);
  ASSERT_TRUE(ref.has_value()) << ref.error().to_string();
  EXPECT_EQ(ref->str(), row.full);
  EXPECT_EQ(ref->familiar(), row.familiar);
  EXPECT_EQ(ref->domain(), row.domain);
  EXPECT_EQ(ref->path(), row.path);
  EXPECT_EQ(ref->tag(), row.tag);
  // The normalised form is a fixed point.
  auto again = Reference::parse(ref->str());
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(*again, *ref);
}

const NormalRow k_normal[] = {
    {"busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
     "library/busybox", "latest"},
    {"debian:bookworm", "docker.io/library/debian:bookworm", "debian:bookworm", "docker.io",
     "library/debian", "bookworm"},
    {"user/repo", "docker.io/user/repo:latest", "user/repo:latest", "docker.io", "user/repo",
     "latest"},
    {"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
     "library/busybox", "latest"},
    {"index.docker.io/library/debian", "docker.io/library/debian:latest", "debian:latest",
     "docker.io", "library/debian", "latest"},
    {"index.docker.io/debian", "docker.io/library/debian:latest", "debian:latest", "docker.io",
     "library/debian", "latest"},
    {"localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000",
     "a/b", "tag"},
    {"localhost/debian", "localhost/debian:latest", "localhost/debian:latest", "localhost",
     "debian", "latest"},
    {"host.example.com/x@" + k_ffff, "host.example.com/x@" + k_ffff, "host.example.com/x@" + k_ffff,
     "host.example.com", "x", ""},
    {"busybox:latest@" + k_busybox_digest, "docker.io/library/busybox:latest@" + k_busybox_digest,
     "busybox:latest@" + k_busybox_digest, "docker.io", "library/busybox", "latest"},
    {"redis@" + k_ffff, "docker.io/library/redis@" + k_ffff, "redis@" + k_ffff, "docker.io",
     "library/redis", ""},
    {"library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest", "docker.io",
     "library/foo/bar", "latest"},
    {"test.com:5000", "docker.io/library/test.com:5000", "test.com:5000", "docker.io",
     "library/test.com", "5000"},
    {"test:5000/repo:tag", "test:5000/repo:tag", "test:5000/repo:tag", "test:5000", "repo", "tag"},
    {"test:5000/repo:tag@" + k_ffff, "test:5000/repo:tag@" + k_ffff, "test:5000/repo:tag@" + k_ffff,
     "test:5000", "repo", "tag"},
    {"lowercase:Uppercase", "docker.io/library/lowercase:Uppercase", "lowercase:Uppercase",
     "docker.io", "library/lowercase", "Uppercase"},
    {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
     "sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
     "some-long-tag"},
    {"b.gcr.io/test.example.com/my-app:test.example.com",
     "b.gcr.io/test.example.com/my-app:test.example.com",
     "b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
     "test.example.com"},
    {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com",
     "xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com"},
    {"foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080", "foo/foo_bar.com:8080", "docker.io",
     "foo/foo_bar.com", "8080"},
    {"192.168.1.1", "docker.io/library/192.168.1.1:latest", "192.168.1.1:latest", "docker.io",
     "library/192.168.1.1", "latest"},
    {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050",
     "192.168.1.1:5000", "repo", "5050"},
    {"[2001:db8::1]/repo", "[2001:db8::1]/repo:latest", "[2001:db8::1]/repo:latest",
     "[2001:db8::1]", "repo", "latest"},
    {"[2001:db8::1]:5000/repo:tag@" + k_ffff, "[2001:db8::1]:5000/repo:tag@" + k_ffff,
     "[2001:db8::1]:5000/repo:tag@" + k_ffff, "[2001:db8::1]:5000", "repo", "tag"},
    {"[::1]:5000/repo", "[::1]:5000/repo:latest", "[::1]:5000/repo:latest", "[::1]:5000", "repo",
     "latest"},
    {"Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo", "bar", "latest"},
    {"LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar:latest", "LOCALDOMAIN/fooo/bar:latest",
     "LOCALDOMAIN", "fooo/bar", "latest"},
    {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "docker.io",
     "library/localhost", "5000"},
    {"docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
     "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
     "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest", "docker.io",
     "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "latest"},
    {"ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest", "ubuntu-12.04-base:latest",
     "docker.io", "library/ubuntu-12.04-base", "latest"},
    {"docker---rules/dock__er", "docker.io/docker---rules/dock__er:latest",
     "docker---rules/dock__er:latest", "docker.io", "docker---rules/dock__er", "latest"},
};

INSTANTIATE_TEST_SUITE_P(DistributionReference, NormaliseTable, testing::ValuesIn(k_normal));

// ----- valid names -----

class ValidTable : public testing::TestWithParam<std::string> {};

TEST_P(ValidTable, Accepts) {
  auto ref = Reference::parse(GetParam());
  EXPECT_TRUE(ref.has_value()) << ref.error().to_string();
}

const std::string k_valid[] = {
    "docker/docker",
    "library/debian",
    "debian",
    "localhost/library/debian",
    "LOCALDOMAIN/library/debian",
    "docker.io/docker/docker",
    "index.docker.io/docker/docker",
    "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/debian",
    "192.168.0.1",
    "192.168.0.1:80",
    "192.168.0.1:8/debian",
    "192.168.0.2:25000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00::1]:5000/docker",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "Docker/docker",
    "DOCKER/docker",
    "docker-rules/docker",
    "d/docker",
    "jess/t",
    "test_com",
    "test.com:tag",
    "xn--7o8h.com/myimage:xn--7o8h.com@" + k_ffff,
    "foo_bar.com:8080",
    "example.com/" + std::string(255, 'a') + ":tag",
    "validname@sha512:" + std::string(128, 'f'),
};

INSTANTIATE_TEST_SUITE_P(DistributionReference, ValidTable, testing::ValuesIn(k_valid));

TEST(Reference, LongestPathIsAccepted) {
  std::string input;
  for (int i = 0; i < 127; ++i) input += "a/";
  input += "a:tag-puts-this-over-max";
  auto ref = Reference::parse(input);
  ASSERT_TRUE(ref.has_value()) << ref.error().to_string();
  EXPECT_EQ(ref->domain(), "docker.io");
  EXPECT_EQ(ref->path().size(), 255U);
}

// ----- invalid names -----

struct InvalidRow {
  std::string input;
  std::string why; // substring of the error
};

void PrintTo(const InvalidRow& row, std::ostream* os) { *os << row.input; }

class InvalidTable : public testing::TestWithParam<InvalidRow> {};

TEST_P(InvalidTable, Refuses) {
  const auto& row = GetParam();
  auto ref = Reference::parse(row.input);
  ASSERT_FALSE(ref.has_value()) << ref->str();
  EXPECT_EQ(ref.error().code(), util::ErrorCode::invalid_argument);
  EXPECT_THAT(ref.error().to_string(),
              testing::StartsWith("invalid reference format: \"" + row.input + "\": "));
  EXPECT_THAT(ref.error().to_string(), HasSubstr(row.why));
}

const std::string k_component = "invalid repository name component";

const InvalidRow k_invalid[] = {
    {"", "repository name must have at least one component"},
    {"https://github.com/docker/docker", "invalid registry domain \"https:\""},
    {"docker/Docker", "repository name (docker/Docker) must be lowercase"},
    {"Uppercase:tag", "repository name (library/Uppercase) must be lowercase"},
    {"test:5000/Uppercase/lowercase:tag",
     "repository name (Uppercase/lowercase) must be lowercase"},
    {"docker.io/docker/Docker", "must be lowercase"},
    {"-docker", k_component + " \"-docker\""},
    {"-docker/docker", k_component + " \"-docker\""},
    {"-docker.io/docker/docker", "invalid registry domain \"-docker.io\""},
    {"docker///docker", "has an empty component"},
    {"docker.io/docker///docker", "has an empty component"},
    {"docker-/docker", k_component + " \"docker-\""},
    {"-docker-/docker", k_component},
    {"____/____", k_component + " \"____\""},
    {"_docker/_docker", k_component},
    // A first component with a '.' is a domain (splitDockerDomain).
    {"dock..er/docker", "invalid registry domain \"dock..er\""},
    {"dock_.er/docker", "invalid registry domain \"dock_.er\""},
    {"dock-.er/docker", "invalid registry domain \"dock-.er\""},
    {"docker/", "has an empty component"},
    {":justtag", "has an empty component"},
    {"@" + k_ffff, "has an empty component"},
    {"aa/asdf$$^/aa", k_component + " \"asdf$$^\""},
    {"[fc00::1]", "invalid tag \"1]\""},
    {"[fc00::1]:5000", k_component},
    {"[2001:db8::1]:tag", k_component},
    {"fc00::1:5000/debian", "invalid registry domain \"fc00::1:5000\""},
    {"[fe80::1%eth0]:5000/debian", "invalid registry domain"},
    {"[2001:db8:3:4::192.0.2.33]:5000/debian", "invalid registry domain"},
    {"1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
     "cannot specify 64-byte hexadecimal strings"},
    {"repo@sha256:ffffffffffffffffffffffffffffffffff", "wrong length"},
    {"validname@invaliddigest:" + std::string(64, 'f'), "unsupported algorithm"},
    {"repo@sha256:abc", "invalid digest \"sha256:abc\""},
    {"repo:-tag", "invalid tag \"-tag\""},
    {"repo:" + std::string(129, 't'), "invalid tag"},
    {"repo:a:b", k_component + " \"repo:a\""},
    {"domain/" + std::string(256, 'a') + ":tag", "must not be more than 255 characters"},
    {"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_"
     "namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_"
     "lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_"
     "255/docker",
     "must not be more than 255 characters"},
    // Docker falls back to a domain-less name here; mason refuses (see reference.cc).
    {"foo_bar.com/x", "invalid registry domain \"foo_bar.com\""},
};

INSTANTIATE_TEST_SUITE_P(DistributionReference, InvalidTable, testing::ValuesIn(k_invalid));

// ----- repository info: every spelling gives one name -----

struct RepoRow {
  std::vector<std::string> spellings;
  std::string familiar_name;
  std::string name;
  std::string domain;
  std::string path;
};

void PrintTo(const RepoRow& row, std::ostream* os) { *os << row.spellings.front(); }

class RepositoryInfoTable : public testing::TestWithParam<RepoRow> {};

TEST_P(RepositoryInfoTable, AllSpellingsAgree) {
  const auto& row = GetParam();
  for (const auto& spelling : row.spellings) {
    auto ref = Reference::parse(spelling);
    ASSERT_TRUE(ref.has_value()) << ref.error().to_string();
    EXPECT_EQ(ref->familiar_name(), row.familiar_name) << spelling;
    EXPECT_EQ(ref->name(), row.name) << spelling;
    EXPECT_EQ(ref->domain(), row.domain) << spelling;
    EXPECT_EQ(ref->path(), row.path) << spelling;
  }
}

const RepoRow k_repository_info[] = {
    {{"localhost/fooo"}, "localhost/fooo", "localhost/fooo", "localhost", "fooo"},
    {{"localhost/fooo/bar"}, "localhost/fooo/bar", "localhost/fooo/bar", "localhost", "fooo/bar"},
    {{"LOCALDOMAIN/fooo"}, "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN", "fooo"},
    {{"fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar"},
     "fooo/bar",
     "docker.io/fooo/bar",
     "docker.io",
     "fooo/bar"},
    {{"ubuntu", "docker.io/library/ubuntu", "library/ubuntu"},
     "ubuntu",
     "docker.io/library/ubuntu",
     "docker.io",
     "library/ubuntu"},
    {{"nonlibrary/ubuntu"},
     "nonlibrary/ubuntu",
     "docker.io/nonlibrary/ubuntu",
     "docker.io",
     "nonlibrary/ubuntu"},
    {{"other/library"}, "other/library", "docker.io/other/library", "docker.io", "other/library"},
    {{"127.0.0.1:8000/private/moonbase"},
     "127.0.0.1:8000/private/moonbase",
     "127.0.0.1:8000/private/moonbase",
     "127.0.0.1:8000",
     "private/moonbase"},
    {{"example.com/privatebase"},
     "example.com/privatebase",
     "example.com/privatebase",
     "example.com",
     "privatebase"},
    {{"example.com:8000/private/moonbase"},
     "example.com:8000/private/moonbase",
     "example.com:8000/private/moonbase",
     "example.com:8000",
     "private/moonbase"},
    {{"ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
      "index.docker.io/library/ubuntu-12.04-base"},
     "ubuntu-12.04-base",
     "docker.io/library/ubuntu-12.04-base",
     "docker.io",
     "library/ubuntu-12.04-base"},
    {{"foo", "docker.io/foo"}, "foo", "docker.io/library/foo", "docker.io", "library/foo"},
    {{"store/foo/bar"}, "store/foo/bar", "docker.io/store/foo/bar", "docker.io", "store/foo/bar"},
    {{"FOO/bar"}, "FOO/bar", "FOO/bar", "FOO", "bar"},
    {{"test_com/foo"}, "test_com/foo", "docker.io/test_com/foo", "docker.io", "test_com/foo"},
    {{"test-com:8080/foo"}, "test-com:8080/foo", "test-com:8080/foo", "test-com:8080", "foo"},
    {{"xn--n3h.com:18080/foo"},
     "xn--n3h.com:18080/foo",
     "xn--n3h.com:18080/foo",
     "xn--n3h.com:18080",
     "foo"},
};

INSTANTIATE_TEST_SUITE_P(DistributionReference, RepositoryInfoTable,
                         testing::ValuesIn(k_repository_info));

// ----- Docker's ParseDockerRef: pinned() -----

class DockerRefTable : public testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(DockerRefTable, Pins) {
  auto ref = Reference::parse(GetParam().first);
  ASSERT_TRUE(ref.has_value()) << ref.error().to_string();
  EXPECT_EQ(ref->pinned().str(), GetParam().second);
}

const std::pair<std::string, std::string> k_docker_ref[] = {
    {"busybox", "docker.io/library/busybox:latest"},
    {"busybox:latest", "docker.io/library/busybox:latest"},
    {"busybox@" + k_busybox_digest, "docker.io/library/busybox@" + k_busybox_digest},
    {"library/busybox", "docker.io/library/busybox:latest"},
    {"docker.io/busybox", "docker.io/library/busybox:latest"},
    {"docker.io/library/busybox", "docker.io/library/busybox:latest"},
    {"docker.io/busybox:latest", "docker.io/library/busybox:latest"},
    {"library/busybox:latest", "docker.io/library/busybox:latest"},
    {"gcr.io/library/busybox", "gcr.io/library/busybox:latest"},
    {"gcr.io/library/busybox:latest@" + k_busybox_digest,
     "gcr.io/library/busybox@" + k_busybox_digest},
};

INSTANTIATE_TEST_SUITE_P(DistributionReference, DockerRefTable, testing::ValuesIn(k_docker_ref));

// ----- accessors and copies -----

TEST(Reference, Accessors) {
  auto ref = Reference::parse("busybox:1.36@" + k_busybox_digest);
  ASSERT_TRUE(ref.has_value());
  EXPECT_TRUE(ref->has_digest());
  EXPECT_EQ(ref->digest().str(), k_busybox_digest);
  EXPECT_EQ(ref->tag(), "1.36");
  EXPECT_EQ(ref->name(), "docker.io/library/busybox");
  EXPECT_EQ(ref->familiar_name(), "busybox");
}

TEST(Reference, WithTagAndDigest) {
  auto ref = Reference::parse("localhost:5000/app");
  ASSERT_TRUE(ref.has_value());
  auto tagged = ref->with_tag("v2");
  ASSERT_TRUE(tagged.has_value());
  EXPECT_EQ(tagged->str(), "localhost:5000/app:v2");
  auto bad = ref->with_tag("-x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().to_string(), "invalid tag \"-x\" for localhost:5000/app");
  const auto digested = ref->with_digest(Digest::parse(k_ffff).value());
  EXPECT_EQ(digested.str(), "localhost:5000/app:latest@" + k_ffff);
  EXPECT_EQ(digested.pinned().str(), "localhost:5000/app@" + k_ffff);
}

} // namespace
} // namespace mason::image
