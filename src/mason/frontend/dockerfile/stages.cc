// The stage graph is built in the reference builder's order: the global
// scope (platform ARGs, then global ARGs with --build-arg overrides), each
// FROM expanded in it, stage names registered as they appear (so FROM can
// only name an earlier stage; a later or unknown name is an image), then
// COPY --from / mount from= edges, cycle and order checks, and a walk from
// the target for the needed set. Checks that the reference only performs
// while dispatching are reported for needed stages only.
#include "mason/frontend/dockerfile/stages.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "mason/frontend/dockerfile/flags.h"
#include "mason/image/platform.h"
#include "mason/util/utf8.h"

namespace mason::frontend::dockerfile {

namespace {

bool is_proxy_arg(std::string_view key) {
  static const std::set<std::string, std::less<>> k_proxy = {
      "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
      "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};
  return k_proxy.contains(key);
}

// The predefined platform ARGs, overridable by --build-arg.
EnvList platform_args(const LowerOptions& opt, const std::map<std::string, std::string>& build_args,
                      const std::string& target) {
  // The platform parsing and normalisation of image/platform.h
  // (containerd's platforms.Parse), as the reference's frontend uses.
  const auto bp = image::parse_platform(opt.build_platform)
                      .value_or(image::Platform{"linux", "amd64", "", {}, {}});
  const auto tp = image::parse_platform(opt.target_platform).value_or(bp);
  const std::pair<const char*, std::string> defaults[] = {
      {"BUILDPLATFORM", image::format_platform(bp)},
      {"BUILDOS", bp.os},
      {"BUILDOSVERSION", ""},
      {"BUILDARCH", bp.architecture},
      {"BUILDVARIANT", bp.variant},
      {"TARGETPLATFORM", image::format_platform(tp)},
      {"TARGETOS", tp.os},
      {"TARGETOSVERSION", ""},
      {"TARGETARCH", tp.architecture},
      {"TARGETVARIANT", tp.variant},
      {"TARGETSTAGE", target.empty() ? "default" : target}};
  EnvList env;
  for (const auto& [key, value] : defaults) {
    auto it = build_args.find(key);
    env.set(key, it != build_args.end() ? it->second : value);
  }
  return env;
}

class GraphBuilder {
public:
  GraphBuilder(const Dockerfile& df, const LowerOptions& opt) : m_df(df), m_opt(opt) {}

  LowerResult run() {
    for (const auto* p : {&m_opt.build_platform, &m_opt.target_platform})
      if (!image::parse_platform(*p))
        error(0, "invalid platform \"" + *p + "\": unknown operating system or architecture");
    collect_build_args();
    const auto target_name =
        m_opt.target.empty() ? m_df.stages.empty() ? std::string() : m_df.stages.back().from.name
                             : util::to_lower_ascii(m_opt.target);
    m_out.graph.global_args = platform_args(m_opt, m_out.graph.build_args, target_name);
    resolve_global_args();
    for (std::size_t i = 0; i < m_df.stages.size(); ++i) add_stage(static_cast<int>(i));
    if (!resolve_target()) return std::move(m_out);
    for (auto& node : m_out.graph.stages) add_edges(node);
    check_cycles();
    mark_needed();
    check_order();
    find_unused_build_args();
    return std::move(m_out);
  }

private:
  void error(int line, std::string message) {
    m_out.errors.push_back({line, Diagnostic::k_no_column, std::move(message)});
  }

  void collect_build_args() {
    for (const auto& [k, v] : m_opt.build_args) {
      m_out.graph.build_args[k] = v;
      if (is_proxy_arg(k)) m_out.graph.proxy_env.emplace_back(k, v);
    }
  }

  // Global ARGs: a --build-arg wins over the default; the default is
  // expanded with the scope so far; an ARG with neither stays unset.
  void resolve_global_args() {
    const Lexer lexer(LexOptions{m_df.escape});
    for (const auto& instr : m_df.meta_args) {
      for (const auto& def : std::get<ArgInstr>(instr.kind).args) {
        m_declared.insert(def.key);
        if (auto it = m_out.graph.build_args.find(def.key); it != m_out.graph.build_args.end()) {
          m_out.graph.global_args.set(def.key, it->second);
        } else if (def.value) {
          auto r = lexer.process_word(*def.value, m_out.graph.global_args);
          if (!r) {
            error(instr.start_line, r.error().message());
            continue;
          }
          m_out.graph.global_args.set(def.key, r->result);
        }
      }
    }
  }

  std::optional<int> stage_by_name(std::string_view name, int before) const {
    const auto lower = util::to_lower_ascii(name);
    for (int i = 0; i < before; ++i)
      if (!m_out.graph.stages[static_cast<std::size_t>(i)].name.empty() &&
          m_out.graph.stages[static_cast<std::size_t>(i)].name == lower)
        return i;
    return std::nullopt;
  }

  void add_stage(int index) {
    const auto& st = m_df.stages[static_cast<std::size_t>(index)];
    StageNode node;
    node.index = index;
    node.name = st.from.name;
    if (!node.name.empty() && stage_by_name(node.name, index))
      error(st.start_line,
            "duplicate stage name \"" + node.name + "\": stage names must be unique");
    const Lexer lexer(LexOptions{m_df.escape});
    auto base = lexer.process_word(st.from.base, m_out.graph.global_args);
    if (!base)
      error(st.start_line, base.error().message());
    else if (base->result.empty())
      error(st.start_line, "base name (" + st.from.base + ") should not be blank");
    else
      node.base = base->result;
    if (!st.from.platform.empty()) expand_platform(st, node, lexer);
    if (node.base == "scratch") {
      node.base_kind = BaseKind::scratch;
    } else if (auto parent = stage_by_name(node.base, index)) {
      node.base_kind = BaseKind::stage;
      node.base_stage = *parent;
      node.base = m_out.graph.stages[static_cast<std::size_t>(*parent)].name;
      node.depends_on.push_back(*parent);
    }
    m_out.graph.stages.push_back(std::move(node));
  }

  void expand_platform(const Stage& st, StageNode& node, const Lexer& lexer) {
    auto p = lexer.process_word(st.from.platform, m_out.graph.global_args);
    if (!p) {
      error(st.start_line, "failed to process arguments for platform " + st.from.platform + ": " +
                               p.error().message());
    } else if (p->result.empty()) {
      error(st.start_line, "empty platform value from expression " + st.from.platform);
    } else if (!image::parse_platform(p->result)) {
      error(st.start_line, "failed to parse platform " + st.from.platform + ": \"" + p->result +
                               "\": unknown operating system or architecture");
    } else {
      node.platform = p->result;
    }
  }

  bool resolve_target() {
    if (m_out.graph.stages.empty()) return false;
    if (m_opt.target.empty()) {
      m_out.graph.target = static_cast<int>(m_out.graph.stages.size()) - 1;
      return true;
    }
    const auto n = static_cast<int>(m_out.graph.stages.size());
    if (auto t = stage_by_name(m_opt.target, n)) {
      m_out.graph.target = *t;
      return true;
    }
    std::vector<std::string> names;
    for (const auto& s : m_out.graph.stages)
      if (!s.name.empty()) names.push_back(s.name);
    error(0, "target stage \"" + m_opt.target + "\" could not be found" +
                 suggestion(m_opt.target, names));
    return false;
  }

  // A COPY --from / mount from= value: a stage (by name anywhere in the
  // file, or by index for COPY), else an image reference.
  void add_source(StageNode& node, const Instruction& instr, const std::string& from,
                  bool by_index) {
    const auto n = static_cast<int>(m_out.graph.stages.size());
    int idx = -1;
    int parsed = 0;
    auto [ptr, ec] = std::from_chars(from.data(), from.data() + from.size(), parsed);
    if (by_index && ec == std::errc() && ptr == from.data() + from.size()) {
      if (parsed < 0 || parsed >= n) {
        error(instr.start_line, "invalid stage index " + from);
        return;
      }
      idx = parsed;
    } else if (auto s = stage_by_name(from, n)) {
      idx = *s;
    }
    if (idx < 0) {
      if (std::find(node.images.begin(), node.images.end(), from) == node.images.end())
        node.images.push_back(from);
      return;
    }
    node.depends_on.push_back(idx);
    m_refs.push_back({node.index, idx, instr.start_line, from, by_index});
  }

  void add_edges(StageNode& node) {
    for (const auto& instr : m_df.stages[static_cast<std::size_t>(node.index)].commands) {
      if (const auto* copy = std::get_if<CopyInstr>(&instr.kind)) {
        if (copy->from.empty()) continue;
        const Lexer lexer(LexOptions{m_df.escape});
        auto r = lexer.process_word(copy->from, EnvList());
        if (!r || r->result != copy->from) {
          error(instr.start_line, "variable expansion is not supported for --from, define a new "
                                  "stage with FROM using ARG from global scope as a workaround");
          continue;
        }
        add_source(node, instr, copy->from, true);
      } else if (const auto* run = std::get_if<RunInstr>(&instr.kind)) {
        for (const auto& m : run->mounts) {
          auto mount = parse_mount(m, nullptr);
          if (mount && !mount->from.empty()) add_source(node, instr, mount->from, false);
        }
      }
    }
    std::sort(node.depends_on.begin(), node.depends_on.end());
    node.depends_on.erase(std::unique(node.depends_on.begin(), node.depends_on.end()),
                          node.depends_on.end());
  }

  void check_cycles() {
    const auto n = m_out.graph.stages.size();
    std::vector<int> state(n, 0); // 0 new, 1 on stack, 2 done
    std::function<bool(std::size_t)> visit = [&](std::size_t i) {
      state[i] = 1;
      for (int d : m_out.graph.stages[i].depends_on) {
        const auto j = static_cast<std::size_t>(d);
        if (state[j] == 1 || (state[j] == 0 && visit(j))) return true;
      }
      state[i] = 2;
      return false;
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (state[i] == 0 && visit(i)) {
        const auto& s = m_out.graph.stages[i];
        error(m_df.stages[i].start_line,
              "circular dependency detected on stage: " +
                  (s.name.empty() ? "stage-" + std::to_string(i) : s.name));
        return;
      }
    }
  }

  void mark_needed() {
    std::vector<int> todo = {m_out.graph.target};
    while (!todo.empty()) {
      auto& s = m_out.graph.stages[static_cast<std::size_t>(todo.back())];
      todo.pop_back();
      if (s.needed) continue;
      s.needed = true;
      for (int d : s.depends_on) todo.push_back(d);
    }
  }

  // COPY --from and mount from= must name an earlier stage (checked while
  // dispatching, so only for needed stages).
  void check_order() {
    for (const auto& ref : m_refs) {
      const auto& node = m_out.graph.stages[static_cast<std::size_t>(ref.stage)];
      if (!node.needed || ref.source < ref.stage) continue;
      const auto here = node.name.empty() ? "stage-" + std::to_string(ref.stage) : node.name;
      if (ref.copy)
        error(ref.line, "cannot copy from stage \"" + ref.from +
                            "\", it needs to be defined before current stage \"" + here + "\"");
      else
        error(ref.line, "cannot mount from stage \"" + ref.from + "\" to \"" + here +
                            "\", stage needs to be defined before current command");
    }
  }

  void find_unused_build_args() {
    for (const auto& stage : m_df.stages)
      for (const auto& instr : stage.commands)
        if (const auto* arg = std::get_if<ArgInstr>(&instr.kind))
          for (const auto& def : arg->args) m_declared.insert(def.key);
    for (const auto& [k, v] : m_out.graph.build_args)
      if (!m_declared.contains(k) && !is_proxy_arg(k) && !m_out.graph.global_args.contains(k))
        m_out.graph.unused_build_args.push_back(k);
  }

  struct SourceRef {
    int stage, source, line;
    std::string from;
    bool copy; // COPY --from (else RUN --mount=from=)
  };

  const Dockerfile& m_df;
  const LowerOptions& m_opt;
  LowerResult m_out;
  std::set<std::string> m_declared;
  std::vector<SourceRef> m_refs;
};

// Expands one stage's words in the reference builder's dispatch order.
class StageExpander {
public:
  StageExpander(const Dockerfile& df, const StageGraph& graph, ExpandStageResult& out)
      : m_graph(graph), m_lexer(LexOptions{df.escape}), m_out(out) {
    LexOptions raw;
    raw.skip_process_quotes = true;
    m_raw_lexer = Lexer(raw);
  }

  void run(const Stage& stage) {
    for (const auto& instr : stage.commands) {
      Instruction e = instr;
      auto r = std::visit([&](auto& kind) { return expand(kind); }, e.kind);
      if (!r) {
        m_out.errors.push_back({instr.start_line, Diagnostic::k_no_column, r.error().message()});
        continue;
      }
      m_out.stage.commands.push_back(std::move(e));
    }
  }

private:
  util::Result<std::string> word(std::string_view w) const {
    MASON_TRY_ASSIGN(auto r, m_lexer.process_word(w, m_out.stage.env));
    return std::move(r.result);
  }

  util::Result<void> words(std::vector<std::string>& ws) const {
    for (auto& w : ws)
      if (auto r = in_place(w); !r) return r;
    return {};
  }

  util::Result<void> key_values(std::vector<KeyValue>& kvs) const {
    for (auto& kv : kvs) {
      MASON_TRY_ASSIGN(auto k, word(kv.key));
      MASON_TRY_ASSIGN(auto v, word(kv.value));
      kv.key = std::move(k);
      kv.value = std::move(v);
    }
    return {};
  }

  // Heredoc sources are expanded raw (quotes kept) unless quoted.
  util::Result<void> files(SourcesAndDest& f) const {
    if (auto r = words(f.sources); !r) return r;
    if (auto r = in_place(f.dest); !r) return r;
    for (auto& c : f.contents) {
      if (!c.expand) continue;
      MASON_TRY_ASSIGN(auto r, m_raw_lexer.process_word(c.data, m_out.stage.env));
      c.data = std::move(r.result);
    }
    return {};
  }

  util::Result<void> expand(EnvInstr& env) {
    if (auto r = key_values(env.vars); !r) return r;
    for (const auto& kv : env.vars) {
      m_out.stage.env.set(kv.key, kv.value);
      m_out.stage.config_env.set(kv.key, kv.value);
    }
    return {};
  }
  util::Result<void> expand(LabelInstr& label) { return key_values(label.labels); }
  // Expands one word in place.
  util::Result<void> in_place(std::string& s) const {
    MASON_TRY_ASSIGN(auto r, word(s));
    s = std::move(r);
    return {};
  }
  util::Result<void> expand(CopyInstr& copy) {
    for (auto* s : {&copy.chown, &copy.chmod})
      if (auto r = in_place(*s); !r) return r;
    return files(copy.files);
  }
  util::Result<void> expand(AddInstr& add) {
    for (auto* s : {&add.chown, &add.chmod, &add.checksum})
      if (auto r = in_place(*s); !r) return r;
    return files(add.files);
  }
  util::Result<void> expand(WorkdirInstr& w) { return in_place(w.path); }
  util::Result<void> expand(UserInstr& u) { return in_place(u.user); }
  util::Result<void> expand(StopSignalInstr& s) { return in_place(s.signal); }
  util::Result<void> expand(VolumeInstr& v) { return words(v.volumes); }
  util::Result<void> expand(RunInstr& run) {
    const WordExpander expander = [this](std::string_view w) { return word(w); };
    for (const auto& m : run.mounts) {
      MASON_TRY_ASSIGN(auto mount, parse_mount(m, expander));
      run.resolved_mounts.push_back(std::move(mount));
    }
    return {};
  }
  util::Result<void> expand(ExposeInstr& expose) {
    std::vector<std::string> ports;
    for (const auto& p : expose.ports) {
      MASON_TRY_ASSIGN(auto ws, m_lexer.process_words(p, m_out.stage.env));
      ports.insert(ports.end(), ws.begin(), ws.end());
    }
    expose.ports = std::move(ports);
    return {};
  }
  // ARG: a --build-arg wins; an ARG without default takes the global
  // value; a default is expanded in the stage scope. Values join the
  // scope (not the image config).
  util::Result<void> expand(ArgInstr& arg) {
    for (auto& def : arg.args) {
      const auto given = m_graph.build_args.find(def.key);
      if (given != m_graph.build_args.end()) {
        def.value = given->second;
      } else if (def.value) {
        MASON_TRY_ASSIGN(auto r, word(*def.value));
        def.value = std::move(r);
      } else if (auto global = m_graph.global_args.get(def.key)) {
        def.value = std::string(*global);
      }
      if (def.value) m_out.stage.env.set(def.key, *def.value);
    }
    return {};
  }
  template <class T>
  util::Result<void> expand(T&) {
    return {}; // RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK/ONBUILD/MAINTAINER: not expanded
  }

  const StageGraph& m_graph;
  Lexer m_lexer;
  Lexer m_raw_lexer;
  ExpandStageResult& m_out;
};

} // namespace

ExpandStageResult expand_stage(const Dockerfile& dockerfile, const StageGraph& graph,
                               int stage_index, const EnvList& inherited,
                               const EnvList& inherited_config) {
  ExpandStageResult out;
  out.stage.env = inherited;
  out.stage.config_env = inherited_config;
  StageExpander(dockerfile, graph, out)
      .run(dockerfile.stages.at(static_cast<std::size_t>(stage_index)));
  return out;
}

LowerResult lower(const Dockerfile& dockerfile, const LowerOptions& options) {
  return GraphBuilder(dockerfile, options).run();
}

std::string stages_json(const StageGraph& graph) {
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  for (const auto& s : graph.stages) {
    nlohmann::ordered_json j;
    j["index"] = s.index;
    j["name"] = s.name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.name);
    j["base"] = s.base;
    j["platform"] =
        s.platform ? nlohmann::ordered_json(*s.platform) : nlohmann::ordered_json(nullptr);
    j["needed"] = s.needed;
    j["depends_on"] = s.depends_on;
    stages.push_back(std::move(j));
  }
  nlohmann::ordered_json root;
  root["stages"] = std::move(stages);
  return root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace mason::frontend::dockerfile
