// config.json rendering: the OCI runtime-spec document for one RunSpec.
//
// The document is containerd's default Unix spec as BuildKit adjusts it
// for RUN: docker's default capabilities, masked and read-only paths and
// device rule; no /run tmpfs; no new-privileges restriction; no rlimits
// (inherited); no cgroup path or resource limits. Then BuildKit's
// read-only binds of /etc/hosts and /etc/resolv.conf, then the RunSpec's
// mounts, deduplicated by destination. Strings that are not valid UTF-8
// are written with U+FFFD in their place, as Go's encoding/json does.
#include <array>
#include <nlohmann/json.hpp>

#include "mason/executor/executor.h"
#include "mason/executor/internal.h"

namespace mason::executor {

namespace {

using nlohmann::json;

constexpr std::string_view k_oci_version = "1.0.2";

// Docker's default capability set (moby oci/caps/defaults.go).
constexpr std::array<std::string_view, 14> k_capabilities = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

// Docker's defaults (moby oci/defaults.go).
constexpr std::array<std::string_view, 12> k_masked_paths = {
    "/proc/asound",      "/proc/acpi",          "/proc/interrupts", "/proc/kcore",
    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi",          "/sys/firmware",    "/sys/devices/virtual/powercap",
};
constexpr std::array<std::string_view, 5> k_readonly_paths = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

// containerd's default mounts without /run (BuildKit removes it, moby/buildkit#429).
std::vector<MountSpec> default_mounts() {
  return {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
  };
}

MountSpec read_only_bind(const std::string& source, const char* destination) {
  return {destination, "bind", source, {"nosuid", "noexec", "nodev", "rbind", "ro"}};
}

// Appends `mount`, or replaces an earlier mount with the same destination.
void add_mount(std::vector<MountSpec>& mounts, const MountSpec& mount) {
  for (auto& existing : mounts) {
    if (existing.destination == mount.destination) {
      existing = mount;
      return;
    }
  }
  mounts.push_back(mount);
}

template <std::size_t N>
json string_array(const std::array<std::string_view, N>& items) {
  json out = json::array();
  for (const auto item : items) out.push_back(item);
  return out;
}

std::string absolute_cwd(const std::string& cwd) {
  if (cwd.empty()) return "/";
  return cwd.front() == '/' ? cwd : "/" + cwd;
}

json user_json(const ProcessSpec& process) {
  json user = {{"uid", process.uid}, {"gid", process.gid}};
  if (!process.additional_gids.empty()) user["additionalGids"] = process.additional_gids;
  return user;
}

json process_json(const ProcessSpec& process) {
  const json caps = string_array(k_capabilities);
  return {
      {"terminal", false},
      {"user", user_json(process)},
      {"args", process.args},
      {"env", process.env},
      {"cwd", absolute_cwd(process.cwd)},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"noNewPrivileges", false},
  };
}

json namespaces_json(NetworkMode network) {
  json namespaces = json::array();
  for (const char* type : {"pid", "ipc", "uts", "mount"}) namespaces.push_back({{"type", type}});
  // Host networking: no entry, the container stays in the caller's namespace.
  if (network == NetworkMode::none) namespaces.push_back({{"type", "network"}});
  return namespaces;
}

json linux_json(NetworkMode network) {
  return {
      // Docker's device rule: no device node may be opened unless the
      // runtime's defaults (null, zero, full, random, urandom, tty, pts)
      // allow it; a mknod'ed disk stays unusable.
      {"resources", {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}}},
      {"namespaces", namespaces_json(network)},
      {"maskedPaths", string_array(k_masked_paths)},
      {"readonlyPaths", string_array(k_readonly_paths)},
  };
}

json mounts_json(const std::vector<MountSpec>& mounts) {
  json out = json::array();
  for (const auto& m : mounts) {
    out.push_back({{"destination", m.destination},
                   {"type", m.type},
                   {"source", m.source},
                   {"options", m.options}});
  }
  return out;
}

} // namespace

std::vector<MountSpec> container_mounts(const RunSpec& spec, const std::string& hosts_path,
                                        const std::string& resolv_path) {
  std::vector<MountSpec> mounts = default_mounts();
  add_mount(mounts, read_only_bind(hosts_path, "/etc/hosts"));
  add_mount(mounts, read_only_bind(resolv_path, "/etc/resolv.conf"));
  for (const auto& m : spec.mounts) add_mount(mounts, m);
  return mounts;
}

std::string render_config(const RunSpec& spec, const std::string& hosts_path,
                          const std::string& resolv_path) {
  json doc = {
      {"ociVersion", k_oci_version},
      {"process", process_json(spec.process)},
      {"root", {{"path", spec.rootfs}, {"readonly", false}}},
      {"mounts", mounts_json(container_mounts(spec, hosts_path, resolv_path))},
      {"linux", linux_json(spec.network)},
  };
  if (!spec.hostname.empty()) doc["hostname"] = spec.hostname;
  return doc.dump(2, ' ', false, json::error_handler_t::replace);
}

} // namespace mason::executor
