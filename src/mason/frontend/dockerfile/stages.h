// Lowering, part one: the stage graph. Global ARGs (before the first FROM)
// and --build-arg values are resolved, FROM lines are expanded with them,
// and every stage's dependencies (FROM <stage>, COPY --from, RUN
// --mount=from=) are found. The needed set is what the target reaches.
// Part two, expand_stage(), expands one stage's instructions with its
// ARG/ENV scope, exactly for the words the reference builder expands.
//
// Pure: no I/O. The base image's environment is an input of expand_stage.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mason/frontend/dockerfile/diagnostic.h"
#include "mason/frontend/dockerfile/instructions.h"
#include "mason/frontend/dockerfile/shell.h"

namespace mason::frontend::dockerfile {

struct LowerOptions {
  std::string target;                                          // stage name; empty: the last
  std::vector<std::pair<std::string, std::string>> build_args; // --build-arg K=V, in order
  std::string build_platform = "linux/amd64";
  std::string target_platform = "linux/amd64";
};

enum class BaseKind { scratch, image, stage };

struct StageNode {
  int index = 0;
  std::string name;                    // lower case, or empty
  std::string base;                    // FROM argument after expansion
  std::optional<std::string> platform; // --platform after expansion
  BaseKind base_kind = BaseKind::image;
  int base_stage = -1;             // for BaseKind::stage
  std::vector<int> depends_on;     // sorted, unique stage indexes
  std::vector<std::string> images; // images used by COPY --from / mount from=
  bool needed = false;
};

struct StageGraph {
  std::vector<StageNode> stages;
  int target = 0;
  EnvList global_args;                           // platform ARGs + global ARG values (FROM scope)
  std::map<std::string, std::string> build_args; // --build-arg, last wins
  std::vector<std::string> unused_build_args;    // given but never declared
  std::vector<std::pair<std::string, std::string>> proxy_env; // *_PROXY build args
};

struct LowerResult {
  StageGraph graph;
  std::vector<Diagnostic> errors;
  bool ok() const { return errors.empty(); }
};

LowerResult lower(const Dockerfile& dockerfile, const LowerOptions& options);

// One stage's instructions with words expanded, and the scope after it.
struct ExpandedStage {
  std::vector<Instruction> commands;
  EnvList env;        // ARG and ENV values in scope at the end of the stage
  EnvList config_env; // what ENV put into the image config (base env + ENV)
};

struct ExpandStageResult {
  ExpandedStage stage;
  std::vector<Diagnostic> errors; // one per instruction that failed
  bool ok() const { return errors.empty(); }
};

// `inherited` is the scope the stage starts with: the parent stage's final
// `env` for FROM <stage>, the base image's config Env for an image, empty
// for scratch; `inherited_config` likewise for the image config's Env.
ExpandStageResult expand_stage(const Dockerfile& dockerfile, const StageGraph& graph,
                               int stage_index, const EnvList& inherited,
                               const EnvList& inherited_config);

// The stage graph as `mason parse --stages` prints it.
std::string stages_json(const StageGraph& graph);

} // namespace mason::frontend::dockerfile
