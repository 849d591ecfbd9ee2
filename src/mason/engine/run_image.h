// `mason run`: an image's entrypoint/cmd with its env, working directory
// and user, in the same sandbox RUN uses, on a throw-away snapshot of the
// image. Output and exit code pass through; stdin is inherited.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/executor/executor.h"
#include "mason/image/digest.h"
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

// Unpacks the layers of the image whose manifest is `manifest_digest` into
// the store's layer snapshots, shared with builds and `mason run` (what
// `docker load` and `docker pull` do): the first build on a loaded or
// pulled base then starts from unpacked layers. Layers already unpacked
// are skipped. Holds the image-layers usage lock meanwhile.
util::Status
unpack_image_layers(content::Store& store, const image::Digest& manifest_digest,
                    snapshot::KindChoice snapshotter = snapshot::KindChoice::automatic);

} // namespace mason::engine
