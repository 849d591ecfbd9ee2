// The frontend's entry points for callers (build driver, CLI): Dockerfile
// text in, checked instructions and a resolved stage graph out, with every
// error of the file in one formatted Error (`Dockerfile:LINE: message`,
// the line, a caret).
#pragma once

#include <string_view>

#include "mason/frontend/dockerfile/instructions.h"
#include "mason/frontend/dockerfile/parser.h"
#include "mason/frontend/dockerfile/stages.h"
#include "mason/util/error.h"

namespace mason::frontend::dockerfile {

struct LoadedDockerfile {
  Ast ast;
  Dockerfile dockerfile;
};

// Parses and checks `text`; `label` names the file in messages.
util::Result<LoadedDockerfile> load_dockerfile(std::string_view label, std::string_view text);

// load_dockerfile + lower.
struct Frontend {
  LoadedDockerfile loaded;
  StageGraph graph;
};
util::Result<Frontend> load_and_lower(std::string_view label, std::string_view text,
                                      const LowerOptions& options);

} // namespace mason::frontend::dockerfile
