// Each instruction kind maps to one small mutation of the config plus the
// history text the reference writes for it (`ENV A=1`, `CMD ["sh"]`,
// `EXPOSE map[80/tcp:{}]`, ...).
#include "mason/engine/config_ops.h"

#include <algorithm>
#include <charconv>
#include <type_traits>

#include "mason/frontend/dockerfile/ast.h"
#include "mason/frontend/dockerfile/describe.h"
#include "mason/util/path.h"

namespace mason::engine {

namespace df = frontend::dockerfile;

namespace {

util::Error invalid(std::string message) {
  return {util::ErrorCode::invalid_argument, std::move(message)};
}

// Go's %q of a []string: ["a" "b"].
std::string go_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + df::go_quote(v[i]);
  return out + "]";
}

// Go's %v of a []string: [a b].
std::string go_plain_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
  return out + "]";
}

// Go's time.Duration.String(): "0s", "1.5s", "1m30s", "2h0m0s", "500ms".
std::string go_duration(std::int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  auto u = static_cast<std::uint64_t>(ns < 0 ? -ns : ns);
  auto frac = [](std::uint64_t v, std::uint64_t unit) {
    std::string f = std::to_string(v % unit);
    f = std::string(std::to_string(unit).size() - 1 - f.size(), '0') + f;
    while (!f.empty() && f.back() == '0') f.pop_back();
    return std::to_string(v / unit) + (f.empty() ? "" : "." + f);
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000) + "\u00b5s";
  if (u < 1000000000) return sign + frac(u, 1000000) + "ms";
  const auto h = u / 3600000000000ULL;
  const auto m = (u / 60000000000ULL) % 60;
  const auto rest = u % 60000000000ULL;
  std::string out = sign;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  return out + frac(rest, 1000000000) + "s";
}

std::vector<std::string> with_shell(const image::ImageConfig& config, const df::CommandLine& cl) {
  if (!cl.prepend_shell) return cl.args;
  std::vector<std::string> out = config.config.shell;
  if (out.empty()) out = {"/bin/sh", "-c"};
  std::string joined;
  for (std::size_t i = 0; i < cl.args.size(); ++i) joined += (i ? " " : "") + cl.args[i];
  out.push_back(joined);
  return out;
}

void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  const auto entry = key + "=" + value;
  for (auto& e : env) {
    if (e.compare(0, key.size() + 1, key + "=") == 0) {
      e = entry;
      return;
    }
  }
  env.push_back(entry);
}

std::optional<unsigned> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > 65535) return std::nullopt;
  return v;
}

std::string history_for(const image::ImageConfig& c, const df::Instruction& instr) {
  return std::visit(
      [&](const auto& k) -> std::string {
        using T = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<T, df::CmdInstr>)
          return "CMD " + go_list(c.config.cmd);
        else if constexpr (std::is_same_v<T, df::EntrypointInstr>)
          return "ENTRYPOINT " + go_list(c.config.entrypoint);
        else if constexpr (std::is_same_v<T, df::VolumeInstr>)
          return "VOLUME " + go_plain_list(k.volumes);
        else if constexpr (std::is_same_v<T, df::ShellInstr>)
          return "SHELL " + go_plain_list(k.shell);
        else if constexpr (std::is_same_v<T, df::WorkdirInstr>)
          return "WORKDIR " + c.config.working_dir;
        else if constexpr (std::is_same_v<T, df::ExposeInstr>) {
          auto ports = normalize_ports(k.ports);
          return "EXPOSE " + go_plain_list(ports ? *ports : k.ports);
        } else if constexpr (std::is_same_v<T, df::HealthcheckInstr>) {
          return "HEALTHCHECK {Test:" + go_plain_list(k.test) +
                 " Interval:" + go_duration(k.interval_ns) +
                 " Timeout:" + go_duration(k.timeout_ns) +
                 " StartPeriod:" + go_duration(k.start_period_ns) +
                 " StartInterval:" + go_duration(k.start_interval_ns) +
                 " Retries:" + std::to_string(k.retries) + "}";
        } else
          return df::describe(instr);
      },
      instr.kind);
}

} // namespace

std::string resolve_workdir(const std::string& cwd, const std::string& dir) {
  // BuildKit's NormalizeWorkdir: an absolute path is kept as written (the
  // directory made for it is cleaned); a relative one is joined and cleaned.
  if (!dir.empty() && dir.front() == '/') return dir;
  return util::path_clean_rooted((cwd.empty() ? "/" : cwd) + "/" + dir);
}

util::Result<std::vector<std::string>> normalize_ports(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) {
    auto slash = w.find('/');
    std::string proto = slash == std::string::npos ? "tcp" : w.substr(slash + 1);
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const auto ports = w.substr(0, slash);
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return std::unexpected(invalid("invalid proto: " + proto));
    const auto dash = ports.find('-');
    auto lo = parse_port(std::string_view(ports).substr(0, dash));
    auto hi = dash == std::string::npos ? lo : parse_port(std::string_view(ports).substr(dash + 1));
    if (!lo || !hi || *hi < *lo) return std::unexpected(invalid("invalid containerPort: " + ports));
    for (unsigned p = *lo; p <= *hi; ++p) out.push_back(std::to_string(p) + "/" + proto);
  }
  return out; // in the order written, duplicates kept (BuildKit's parsePorts)
}

util::Status apply_to_config(image::ImageConfig& config, StageConfigState& state,
                             const df::Instruction& instr, bool history) {
  auto& cc = config.config;
  util::Status status = std::visit(
      [&](const auto& k) -> util::Status {
        using T = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<T, df::EnvInstr>) {
          for (const auto& kv : k.vars) set_env(cc.env, kv.key, kv.value);
        } else if constexpr (std::is_same_v<T, df::LabelInstr>) {
          for (const auto& kv : k.labels) cc.labels[kv.key] = kv.value;
        } else if constexpr (std::is_same_v<T, df::CmdInstr>) {
          cc.cmd = with_shell(config, k.cmd);
          cc.args_escaped = true;
          state.cmd_set = true;
        } else if constexpr (std::is_same_v<T, df::EntrypointInstr>) {
          cc.entrypoint = with_shell(config, k.cmd);
          if (!state.cmd_set) cc.cmd.clear();
        } else if constexpr (std::is_same_v<T, df::WorkdirInstr>) {
          cc.working_dir = resolve_workdir(cc.working_dir, k.path);
        } else if constexpr (std::is_same_v<T, df::UserInstr>) {
          cc.user = k.user;
        } else if constexpr (std::is_same_v<T, df::ExposeInstr>) {
          MASON_TRY_ASSIGN(auto ports, normalize_ports(k.ports));
          cc.exposed_ports.insert(ports.begin(), ports.end());
        } else if constexpr (std::is_same_v<T, df::VolumeInstr>) {
          cc.volumes.insert(k.volumes.begin(), k.volumes.end());
        } else if constexpr (std::is_same_v<T, df::StopSignalInstr>) {
          cc.stop_signal = k.signal;
        } else if constexpr (std::is_same_v<T, df::HealthcheckInstr>) {
          cc.healthcheck = image::HealthConfig{
              k.test,   k.interval_ns, k.timeout_ns, k.start_period_ns, k.start_interval_ns,
              k.retries};
        } else if constexpr (std::is_same_v<T, df::ShellInstr>) {
          cc.shell = k.shell;
        } else if constexpr (std::is_same_v<T, df::OnbuildInstr>) {
          cc.on_build.push_back(k.expression);
          history = false; // the reference writes no history for ONBUILD
        } else if constexpr (std::is_same_v<T, df::MaintainerInstr>) {
          config.author = k.maintainer;
        } else {
          return std::unexpected(invalid(instr.keyword + " does not change the image config"));
        }
        return {};
      },
      instr.kind);
  if (!status) return status;
  if (history) {
    image::HistoryEntry h;
    h.created = config.created;
    h.created_by = history_for(config, instr);
    h.comment = "buildkit.dockerfile.v0";
    h.empty_layer = true;
    config.history.push_back(std::move(h));
  }
  return {};
}

} // namespace mason::engine
