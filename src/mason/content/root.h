// Where the store lives. resolve_root is a pure function of the values it
// is given (the CLI reads them: cli/environment.h), so the precedence is
// tested without touching the process environment.
#pragma once

#include <filesystem>
#include <string>

#include "mason/util/error.h"

namespace mason::content {

// Empty strings mean "not set" (the XDG base directory spec treats an
// empty variable as unset).
struct RootEnv {
  std::string flag;          // --root DIR
  std::string mason_root;    // $MASON_ROOT
  std::string xdg_data_home; // $XDG_DATA_HOME
  std::string home;          // $HOME (or the passwd entry's home directory)
};

// Precedence: --root, then MASON_ROOT (both used as given, relative paths
// allowed), then $XDG_DATA_HOME/mason (only if absolute: the spec says
// relative values are invalid and must be ignored), then
// $HOME/.local/share/mason. Error invalid_argument when none applies.
util::Result<std::filesystem::path> resolve_root(const RootEnv& env);

} // namespace mason::content
