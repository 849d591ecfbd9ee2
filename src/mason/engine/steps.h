// The steps that make a snapshot: RUN, COPY/ADD and WORKDIR. Each works in
// the writable root `StepContext::root` the stage runner prepared, and
// returns the history entry the reference writes for it.
#pragma once

#include <string>
#include <vector>

#include "mason/engine/config_ops.h"
#include "mason/engine/engine.h"

namespace mason::engine {

struct StepContext {
  Engine& engine;
  int stage;
  image::ImageConfig& config;
  const df::EnvList& env;                    // ARG and ENV values in scope
  const std::vector<df::ArgDef>& build_args; // ARGs declared in the stage so far
  const progress::Reporter& vertex;
  const std::string& root; // the writable root (host path)
};

struct StepHistory {
  std::string created_by;
  bool adds_layer = true;
};

util::Result<StepHistory> run_step(StepContext& ctx, const df::RunInstr& run);
util::Result<StepHistory> copy_step(StepContext& ctx, const df::CopyInstr& copy);
util::Result<StepHistory> copy_step(StepContext& ctx, const df::AddInstr& add);
// Makes the directory the config's WORKDIR names (the stage runner applied
// the instruction to the config first: the step's key depends on it).
util::Result<StepHistory> workdir_step(StepContext& ctx);

// A read-only root for `--from` (a stage or an image) or the context when
// `from` is empty; holds the view alive.
struct SourceView {
  std::unique_ptr<snapshot::View> view;
  util::UniqueFd fd;
  std::string path;
  bool context = false;
};
util::Result<SourceView> open_source(Engine& engine, const std::string& from);

} // namespace mason::engine
