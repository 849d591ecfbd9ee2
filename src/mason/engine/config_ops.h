// How each config instruction changes an image config, with the reference
// builder's semantics (BuildKit's dispatch*): ENV, LABEL, CMD, ENTRYPOINT
// (resets an inherited CMD), WORKDIR (relative to the current one), USER,
// EXPOSE (ports normalised), VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL,
// ONBUILD, MAINTAINER. Used by `mason import --change` and by the build.
#pragma once

#include <string>

#include "mason/frontend/dockerfile/instructions.h"
#include "mason/image/config.h"
#include "mason/util/error.h"

namespace mason::engine {

// What the current stage itself has set (ENTRYPOINT keeps a CMD set in
// the same stage, and drops one inherited from the base).
struct StageConfigState {
  bool cmd_set = false;
};

// Applies an *expanded* instruction to `config`; appends the history entry
// the reference would write (empty_layer = true) unless `history` is false.
// Instructions that do not change the config (RUN, COPY, ADD, ARG) are
// rejected with invalid_argument. Errors name the instruction.
util::Status apply_to_config(image::ImageConfig& config, StageConfigState& state,
                             const frontend::dockerfile::Instruction& instr, bool history = true);

// EXPOSE words -> `port/proto` keys ("80" -> "80/tcp", "8000-8001/udp" ->
// both ports), in the order given with duplicates kept, as BuildKit lists
// them in history; errors for malformed ports.
util::Result<std::vector<std::string>> normalize_ports(const std::vector<std::string>& words);

// WORKDIR as BuildKit resolves it: an absolute `dir` as written, a relative
// one `path.Join("/", cwd, dir)`.
std::string resolve_workdir(const std::string& cwd, const std::string& dir);

} // namespace mason::engine
