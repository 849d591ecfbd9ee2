// `mason parse`: shows what the frontend makes of a Dockerfile.
//   --ast      the syntax tree in the reference dump format
//   --stages   the stage graph as JSON (needed set for --target)
//   --expand   the needed stages' instructions with words expanded
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include <nlohmann/json.hpp>

#include "mason/cli/commands.h"
#include "mason/frontend/dockerfile/describe.h"
#include "mason/frontend/dockerfile/frontend.h"

namespace mason::cli {

namespace df = mason::frontend::dockerfile;

int ChosenCommand::run() {
  if (!m_action) return k_exit_usage;
  auto status = m_action();
  if (status) return m_exit_code;
  std::cerr << "mason: " << status.error().to_string() << '\n';
  return k_exit_failure;
}

util::Result<std::string> read_input(const std::string& path) {
  if (path == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::errno_error("open " + path, errno);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return util::errno_error("read " + path, errno);
  return text;
}

namespace {

struct ParseOptions {
  std::string file = "Dockerfile";
  bool ast = false;
  bool stages = false;
  bool expand = false;
  std::string target;
  std::vector<std::string> build_args;
  std::string platform;
};

// `K=V` sets K; a bare `K` takes K from mason's environment, as docker does.
util::Result<std::vector<std::pair<std::string, std::string>>>
parse_build_args(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& a : args) {
    const auto eq = a.find('=');
    if (eq == 0)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "invalid --build-arg \"" + a + "\": empty name");
    if (eq != std::string::npos) {
      out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    } else if (const char* v = std::getenv(a.c_str())) {
      out.emplace_back(a, v);
    }
  }
  return out;
}

std::string label_for(const std::string& file) {
  if (file == "-") return "Dockerfile";
  const auto slash = file.find_last_of('/');
  return slash == std::string::npos ? file : file.substr(slash + 1);
}

// An expanded instruction: its line, its text and, for heredocs, the
// bodies as the build will use them (COPY/ADD bodies expanded unless the
// delimiter was quoted; RUN bodies are left to the shell).
nlohmann::ordered_json instruction_json(const df::Instruction& i) {
  nlohmann::ordered_json j = {{"line", i.start_line}, {"text", df::describe(i)}};
  nlohmann::ordered_json docs = nlohmann::ordered_json::array();
  auto add = [&](const std::string& name, const std::string& data) {
    docs.push_back({{"name", name}, {"data", data}});
  };
  if (const auto* c = std::get_if<df::CopyInstr>(&i.kind))
    for (const auto& s : c->files.contents) add(s.path, s.data);
  if (const auto* a = std::get_if<df::AddInstr>(&i.kind))
    for (const auto& s : a->files.contents) add(s.path, s.data);
  if (const auto* r = std::get_if<df::RunInstr>(&i.kind))
    for (const auto& f : r->cmd.files) add(f.name, f.data);
  if (!docs.empty()) j["heredocs"] = std::move(docs);
  return j;
}

std::string expanded_json(const df::Frontend& fe) {
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  std::vector<df::EnvList> final_env(fe.graph.stages.size());
  for (const auto& node : fe.graph.stages) {
    if (!node.needed) continue;
    df::EnvList inherited;
    if (node.base_kind == df::BaseKind::stage)
      inherited = final_env[static_cast<std::size_t>(node.base_stage)];
    auto r = df::expand_stage(fe.loaded.dockerfile, fe.graph, node.index, inherited, df::EnvList());
    nlohmann::ordered_json j;
    j["index"] = node.index;
    j["name"] =
        node.name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(node.name);
    nlohmann::ordered_json instrs = nlohmann::ordered_json::array();
    for (const auto& i : r.stage.commands) instrs.push_back(instruction_json(i));
    j["instructions"] = std::move(instrs);
    nlohmann::ordered_json env = nlohmann::ordered_json::object();
    for (const auto& [k, v] : r.stage.env.items()) env[k] = v;
    j["env"] = std::move(env);
    nlohmann::ordered_json errors = nlohmann::ordered_json::array();
    for (const auto& e : r.errors) errors.push_back({{"line", e.line}, {"message", e.message}});
    if (!r.errors.empty()) j["errors"] = std::move(errors);
    final_env[static_cast<std::size_t>(node.index)] = r.stage.env;
    stages.push_back(std::move(j));
  }
  nlohmann::ordered_json root;
  root["stages"] = std::move(stages);
  return root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

util::Status run_parse(const ParseOptions& opt) {
  MASON_TRY_ASSIGN(auto text, read_input(opt.file));
  const auto label = label_for(opt.file);
  if (opt.ast) {
    auto loaded = df::parse(text);
    if (!loaded.ok()) return std::unexpected(df::diagnostics_error(label, text, loaded.errors));
    std::cout << df::dump(loaded.ast);
    return {};
  }
  df::LowerOptions lower;
  lower.target = opt.target;
  if (!opt.platform.empty()) lower.target_platform = opt.platform;
  MASON_TRY_ASSIGN(auto build_args, parse_build_args(opt.build_args));
  lower.build_args = std::move(build_args);
  MASON_TRY_ASSIGN(auto fe, df::load_and_lower(label, text, lower));
  std::cout << (opt.expand ? expanded_json(fe) : df::stages_json(fe.graph)) << '\n';
  return {};
}

} // namespace

void register_parse(CLI::App& app, ChosenCommand& chosen) {
  auto opt = std::make_shared<ParseOptions>();
  auto* cmd = app.add_subcommand("parse", "Show how mason reads a Dockerfile");
  cmd->add_option("-f,--file", opt->file, "Dockerfile to read ('-' for stdin)")
      ->capture_default_str();
  auto* ast = cmd->add_flag("--ast", opt->ast, "Print the syntax tree (reference dump format)");
  auto* stages = cmd->add_flag("--stages", opt->stages, "Print the stage graph as JSON");
  auto* expand = cmd->add_flag("--expand", opt->expand,
                               "Print the needed stages' expanded instructions as JSON");
  ast->excludes(stages)->excludes(expand);
  stages->excludes(expand);
  cmd->add_option("--target", opt->target, "Stage to build");
  cmd->add_option("--build-arg", opt->build_args, "Build-time variable K=V (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--platform", opt->platform, "Target platform (default linux/amd64)");
  cmd->callback([&chosen, opt]() {
    if (!opt->ast && !opt->stages && !opt->expand)
      throw CLI::RequiredError("one of --ast, --stages, --expand");
    chosen.set([opt]() { return run_parse(*opt); });
  });
}

} // namespace mason::cli
