// `mason run`: an image's entrypoint/cmd with its env, working directory
// and user, in the same sandbox RUN uses, on a throw-away snapshot of the
// image. Output and exit code pass through; stdin is inherited.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/executor/executor.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/util/error.h"

namespace mason::engine {

struct RunImageOptions {
  std::string image;
  std::vector<std::string> command;      // replaces the image's CMD
  std::optional<std::string> entrypoint; // --entrypoint ("" clears it)
  std::vector<std::string> env;          // -e K=V (the CLI resolves -e K)
  std::string user;                      // -u
  std::string workdir;                   // -w
  executor::NetworkMode network = executor::NetworkMode::host;
  std::string runtime = "runc";
  std::string runtime_search_path; // BuildOptions::runtime_search_path
  snapshot::KindChoice snapshotter = snapshot::KindChoice::automatic;
};

// Returns the process's exit code.
util::Result<int> run_image(content::Store& store, const RunImageOptions& options);

} // namespace mason::engine
