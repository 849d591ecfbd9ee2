// Canonical one-line text of an (expanded) instruction, used by
// `mason parse --expand` and as the basis of history entries.
#include <type_traits>

#include "mason/frontend/dockerfile/describe.h"

namespace mason::frontend::dockerfile {

namespace {

std::string join(const std::vector<std::string>& v, std::string_view sep = " ") {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::string command_text(const CommandLine& cl) {
  if (cl.prepend_shell) return join(cl.args);
  std::string out = "[";
  for (std::size_t i = 0; i < cl.args.size(); ++i) {
    if (i) out += ' ';
    out += go_quote(cl.args[i]);
  }
  return out + "]";
}

std::string flag(std::string_view name, const std::string& value) {
  return value.empty() ? std::string() : "--" + std::string(name) + "=" + value + " ";
}

std::string files_text(const SourcesAndDest& f) {
  std::string out;
  for (const auto& s : f.sources) out += s + " ";
  for (const auto& c : f.contents) out += "<<" + c.path + " ";
  return out + f.dest;
}

std::string kv_text(const std::vector<KeyValue>& kvs) {
  std::string out;
  for (const auto& kv : kvs) out += " " + kv.key + "=" + kv.value;
  return out;
}

} // namespace

std::string describe(const Instruction& instr) {
  return std::visit(
      [&](const auto& k) -> std::string {
        using T = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<T, RunInstr>) {
          std::string f;
          for (const auto& m : k.mounts) f += "--mount=" + m + " ";
          if (k.network != "default") f += "--network=" + k.network + " ";
          if (k.security != "sandbox") f += "--security=" + k.security + " ";
          return "RUN " + f + command_text(k.cmd);
        } else if constexpr (std::is_same_v<T, CmdInstr>) {
          return "CMD " + command_text(k.cmd);
        } else if constexpr (std::is_same_v<T, EntrypointInstr>) {
          return "ENTRYPOINT " + command_text(k.cmd);
        } else if constexpr (std::is_same_v<T, ShellInstr>) {
          return "SHELL " + command_text({k.shell, {}, false});
        } else if constexpr (std::is_same_v<T, EnvInstr>) {
          return "ENV" + kv_text(k.vars);
        } else if constexpr (std::is_same_v<T, LabelInstr>) {
          return "LABEL" + kv_text(k.labels);
        } else if constexpr (std::is_same_v<T, MaintainerInstr>) {
          return "MAINTAINER " + k.maintainer;
        } else if constexpr (std::is_same_v<T, ArgInstr>) {
          std::string out = "ARG";
          for (const auto& a : k.args) out += " " + a.key + (a.value ? "=" + *a.value : "");
          return out;
        } else if constexpr (std::is_same_v<T, CopyInstr>) {
          return "COPY " + flag("from", k.from) + flag("chown", k.chown) + flag("chmod", k.chmod) +
                 (k.link ? "--link " : "") + (k.parents ? "--parents " : "") + files_text(k.files);
        } else if constexpr (std::is_same_v<T, AddInstr>) {
          return "ADD " + flag("chown", k.chown) + flag("chmod", k.chmod) +
                 flag("checksum", k.checksum) + (k.link ? "--link " : "") + files_text(k.files);
        } else if constexpr (std::is_same_v<T, WorkdirInstr>) {
          return "WORKDIR " + k.path;
        } else if constexpr (std::is_same_v<T, UserInstr>) {
          return "USER " + k.user;
        } else if constexpr (std::is_same_v<T, VolumeInstr>) {
          return "VOLUME [" + join(k.volumes) + "]";
        } else if constexpr (std::is_same_v<T, ExposeInstr>) {
          return "EXPOSE " + join(k.ports);
        } else if constexpr (std::is_same_v<T, StopSignalInstr>) {
          return "STOPSIGNAL " + k.signal;
        } else if constexpr (std::is_same_v<T, OnbuildInstr>) {
          return "ONBUILD " + k.expression;
        } else {
          static_assert(std::is_same_v<T, HealthcheckInstr>);
          return "HEALTHCHECK " + join(k.test);
        }
      },
      instr.kind);
}

} // namespace mason::frontend::dockerfile
