// config.json rendering, /etc files and the runtime log (no root needed).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mason/executor/executor.h"
#include "mason/executor/internal.h"

using namespace mason::executor;
using nlohmann::json;

namespace {

RunSpec sample_spec() {
  RunSpec spec;
  spec.rootfs = "/var/lib/mason/root";
  spec.process.args = {"/bin/sh", "-c", "echo hi"};
  spec.process.env = {"PATH=/usr/bin:/bin", "FOO=bar"};
  spec.process.cwd = "/work";
  spec.process.uid = 1000;
  spec.process.gid = 1001;
  spec.process.additional_gids = {10, 20};
  spec.hostname = "box";
  spec.mounts = {{"/cache", "bind", "/host/cache", {"rbind", "rw"}},
                 {"/tmp", "tmpfs", "tmpfs", {"nosuid", "size=1m"}}};
  return spec;
}

json render(const RunSpec& spec) {
  return json::parse(render_config(spec, "/state/b/hosts", "/state/b/resolv.conf"));
}

std::vector<std::string> namespace_types(const json& doc) {
  std::vector<std::string> types;
  for (const auto& ns : doc["linux"]["namespaces"]) types.push_back(ns["type"]);
  return types;
}

std::vector<std::string> destinations(const json& doc) {
  std::vector<std::string> out;
  for (const auto& m : doc["mounts"]) out.push_back(m["destination"]);
  return out;
}

} // namespace

TEST(RenderConfig, ProcessAndRoot) {
  const json doc = render(sample_spec());
  EXPECT_EQ(doc["ociVersion"], "1.0.2");
  const auto& p = doc["process"];
  EXPECT_EQ(p["terminal"], false);
  EXPECT_EQ(p["args"], json({"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(p["env"], json({"PATH=/usr/bin:/bin", "FOO=bar"}));
  EXPECT_EQ(p["cwd"], "/work");
  EXPECT_EQ(p["user"], json({{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}}));
  EXPECT_EQ(p["noNewPrivileges"], false);
  EXPECT_FALSE(p.contains("rlimits"));
  EXPECT_EQ(doc["root"], json({{"path", "/var/lib/mason/root"}, {"readonly", false}}));
  EXPECT_EQ(doc["hostname"], "box");
}

TEST(RenderConfig, NoAdditionalGidsNoField) {
  RunSpec spec = sample_spec();
  spec.process.additional_gids.clear();
  spec.process.cwd = "";
  const json doc = render(spec);
  EXPECT_EQ(doc["process"]["user"], json({{"uid", 1000}, {"gid", 1001}}));
  EXPECT_EQ(doc["process"]["cwd"], "/");
}

TEST(RenderConfig, DockerDefaultCapabilities) {
  const json doc = render(sample_spec());
  const json expected = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  const auto& caps = doc["process"]["capabilities"];
  EXPECT_EQ(caps["bounding"], expected);
  EXPECT_EQ(caps["effective"], expected);
  EXPECT_EQ(caps["permitted"], expected);
  EXPECT_FALSE(caps.contains("ambient"));
}

TEST(RenderConfig, NamespacesPerNetworkMode) {
  RunSpec spec = sample_spec();
  spec.network = NetworkMode::host;
  EXPECT_EQ(namespace_types(render(spec)),
            (std::vector<std::string>{"pid", "ipc", "uts", "mount"}));
  spec.network = NetworkMode::none;
  EXPECT_EQ(namespace_types(render(spec)),
            (std::vector<std::string>{"pid", "ipc", "uts", "mount", "network"}));
}

TEST(RenderConfig, MountsInOrder) {
  const json doc = render(sample_spec());
  EXPECT_EQ(destinations(doc),
            (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                      "/sys", "/etc/hosts", "/etc/resolv.conf", "/cache", "/tmp"}));
  const auto& mounts = doc["mounts"];
  EXPECT_EQ(mounts[0], json({{"destination", "/proc"},
                             {"type", "proc"},
                             {"source", "proc"},
                             {"options", {"nosuid", "noexec", "nodev"}}}));
  EXPECT_EQ(mounts[5]["options"], json({"nosuid", "noexec", "nodev", "ro"}));
  EXPECT_EQ(mounts[6]["source"], "/state/b/hosts");
  EXPECT_EQ(mounts[6]["type"], "bind");
  EXPECT_EQ(mounts[6]["options"], json({"nosuid", "noexec", "nodev", "rbind", "ro"}));
  EXPECT_EQ(mounts[7]["source"], "/state/b/resolv.conf");
  EXPECT_EQ(mounts[8], json({{"destination", "/cache"},
                             {"type", "bind"},
                             {"source", "/host/cache"},
                             {"options", {"rbind", "rw"}}}));
}

TEST(RenderConfig, SameDestinationReplacesInPlace) {
  RunSpec spec = sample_spec();
  spec.mounts = {{"/etc/hosts", "bind", "/mine", {"rbind", "ro"}},
                 {"/a", "tmpfs", "tmpfs", {}},
                 {"/a", "tmpfs", "tmpfs", {"size=2m"}}};
  const json doc = render(spec);
  EXPECT_EQ(destinations(doc),
            (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                      "/sys", "/etc/hosts", "/etc/resolv.conf", "/a"}));
  EXPECT_EQ(doc["mounts"][6]["source"], "/mine");
  EXPECT_EQ(doc["mounts"][8]["options"], json({"size=2m"}));
}

TEST(RenderConfig, MaskedAndReadonlyPaths) {
  const json doc = render(sample_spec());
  const auto& linux_part = doc["linux"];
  EXPECT_EQ(
      linux_part["maskedPaths"],
      json({"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
            "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}));
  EXPECT_EQ(linux_part["readonlyPaths"],
            json({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
  EXPECT_EQ(linux_part["resources"]["devices"], json::parse(R"([{"allow":false,"access":"rwm"}])"));
  EXPECT_FALSE(linux_part.contains("cgroupsPath"));
}

TEST(RenderConfig, InvalidUtf8IsReplacedNotFatal) {
  RunSpec spec = sample_spec();
  spec.process.env = {"X=\xff"};
  const json doc = render(spec);
  EXPECT_EQ(doc["process"]["env"][0], "X=\xEF\xBF\xBD");
}

TEST(RenderConfig, EmptyHostnameOmitted) {
  RunSpec spec = sample_spec();
  spec.hostname.clear();
  EXPECT_FALSE(render(spec).contains("hostname"));
}

TEST(EtcFiles, DefaultHosts) {
  EXPECT_EQ(default_hosts("box"),
            "127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  EXPECT_EQ(default_hosts(""), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
}

TEST(EtcFiles, ResolvConfHostKeepsNameservers) {
  const std::string host = "# generated\n"
                           "nameserver 127.0.0.53\n"
                           "nameserver 10.0.0.2\n"
                           "domain old.example\n"
                           "search a.example b.example\n"
                           "options ndots:2\n"
                           "\n"
                           "options edns0\n"
                           "sortlist 130.155.160.0\n";
  EXPECT_EQ(container_resolv_conf(host, NetworkMode::host),
            "nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch a.example b.example\n"
            "options ndots:2 edns0\nsortlist 130.155.160.0\n");
}

TEST(EtcFiles, ResolvConfNoneDropsLoopback) {
  const std::string host = "nameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.2\n"
                           "nameserver 2001:db8:0:0::1\nnameserver bogus\n";
  EXPECT_EQ(container_resolv_conf(host, NetworkMode::none),
            "nameserver 10.0.0.2\nnameserver 2001:db8::1\n");
}

TEST(EtcFiles, ResolvConfDefaultsWhenNothingLeft) {
  const std::string defaults = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
                               "nameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n";
  EXPECT_EQ(container_resolv_conf("nameserver 127.0.0.1\n", NetworkMode::none), defaults);
  EXPECT_EQ(container_resolv_conf("", NetworkMode::host), defaults);
  EXPECT_EQ(container_resolv_conf("search x.example\n", NetworkMode::host),
            defaults + "search x.example\n");
}

TEST(RuntimeLog, LastErrorWins) {
  const std::string log =
      R"({"level":"warning","msg":"cgroup thing","time":"t"})"
      "\n"
      "not json\n"
      R"({"level":"error","msg":"first","time":"t"})"
      "\n"
      R"({"level":"error","msg":"runc run failed: exec: \"foo\": executable file not found in $PATH"})"
      "\n";
  EXPECT_EQ(runtime_error_from_log(log),
            "runc run failed: exec: \"foo\": executable file not found in $PATH");
  EXPECT_EQ(runtime_error_from_log(R"({"level":"warning","msg":"w"})"), "");
  EXPECT_EQ(runtime_error_from_log(R"({"level":"error","msg":7})"), "");
  EXPECT_EQ(runtime_error_from_log(""), "");
}
