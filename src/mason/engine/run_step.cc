// RUN: the command line (shell form through SHELL, heredocs as BuildKit
// treats them), the user resolved in the root, the environment (the
// stage's ARG/ENV scope plus proxy build args), the --mount list turned into
// runtime mounts, and the network; then the executor runs it and its
// output streams to the step's progress vertex. A non-zero exit is an
// error with BuildKit's text and the last lines of output.
#include <deque>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/engine/steps.h"
#include "mason/frontend/dockerfile/parser.h"
#include "mason/ops/copy.h"
#include "mason/sys/file.h"
#include "mason/sys/in_root.h"
#include "mason/sys/temp_dir.h"
#include "mason/util/sha256.h"

namespace mason::engine {
namespace {

constexpr std::size_t k_tail_lines = 12;

std::string chomp(const std::string& data) {
  std::string out;
  bool line_start = true;
  for (char c : data) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out += c;
  }
  return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? std::string(sep) : "") + v[i];
  return out;
}

// Everything a running step holds until it ends: views, temp dirs, locks,
// overlay mounts for read-write binds.
struct Holders {
  std::vector<SourceView> views;
  std::vector<sys::TempDir> temps;
  std::vector<util::UniqueFd> locks;
  std::vector<std::string> mounts; // unmounted (reverse order) at the end
  ~Holders() {
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  }
};

// A private copy of a file for a read-write bind mount of a file.
util::Status copy_file(const std::string& from, const std::string& to, mode_t mode) {
  util::UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  util::UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!in || !out) return util::errno_error("copy " + from, errno);
  char buf[65536];
  for (ssize_t n; (n = ::read(in.get(), buf, sizeof buf)) > 0;)
    if (::write(out.get(), buf, static_cast<std::size_t>(n)) != n)
      return util::errno_error("copy " + from, errno);
  return {};
}

class RunBuilder {
public:
  RunBuilder(StepContext& ctx, const df::RunInstr& run) : m_ctx(ctx), m_run(run) {}

  util::Result<StepHistory> go() {
    util::UniqueFd root(::open(m_ctx.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return util::errno_error("open " + m_ctx.root, errno);
    m_spec.rootfs = m_ctx.root;
    MASON_TRY(command());
    MASON_TRY(identity(root.get()));
    environment();
    m_spec.process.cwd =
        m_ctx.config.config.working_dir.empty() ? "/" : m_ctx.config.config.working_dir;
    MASON_TRY(network());
    MASON_TRY_ASSIGN(auto places, df::place_mounts(m_run.resolved_mounts, m_spec.process.cwd));
    for (std::size_t i = 0; i < places.size(); ++i)
      MASON_TRY(mount(m_run.resolved_mounts[i], (places)[i]));
    if (m_run.security == "insecure")
      return util::make_error(util::ErrorCode::unsupported,
                              "RUN --security=insecure is not allowed (no entitlement)");
    MASON_TRY(execute());
    return StepHistory{history(), true};
  }

private:
  util::Status command() {
    std::vector<std::string> args = m_run.cmd.args;
    const auto& files = m_run.cmd.files;
    if (!files.empty()) {
      if (args.size() != 1 || !m_run.cmd.prepend_shell)
        return util::make_error(util::ErrorCode::invalid_argument,
                                "parsing produced an invalid run command");
      if (df::parse_heredoc_word(args[0])) {
        std::string data = files[0].chomp ? chomp(files[0].data) : files[0].data;
        if (data.starts_with("#!")) {
          if (auto r = heredoc_script(files[0].name, data); !r) return r;
          args = {"/dev/pipes/" + files[0].name};
        } else {
          args = {data};
        }
      } else {
        std::string b = args[0];
        for (const auto& f : files) b += "\n" + f.data + f.name;
        args = {b};
      }
    }
    if (m_run.cmd.prepend_shell) {
      auto shell = m_ctx.config.config.shell;
      if (shell.empty()) shell = {"/bin/sh", "-c"};
      shell.push_back(join(args, " "));
      args = std::move(shell);
    }
    m_args = args;
    m_spec.process.args = std::move(args);
    return {};
  }

  // A heredoc with a shebang runs as a file, mounted read-only at /dev/pipes.
  util::Status heredoc_script(const std::string& name, const std::string& data) {
    MASON_TRY_ASSIGN(auto dir, sys::TempDir::create_in(m_ctx.engine.work_dir, "pipes-"));
    const std::string path = dir.path() + "/" + name;
    util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755));
    if (!fd || ::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()))
      return util::errno_error("write heredoc " + name, errno);
    ::fchmod(fd.get(), 0755);
    m_spec.mounts.push_back({"/dev/pipes", "bind", dir.path(), {"rbind", "ro"}});
    m_holders.temps.push_back(std::move(dir));
    return {};
  }

  util::Status identity(int root_fd) {
    const auto& user = m_ctx.config.config.user;
    if (user.empty()) return {};
    auto id = ops::resolve_user(root_fd, user, true);
    if (!id) return std::unexpected(std::move(id.error()).with_context("USER " + user));
    m_spec.process.uid = id->uid;
    m_spec.process.gid = id->gid;
    m_spec.process.additional_gids = id->additional_gids;
    return {};
  }

  void environment() {
    for (const auto& [k, v] : m_ctx.env.items()) m_spec.process.env.push_back(k + "=" + v);
    for (const auto& [k, v] : m_ctx.engine.graph.proxy_env)
      if (!m_ctx.env.contains(k)) m_spec.process.env.push_back(k + "=" + v);
  }

  util::Status network() {
    if (m_run.network == "none")
      m_spec.network = executor::NetworkMode::none;
    else if (m_run.network == "host")
      m_spec.network = executor::NetworkMode::host;
    else if (m_run.network == "default")
      m_spec.network = m_ctx.engine.options.network;
    else
      return util::make_error(util::ErrorCode::invalid_argument,
                              "unsupported network mode " + m_run.network);
    return {};
  }

  // `place`: the mount's id and absolute target (df::place_mount).
  util::Status mount(const df::Mount& m, const df::MountPlacement& place) {
    switch (m.type) {
    case df::MountType::bind: return bind_mount(m, *place.target);
    case df::MountType::cache: return cache_mount(m, place);
    case df::MountType::tmpfs: {
      std::vector<std::string> opts{"nosuid", "nodev"};
      if (m.size_limit > 0) opts.push_back(fmt::format("size={}", m.size_limit));
      m_spec.mounts.push_back({*place.target, "tmpfs", "tmpfs", opts});
      return {};
    }
    case df::MountType::secret: return secret_mount(m, place);
    case df::MountType::ssh:
      return util::make_error(util::ErrorCode::unsupported,
                              "RUN --mount=type=ssh: SSH agent forwarding is not supported yet");
    }
    return {};
  }

  // The host path of `source` inside a source root, symlinks resolved
  // inside that root.
  util::Result<std::string> host_path(const SourceView& view, const std::string& source) {
    auto fd = sys::open_in_root(view.fd.get(), source.empty() ? "/" : source, O_PATH | O_CLOEXEC);
    if (!fd) return std::unexpected(fd.error());
    char buf[4096];
    const auto link = fmt::format("/proc/self/fd/{}", fd->get());
    const auto n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n < 0) return util::errno_error("readlink " + link, errno);
    return std::string(buf, static_cast<std::size_t>(n));
  }

  util::Status bind_mount(const df::Mount& m, const std::string& target) {
    MASON_TRY_ASSIGN(auto view, open_source(m_ctx.engine, m.from));
    auto path = host_path(view, m.source);
    if (!path)
      return std::unexpected(
          std::move(path.error()).with_context(fmt::format("bind mount source \"{}\"", m.source)));
    std::string source = *path;
    if (!m.read_only) {
      MASON_TRY_ASSIGN(auto rw, writable_copy(source));
      source = rw;
    }
    m_spec.mounts.push_back({target, "bind", source, {"rbind", m.read_only ? "ro" : "rw"}});
    m_holders.views.push_back(std::move(view));
    return {};
  }

  // rw bind mounts: writes go to a throw-away overlay upper (BuildKit
  // discards them too). A file source is bound read-write from a copy.
  util::Result<std::string> writable_copy(const std::string& source) {
    MASON_TRY_ASSIGN(auto dir, sys::TempDir::create_in(m_ctx.engine.work_dir, "rw-"));
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) return util::errno_error("stat " + source, errno);
    const std::string base = dir.path();
    if (!S_ISDIR(st.st_mode)) {
      const std::string copy = base + "/file";
      MASON_TRY(copy_file(source, copy, st.st_mode & 07777));
      m_holders.temps.push_back(std::move(dir));
      return copy;
    }
    for (auto d : {"/u", "/w", "/m"}) ::mkdir((base + d).c_str(), 0755);
    const auto opts = fmt::format("lowerdir={},upperdir={}/u,workdir={}/w", source, base, base);
    if (::mount("overlay", (base + "/m").c_str(), "overlay", 0, opts.c_str()) != 0)
      return util::errno_error("mount overlay for rw bind", errno);
    m_holders.mounts.push_back(base + "/m");
    m_holders.temps.push_back(std::move(dir));
    return base + "/m";
  }

  util::Status cache_mount(const df::Mount& m, const df::MountPlacement& place) {
    if (!m.from.empty())
      return util::make_error(util::ErrorCode::unsupported,
                              "RUN --mount=type=cache,from=...: seeding a cache from a stage is "
                              "not supported yet");
    const std::string& id = place.id;
    const std::string dir = m_ctx.engine.cache_dir + "/" +
                            std::string(image::Digest::sha256_of(id).hex().substr(0, 32));
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (::chown(dir.c_str(), m.uid.value_or(0), m.gid.value_or(0)) != 0 ||
          ::chmod(dir.c_str(), m.mode.value_or(0755)) != 0)
        return util::errno_error("prepare cache mount " + id, errno);
    } else if (errno != EEXIST) {
      return util::errno_error("create cache mount " + id, errno);
    }
    // <dir>.id names the mount for `mason cache ls`; its mtime is the last use.
    {
      const std::string id_file = dir + ".id";
      util::UniqueFd f(::open(id_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (f) (void)!::write(f.get(), id.data(), id.size());
    }
    std::string source = dir;
    if (m.sharing == df::CacheSharing::locked || m.sharing == df::CacheSharing::private_) {
      util::UniqueFd lock(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      const int how = m.sharing == df::CacheSharing::locked ? LOCK_EX : LOCK_EX | LOCK_NB;
      if (!lock) return util::errno_error("open cache " + id, errno);
      if (::flock(lock.get(), how) != 0) {
        // private and in use: this step gets a fresh empty cache
        MASON_TRY_ASSIGN(auto tmp, sys::TempDir::create_in(m_ctx.engine.work_dir, "cache-"));
        source = tmp.path();
        m_holders.temps.push_back(std::move(tmp));
      } else {
        m_holders.locks.push_back(std::move(lock));
      }
    }
    m_spec.mounts.push_back({*place.target, "bind", source, {"rbind", m.read_only ? "ro" : "rw"}});
    return {};
  }

  const SecretSource* find_secret(const std::string& id) const {
    for (const auto& s : m_ctx.engine.options.secrets)
      if (s.id == id) return &s;
    return nullptr;
  }

  util::Result<std::optional<std::string>> secret_value(const std::string& id) const {
    const auto* s = find_secret(id);
    if (!s) return std::optional<std::string>{};
    if (!s->env.empty()) return s->env_value;
    auto data = sys::read_file(s->file);
    if (!data) return std::unexpected(std::move(data.error()).with_context("secret " + id));
    return std::optional<std::string>(std::move(*data));
  }

  util::Status secret_mount(const df::Mount& m, const df::MountPlacement& place) {
    const std::string& id = place.id;
    MASON_TRY_ASSIGN(auto value, secret_value(id));
    if (!value) {
      if (m.required)
        return util::make_error(
            util::ErrorCode::not_found,
            fmt::format("secret {} not found (give it with --secret id={},src=FILE)", id, id));
      return {};
    }
    if (m.env) m_spec.process.env.push_back(*m.env + "=" + *value);
    if (!place.target) return {};
    MASON_TRY_ASSIGN(auto dir, sys::TempDir::create_in(m_ctx.engine.work_dir, "secret-"));
    const std::string path = dir.path() + "/secret";
    util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd ||
        ::write(fd.get(), value->data(), value->size()) != static_cast<ssize_t>(value->size()))
      return util::errno_error("write secret " + id, errno);
    if (::fchown(fd.get(), m.uid.value_or(0), m.gid.value_or(0)) != 0 ||
        ::fchmod(fd.get(), m.mode.value_or(0400)) != 0)
      return util::errno_error("secret " + id, errno);
    m_spec.mounts.push_back({*place.target, "bind", path, {"rbind", "ro"}});
    m_holders.temps.push_back(std::move(dir));
    return {};
  }

  util::Status execute() {
    std::mutex mu;
    std::deque<std::string> tail;
    std::string partial;
    auto sink = [&](executor::OutputStream s, std::string_view chunk) {
      m_ctx.vertex.log(s == executor::OutputStream::out ? 1 : 2, chunk);
      std::lock_guard lock(mu);
      partial.append(chunk);
      for (std::size_t nl; (nl = partial.find('\n')) != std::string::npos;) {
        tail.push_back(partial.substr(0, nl));
        partial.erase(0, nl + 1);
        if (tail.size() > k_tail_lines) tail.pop_front();
      }
    };
    MASON_TRY_ASSIGN(auto result, m_ctx.engine.executor.run(m_spec, sink));
    if (result.exit_code == 0) return {};
    if (!partial.empty()) tail.push_back(partial);
    std::string msg = fmt::format("process \"{}\" did not complete successfully: exit code: {}",
                                  join(m_args, " "), result.exit_code);
    if (!tail.empty()) {
      msg += "\n  last output:";
      for (const auto& l : tail) msg += "\n    " + l;
    }
    return util::make_error(util::ErrorCode::exec_failed, msg);
  }

  // BuildKit's runCommandString: "|N K=V ... args".
  std::string history() const {
    std::vector<std::pair<std::string, std::string>> args;
    for (const auto& def : m_ctx.build_args) {
      const auto v = m_ctx.env.get(def.key);
      std::string value = v ? std::string(*v) : def.value.value_or("");
      auto it = std::find_if(args.begin(), args.end(), [&](auto& p) { return p.first == def.key; });
      if (it != args.end())
        it->second = value;
      else
        args.emplace_back(def.key, value);
    }
    std::vector<std::string> parts;
    if (!args.empty()) parts.push_back(fmt::format("|{}", args.size()));
    for (const auto& [k, v] : args) parts.push_back(k + "=" + v);
    parts.insert(parts.end(), m_args.begin(), m_args.end());
    return "RUN " + join(parts, " ") + " # buildkit";
  }

  StepContext& m_ctx;
  const df::RunInstr& m_run;
  executor::RunSpec m_spec;
  std::vector<std::string> m_args;
  Holders m_holders;
};

} // namespace

util::Result<StepHistory> run_step(StepContext& ctx, const df::RunInstr& run) {
  return RunBuilder(ctx, run).go();
}

} // namespace mason::engine
