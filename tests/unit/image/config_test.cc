// Image configs (mason/image/config.h): a config as BuildKit writes it
// (exporter/containerimage/writer.go patchImageConfig: top-level keys in
// map order; the `config` object in the field order of docker-image-spec's
// DockerOCIImageConfig; Go's escaping) must serialise back to the same
// bytes; Docker's classic configs (nulls, container_config, ...) parse and
// keep their bytes; every strictness rule names the field.
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/image/config.h"

namespace mason::image {
namespace {

using ::testing::HasSubstr;

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

const std::string k_buildkit_config =
    R"({"architecture":"amd64","config":{"User":"app","ExposedPorts":{"443/tcp":{},"80/tcp":{}},)"
    R"("Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=\u003cb\u003e"],)"
    R"("Entrypoint":["/entry.sh"],"Cmd":["sh","-c","echo hi \u0026\u0026 true"],)"
    R"("Volumes":{"/data":{}},"WorkingDir":"/app",)"
    R"("Labels":{"maintainer":"me","org.opencontainers.image.title":"t"},"StopSignal":"SIGTERM",)"
    R"("ArgsEscaped":true,"Healthcheck":{"Test":["CMD-SHELL","curl -f http://localhost/"],)"
    R"("Interval":30000000000,"Timeout":5000000000,"Retries":3},"OnBuild":["RUN echo onbuild"],)"
    R"("Shell":["/bin/bash","-c"]},"created":"2024-05-06T07:08:09.123456789Z",)"
    R"("history":[{"created":"2024-05-01T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / ",)"
    R"("comment":"base"},{"created":"2024-05-06T07:08:09.123456789Z",)"
    R"("created_by":"RUN /bin/sh -c apt-get update \u0026\u0026 apt-get install -y curl # buildkit",)"
    R"("comment":"buildkit.dockerfile.v0"},{"created":"2024-05-06T07:08:09.123456789Z",)"
    R"("created_by":"CMD [\"sh\"]","comment":"buildkit.dockerfile.v0","empty_layer":true}],)"
    R"("os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
    digest_of('1') + R"(",")" + digest_of('2') + R"("]}})";

// What dockerd's classic builder wrote (moby image.Image): nulls, fields
// mason does not model, pretty much everything in another order.
const std::string k_moby_config =
    R"({"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"",)"
    R"("AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,)"
    R"("OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin"],"Cmd":["sh"],"Image":")" +
    digest_of('9') +
    R"(","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},)"
    R"("container":"3a4f","container_config":{"Cmd":["/bin/sh","-c","#(nop) ","CMD [\"sh\"]"]},)"
    R"("created":"2019-01-01T01:29:27.650294696Z","docker_version":"18.06.1-ce",)"
    R"("history":[{"created":"2019-01-01T01:29:27.416803627Z","created_by":"/bin/sh -c #(nop) ADD file:x in / "},)"
    R"({"created":"2019-01-01T01:29:27.650294696Z","created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}],)"
    R"("os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
    digest_of('3') + R"("]}})";

std::string config_error(std::string_view raw) {
  auto c = parse_image_config(raw);
  if (c) return {};
  EXPECT_EQ(c.error().code(), util::ErrorCode::invalid_argument);
  return c.error().to_string();
}

std::string context(std::string_view raw) {
  return "parse config " + Digest::sha256_of(raw).short_str() + ": ";
}

std::string minimal_with(std::string_view fields) {
  return R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]})" +
         std::string(fields) + "}";
}

TEST(ImageConfig, ParsesEveryModelledField) {
  auto c = parse_image_config(k_buildkit_config);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->created, "2024-05-06T07:08:09.123456789Z");
  EXPECT_EQ(c->config.user, "app");
  EXPECT_EQ(c->config.exposed_ports, (std::set<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(c->config.env[1], "A=<b>");
  EXPECT_EQ(c->config.cmd, (std::vector<std::string>{"sh", "-c", "echo hi && true"}));
  EXPECT_EQ(c->config.volumes, std::set<std::string>{"/data"});
  EXPECT_EQ(c->config.working_dir, "/app");
  EXPECT_EQ(c->config.labels.at("maintainer"), "me");
  EXPECT_EQ(c->config.stop_signal, "SIGTERM");
  EXPECT_TRUE(c->config.args_escaped);
  ASSERT_TRUE(c->config.healthcheck.has_value());
  EXPECT_EQ(c->config.healthcheck->interval, 30000000000);
  EXPECT_EQ(c->config.healthcheck->retries, 3);
  EXPECT_EQ(c->config.on_build, std::vector<std::string>{"RUN echo onbuild"});
  EXPECT_EQ(c->config.shell, (std::vector<std::string>{"/bin/bash", "-c"}));
  ASSERT_EQ(c->history.size(), 3U);
  EXPECT_TRUE(c->history[2].empty_layer);
  EXPECT_EQ(c->history[2].created_by, R"(CMD ["sh"])");
  ASSERT_EQ(c->rootfs.diff_ids.size(), 2U);
  EXPECT_EQ(c->rootfs.diff_ids[1].str(), digest_of('2'));
  EXPECT_EQ(c->digest, Digest::sha256_of(k_buildkit_config));
  EXPECT_EQ(c->platform(), (Platform{"linux", "amd64", "", "", {}}));
}

TEST(ImageConfig, SerializesExactlyAsBuildkit) {
  auto c = parse_image_config(k_buildkit_config);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->serialize(), k_buildkit_config);
}

TEST(ImageConfig, DockerClassicConfigKeepsItsBytes) {
  auto c = parse_image_config(k_moby_config);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->config.env, std::vector<std::string>{"PATH=/bin"});
  EXPECT_TRUE(c->config.entrypoint.empty());
  EXPECT_TRUE(c->config.labels.empty());
  EXPECT_EQ(c->raw, k_moby_config);
  EXPECT_EQ(c->digest, Digest::sha256_of(k_moby_config));
  EXPECT_EQ(c->descriptor(media_type::docker_config).digest, c->digest);
  // Unmodelled fields exist only in raw; a re-serialisation drops them.
  EXPECT_THAT(c->serialize(), testing::Not(HasSubstr("container_config")));
}

TEST(ImageConfig, OwnConfigRoundTrips) {
  ImageConfig c;
  c.architecture = "arm64";
  c.os = "linux";
  c.variant = "v8";
  c.created = format_timestamp(1700000000);
  c.config.env = {"PATH=/bin"};
  c.config.cmd = {"sh"};
  c.config.working_dir = "/";
  c.rootfs.diff_ids = {Digest::sha256_of("layer")};
  c.history = {HistoryEntry{c.created, "COPY . / # buildkit", "", "buildkit.dockerfile.v0", false}};
  c.seal();
  EXPECT_EQ(
      c.raw,
      R"({"architecture":"arm64","config":{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"},)"
      R"("created":"2023-11-14T22:13:20Z","history":[{"created":"2023-11-14T22:13:20Z",)"
      R"("created_by":"COPY . / # buildkit","comment":"buildkit.dockerfile.v0"}],"os":"linux",)"
      R"("rootfs":{"type":"layers","diff_ids":[")" +
          Digest::sha256_of("layer").str() + R"("]},"variant":"v8"})");
  auto parsed = parse_image_config(c.raw);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, c);
  EXPECT_EQ(c.descriptor().media_type, media_type::oci_config);
  EXPECT_EQ(c.descriptor().size, static_cast<std::int64_t>(c.raw.size()));
}

TEST(ImageConfig, EmptyConfigStillWritesConfigAndRootfs) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  EXPECT_EQ(
      c.serialize(),
      R"({"architecture":"amd64","config":{},"os":"linux","rootfs":{"type":"layers","diff_ids":[]}})");
}

TEST(ImageConfig, DiffIdsMayBeAbsent) {
  const std::string raw = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})";
  auto c = parse_image_config(raw);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_TRUE(c->rootfs.diff_ids.empty());
}

TEST(ImageConfigErrors, RequiredFields) {
  std::string raw = R"({"os":"linux","rootfs":{"type":"layers"}})";
  EXPECT_EQ(config_error(raw), context(raw) + R"(missing required field "architecture")");
  raw = R"({"architecture":"amd64","os":"linux"})";
  EXPECT_EQ(config_error(raw), context(raw) + R"(missing required field "rootfs")");
  raw = R"({"architecture":"amd64","os":"linux","rootfs":{}})";
  EXPECT_EQ(config_error(raw), context(raw) + R"(missing required field "rootfs.type")");
}

TEST(ImageConfigErrors, RootfsRules) {
  std::string raw = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"tarball"}})";
  EXPECT_EQ(config_error(raw),
            context(raw) +
                R"(field "rootfs.type": unsupported rootfs type "tarball" (want "layers"))");
  raw = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
        digest_of('1') + R"(","sha256:zz"]}})";
  EXPECT_EQ(config_error(raw),
            context(raw) +
                R"(field "rootfs.diff_ids[1]": invalid digest "sha256:zz": wrong length)");
}

TEST(ImageConfigErrors, WrongTypesInsideConfig) {
  auto raw = minimal_with(R"(,"config":{"Env":"PATH=/bin"})");
  EXPECT_EQ(config_error(raw), context(raw) + R"(field "config.Env": expected array, got string)");
  raw = minimal_with(R"(,"config":{"ExposedPorts":{"80/tcp":true}})");
  EXPECT_EQ(config_error(raw),
            context(raw) + R"(field "config.ExposedPorts.80/tcp": expected object, got boolean)");
  raw = minimal_with(R"(,"config":{"Healthcheck":{"Interval":"30s"}})");
  EXPECT_EQ(config_error(raw),
            context(raw) + R"(field "config.Healthcheck.Interval": expected integer, got string)");
  raw = minimal_with(R"(,"config":{"ArgsEscaped":1})");
  EXPECT_EQ(config_error(raw),
            context(raw) + R"(field "config.ArgsEscaped": expected boolean, got integer)");
  raw = minimal_with(R"(,"history":[{"empty_layer":"yes"}])");
  EXPECT_EQ(config_error(raw),
            context(raw) + R"(field "history[0].empty_layer": expected boolean, got string)");
}

TEST(ImageConfigErrors, Timestamps) {
  auto raw = minimal_with(R"(,"created":"yesterday")");
  EXPECT_EQ(config_error(raw),
            context(raw) + R"(field "created": invalid timestamp "yesterday" (want RFC 3339))");
  raw = minimal_with(R"(,"history":[{},{"created":"2024-02-30T00:00:00Z"}])");
  EXPECT_EQ(
      config_error(raw),
      context(raw) +
          R"(field "history[1].created": invalid timestamp "2024-02-30T00:00:00Z" (want RFC 3339))");
}

struct TimestampRow {
  std::string_view text;
  bool valid;
};

void PrintTo(const TimestampRow& row, std::ostream* os) { *os << row.text; }

class Rfc3339Table : public testing::TestWithParam<TimestampRow> {};

TEST_P(Rfc3339Table, Decides) {
  EXPECT_EQ(is_rfc3339(GetParam().text), GetParam().valid) << GetParam().text;
}

const TimestampRow k_timestamps[] = {
    {"2024-05-06T07:08:09Z", true},      {"2024-05-06T07:08:09.123456789Z", true},
    {"2024-05-06T07:08:09+02:00", true}, {"2024-05-06T07:08:09.5-07:30", true},
    {"0001-01-01T00:00:00Z", true},      {"2024-02-29T00:00:00Z", true},
    {"2023-02-29T00:00:00Z", false},     {"2024-05-06 07:08:09Z", false},
    {"2024-05-06T07:08:09", false},      {"2024-05-06T07:08:09.Z", false},
    {"2024-13-06T07:08:09Z", false},     {"2024-05-06T24:00:00Z", false},
    {"2024-05-06T07:08:09+0200", false}, {"24-05-06T07:08:09Z", false},
};

INSTANTIATE_TEST_SUITE_P(GoTimeRfc3339, Rfc3339Table, testing::ValuesIn(k_timestamps));

TEST(FormatTimestamp, MatchesGoTimeMarshal) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_timestamp(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_timestamp(-62135596800), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(253402300799), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_timestamp(1700000000, 500000000), "2023-11-14T22:13:20.5Z");
  EXPECT_EQ(format_timestamp(1700000000, 123456789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(format_timestamp(1700000000, 1000), "2023-11-14T22:13:20.000001Z");
}

} // namespace
} // namespace mason::image
