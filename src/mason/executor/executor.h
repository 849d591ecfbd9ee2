// RUN's sandbox: an OCI runtime bundle (config.json rendered from a
// RunSpec) executed by runc (or crun). The executor never sees images, the
// cache or the store: it gets a root filesystem directory that is already
// assembled (mounted) and the mounts to add, runs one process to its end
// and reports the exit code.
//
// The container: mount, pid, ipc and uts namespaces (+ a fresh network
// namespace for NetworkMode::none, the host's otherwise); docker's default
// capability set; /proc, /sys (read-only), a minimal /dev (null, zero,
// full, random, urandom, tty, ptmx, pts, shm, mqueue), docker's masked and
// read-only paths; no cgroup requirement (runc runs without cgroup limits
// here); hostname `RunSpec::hostname`; /etc/hosts and /etc/resolv.conf
// bind-mounted from files outside the root.
//
// Mount stubs: a mount whose destination does not exist in the root makes
// the runtime create an empty file or directory there. Those stubs are
// removed after the run (only if still empty), so nothing the sandbox
// needed (e.g. /etc/hosts on a scratch image) is captured into a layer.
//
// Thread-safety: one Executor may run several containers at once from
// different threads (each run gets its own bundle directory and id), on
// different root filesystems: two runs sharing one root would see each
// other's mount stubs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/util/error.h"

namespace mason::executor {

enum class NetworkMode { host, none };

// One extra mount, in OCI runtime-spec terms. For bind mounts `source` is a
// host path; options as the runtime spec takes them ("rbind", "ro", ...).
struct MountSpec {
  std::string destination; // absolute path inside the container
  std::string type;        // "bind", "tmpfs", ...
  std::string source;
  std::vector<std::string> options;
};

struct ProcessSpec {
  std::vector<std::string> args; // argv; args[0] is looked up in PATH from `env` by the runtime
  std::vector<std::string> env;  // "K=V"
  std::string cwd = "/";         // created if missing (0755, owned by uid:gid), as BuildKit does
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additional_gids;
};

struct RunSpec {
  std::string rootfs; // host path of the assembled root (read-write)
  ProcessSpec process;
  std::vector<MountSpec> mounts; // after the default ones, in order
  NetworkMode network = NetworkMode::host;
  std::string hostname = "mason";
  // Contents for /etc/hosts and /etc/resolv.conf; nullopt: generated as
  // BuildKit does (hosts: localhost lines + hostname; resolv.conf: the
  // host's, normalised; for NetworkMode::none or a host file without
  // nameservers, loopback nameservers dropped and Google's public ones
  // used if none is left). Written outside the root, never into it.
  std::optional<std::string> hosts;
  std::optional<std::string> resolv_conf;
  bool stdin_null = true; // stdin is /dev/null (a build); false: inherit (mason run)
};

enum class OutputStream { out, err };
// Receives the process's output as it comes (chunks, not lines). Called
// on the thread that called Executor::run; must not block for long (the
// process stalls while its pipe is full).
using OutputSink = std::function<void(OutputStream, std::string_view)>;

struct RunResult {
  int exit_code = 0; // 128+N when killed by signal N
};

class Executor {
public:
  virtual ~Executor() = default;
  // Runs the process to its end. A non-zero exit is a RunResult, not an
  // error; errors are failures to start (exec_failed with the runtime's
  // message, e.g. "exec: \"foo\": executable file not found in $PATH";
  // runc also prints that message on the err stream it shares with the
  // process). A runtime killed mid-run gives 128+N like the process would;
  // the container is then deleted. Errors also: not_found for a missing
  // rootfs, invalid_argument for a cwd that exists but is not a directory.
  virtual util::Result<RunResult> run(const RunSpec& spec, const OutputSink& output) = 0;
};

struct RuntimeOptions {
  std::string runtime = "runc"; // "runc" or "crun" (or a path)
  std::string state_dir;        // bundles and runtime state (required)
  // Where a runtime named without a "/" is looked for (the caller's $PATH),
  // before the system directories.
  std::string search_path{};
};

// An executor driving an OCI runtime binary. Errors: not_found when the
// runtime binary is missing.
util::Result<std::unique_ptr<Executor>> make_runtime_executor(const RuntimeOptions& options);

// The config.json for `spec` (exposed for tests): the OCI runtime-spec
// document with `root.path` = spec.rootfs and the given bind sources for
// /etc/hosts and /etc/resolv.conf.
std::string render_config(const RunSpec& spec, const std::string& hosts_path,
                          const std::string& resolv_path);

} // namespace mason::executor
