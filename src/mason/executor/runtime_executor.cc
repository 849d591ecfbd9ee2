// The Executor driving an OCI runtime binary (runc, crun).
//
// One run: open the root, create the working directory, make a bundle
// directory (config.json, hosts, resolv.conf) under the state directory,
// record the mount stubs, `<runtime> --root <state>/runc --log
// <bundle>/log.json --log-format json run --bundle <bundle> <id>` in the
// foreground with its output streamed, then clean up whatever happened:
// `delete --force` if the runtime left state behind, remove the stubs,
// remove the bundle. A non-zero exit with an error in the runtime's log is
// a failure to start (exec_failed); otherwise it is the process's status.
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/executor/child.h"
#include "mason/executor/executor.h"
#include "mason/executor/internal.h"
#include "mason/executor/root_prep.h"
#include "mason/sys/errors.h"
#include "mason/sys/temp_dir.h"
#include "mason/sys/unique_fd.h"
#include "mason/util/strings.h"

namespace mason::executor {

namespace {

using sys::UniqueFd;

constexpr const char* k_host_resolv_conf = "/etc/resolv.conf";
constexpr const char* k_default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// `name` as given if it has a "/", else the first match in $PATH and then
// in the usual system directories (runc lives in /usr/sbin).
util::Result<std::string> find_runtime(const std::string& name, const std::string& search_path) {
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return absolute_path(name);
  } else {
    const std::string search = search_path + ":" + k_default_path;
    for (const auto dir : util::split(search, ':')) {
      const std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + name;
      if (is_executable_file(candidate)) return absolute_path(candidate);
    }
  }
  return util::make_error(util::ErrorCode::not_found,
                          "OCI runtime " + sys::quote(name) + " not found (looked in $PATH)");
}

// mkdir -p for a directory of our own (not inside an image root).
util::Status make_dirs(const std::string& path, mode_t mode) {
  for (std::size_t end = 1; end != std::string::npos;) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
      return sys::errno_error("mkdir " + sys::quote(prefix), errno);
  }
  return {};
}

util::Status write_file_at(int dir_fd, const char* name, std::string_view data) {
  UniqueFd fd(::openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys::errno_error(std::string("create ") + name, errno);
  static_cast<void>(::fchmod(fd.get(), 0644)); // whatever the umask
  while (!data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error(std::string("write ") + name, errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return fd.close();
}

// The whole file; a missing file reads as empty.
util::Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::string();
    return sys::errno_error("open " + sys::quote(path), errno);
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("read " + sys::quote(path), errno);
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

util::Result<std::string> resolv_conf_for(const RunSpec& spec) {
  if (spec.resolv_conf) return *spec.resolv_conf;
  MASON_TRY_ASSIGN(auto host, read_file(k_host_resolv_conf));
  return container_resolv_conf(host, spec.network);
}

std::vector<std::string> destinations_of(const std::vector<MountSpec>& mounts) {
  std::vector<std::string> out;
  out.reserve(mounts.size());
  for (const auto& m : mounts) out.push_back(m.destination);
  return out;
}

// One run's bundle directory (removed with everything in it when the run
// ends) and the container id derived from its unique name.
struct Bundle {
  sys::TempDir dir;
  std::string id;
  std::string file(const char* name) const { return dir.path() + "/" + name; }
};

class RuntimeExecutor final : public Executor {
public:
  RuntimeExecutor(std::string runtime, const std::string& state_dir)
      : m_runtime(std::move(runtime)), m_runtime_root(state_dir + "/runc"),
        m_bundles(state_dir + "/bundles") {}

  util::Result<RunResult> run(const RunSpec& spec, const OutputSink& output) override;

private:
  util::Result<Bundle> make_bundle() const;
  util::Result<std::vector<std::string>> write_bundle(const RunSpec& spec,
                                                      const Bundle& bundle) const;
  util::Result<RunResult> start(const RunSpec& spec, const Bundle& bundle,
                                const OutputSink& output) const;
  void delete_leftover(const std::string& id) const;
  std::string log_argument(const std::string& path) const;

  std::string m_runtime;      // absolute path
  std::string m_runtime_root; // --root of the runtime
  std::string m_bundles;
};

util::Result<Bundle> RuntimeExecutor::make_bundle() const {
  auto dir = sys::TempDir::create_in(m_bundles, "b-");
  if (!dir) return std::unexpected(std::move(dir.error().with_context("create bundle directory")));
  const std::string name = dir->path().substr(dir->path().rfind('/') + 1);
  return Bundle{std::move(*dir), "mason-" + name.substr(2)};
}

// Writes hosts, resolv.conf and config.json; returns the mount destinations.
util::Result<std::vector<std::string>> RuntimeExecutor::write_bundle(const RunSpec& spec,
                                                                     const Bundle& bundle) const {
  auto resolv = resolv_conf_for(spec);
  if (!resolv) return std::unexpected(std::move(resolv.error()));
  const std::string hosts = spec.hosts.value_or(default_hosts(spec.hostname));
  const std::string hosts_path = bundle.file("hosts");
  const std::string resolv_path = bundle.file("resolv.conf");
  const std::string config = render_config(spec, hosts_path, resolv_path);
  for (const auto& [name, data] : {std::pair{"hosts", std::string_view(hosts)},
                                   std::pair{"resolv.conf", std::string_view(*resolv)},
                                   std::pair{"config.json", std::string_view(config)}}) {
    if (auto st = write_file_at(bundle.dir.fd(), name, data); !st)
      return std::unexpected(
          std::move(st.error().with_context("write bundle " + bundle.dir.path())));
  }
  return destinations_of(container_mounts(spec, hosts_path, resolv_path));
}

util::Result<RunResult> RuntimeExecutor::start(const RunSpec& spec, const Bundle& bundle,
                                               const OutputSink& output) const {
  const std::vector<std::string> argv = {
      m_runtime,      "--root", m_runtime_root, "--log",    log_argument(bundle.file("log.json")),
      "--log-format", "json",   "run",          "--bundle", bundle.dir.path(),
      bundle.id};
  const auto in = spec.stdin_null ? ChildStdin::null : ChildStdin::inherit;
  MASON_TRY_ASSIGN(auto code, run_streamed(argv, in, output));
  if (code != 0) {
    auto log = read_file(bundle.file("log.json"));
    const std::string failure = log ? runtime_error_from_log(*log) : std::string();
    if (!failure.empty()) return util::make_error(util::ErrorCode::exec_failed, failure);
  }
  return RunResult{code};
}

// crun reads `--log` as "<type>:<target>" when it has a colon; runc takes
// a plain path.
std::string RuntimeExecutor::log_argument(const std::string& path) const {
  const std::string base = m_runtime.substr(m_runtime.rfind('/') + 1);
  return base.starts_with("crun") ? "file:" + path : path;
}

// A runtime that died (or was killed) mid-run leaves its state directory;
// `delete --force` kills what is left of the container and removes it.
void RuntimeExecutor::delete_leftover(const std::string& id) const {
  struct stat st {};
  if (::lstat((m_runtime_root + "/" + id).c_str(), &st) != 0) return;
  static_cast<void>(run_quiet({m_runtime, "--root", m_runtime_root, "delete", "--force", id}));
}

util::Result<RunResult> RuntimeExecutor::run(const RunSpec& original, const OutputSink& output) {
  RunSpec spec = original;
  spec.rootfs = absolute_path(original.rootfs);
  const std::string what =
      "run " + sys::quote(spec.process.args.empty() ? "" : spec.process.args[0]);
  UniqueFd root(::open(spec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys::errno_error("open root filesystem " + sys::quote(spec.rootfs), errno);
  const auto& process = spec.process;
  if (auto st = make_workdir(root.get(), process.cwd, process.uid, process.gid); !st)
    return std::unexpected(std::move(st.error().with_context(what)));
  auto bundle = make_bundle();
  if (!bundle) return std::unexpected(std::move(bundle.error().with_context(what)));
  auto destinations = write_bundle(spec, *bundle);
  if (!destinations) return std::unexpected(std::move(destinations.error().with_context(what)));
  const auto stubs = MountStubs::record(root.get(), *destinations);
  auto result = start(spec, *bundle, output);
  delete_leftover(bundle->id);
  stubs.remove(root.get());
  if (!result) return std::unexpected(std::move(result.error().with_context(what)));
  return result;
}

} // namespace

util::Result<std::unique_ptr<Executor>> make_runtime_executor(const RuntimeOptions& options) {
  MASON_TRY_ASSIGN(auto runtime, find_runtime(options.runtime, options.search_path));
  if (options.state_dir.empty())
    return util::make_error(util::ErrorCode::invalid_argument, "no runtime state directory given");
  const std::string state_dir = absolute_path(options.state_dir);
  for (const char* sub : {"", "/runc", "/bundles"}) MASON_TRY(make_dirs(state_dir + sub, 0700));
  return std::make_unique<RuntimeExecutor>(std::move(runtime), state_dir);
}

} // namespace mason::executor
