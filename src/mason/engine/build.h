// `mason build`: the driver. It reads like the pipeline it runs:
//
//   parse → lower → prune → resolve bases → solve → export
//
// parse/lower/prune are the frontend's (load_and_lower); bases are found in
// the local store; the solve runs one job per needed stage on the solver,
// each job executing its stage's steps in order on snapshots (RUN through
// the executor, COPY/ADD through ops::copy_files, config instructions on the
// image config); export turns the target stage into an image and writes
// the requested outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mason/content/store.h"
#include "mason/executor/executor.h"
#include "mason/exporter/local_image.h"
#include "mason/progress/progress.h"
#include "mason/registry/client.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/util/error.h"

namespace mason::engine {

// A secret for RUN --mount=type=secret (cli/flags.h parses --secret).
struct SecretSource {
  std::string id;
  std::string file;                       // host file, or
  std::string env;                        // host environment variable,
  std::optional<std::string> env_value{}; // whose value (the CLI reads it; nullopt: unset)
};

enum class OutputType { image, oci, docker, local, tar, registry };

// One output of the build (cli/flags.h parses -o/--output): type=registry
// pushes each name, as type=image,push=true does.
struct OutputSpec {
  OutputType type = OutputType::image;
  std::string dest;                     // "-" = stdout (oci, docker, tar)
  std::vector<std::string> names;       // name=... (image, docker, oci, registry)
  bool push = false;                    // push=true (type=image)
  std::optional<int> compression_level; // compression-level=N (gzip, 0-9)
  // oci-mediatypes=true|false: the manifest's media types. Unset: BuildKit's
  // defaults (Docker types for image/registry, OCI for an OCI layout).
  std::optional<bool> oci_mediatypes;
};

// A build cache to export or import (cli/flags.h parses --cache-to and
// --cache-from): a local OCI layout directory (tag defaults to the target
// stage's name, else "latest") or a registry reference; max: every
// stage's steps, else the exported stage's.
struct CacheSpec {
  enum class Type { local, registry } type = Type::local;
  std::string dir; // local: dest (export) or src (import)
  std::string tag; // local
  std::string ref; // registry
  bool max = false;
};

struct BuildOptions {
  std::string context_dir = ".";              // "": none (the Dockerfile came on stdin)
  std::string dockerfile_path;                // -f; empty: <context>/Dockerfile
  std::optional<std::string> dockerfile_text; // -f - (read by the caller)
  std::string target;
  std::vector<std::pair<std::string, std::string>> build_args;
  std::vector<std::string> tags;
  std::vector<OutputSpec> outputs;
  std::vector<SecretSource> secrets;
  executor::NetworkMode network = executor::NetworkMode::host;
  std::size_t jobs = 0; // stages at once; 0: every ready stage
  snapshot::KindChoice snapshotter = snapshot::KindChoice::automatic;
  std::string runtime = "runc";
  // $PATH (the CLI reads it): where a runtime named without a "/" is looked
  // for, before the system directories.
  std::string runtime_search_path;
  // RUN's executor; null: the OCI runtime `runtime` (tests give a fake:
  // the engine's logic is then testable without root, runc or overlayfs).
  executor::Executor* executor = nullptr;
  std::string iidfile;
  // SOURCE_DATE_EPOCH (the CLI reads the environment): the build's time.
  std::optional<std::int64_t> source_date_epoch;
  // MASON_CACHE_MAX_SIZE (the CLI reads it): the build cache's size limit;
  // unset: gc::cache_size_limit's default.
  std::optional<std::int64_t> cache_max_size;
  bool no_cache = false;                    // run every step (records are still written)
  std::vector<std::string> no_cache_filter; // --no-cache-filter: stages (names or indexes) to run
  // gzip level of the layers a build makes (BuildKit's compression-level;
  // 1 by default: a rebuild's cost is mostly compressing what changed).
  int compression_level = 1;
  std::vector<CacheSpec> cache_to;
  std::vector<CacheSpec> cache_from;
  bool pull = false; // --pull: re-resolve base image tags against their registry
  bool push = false; // --push: push the tagged image after the build
  registry::RegistryOptions registry;
};

struct StageSummary {
  int index = 0;
  std::string name;       // the stage's name or "stage-N"
  std::string base;       // FROM
  bool target = false;    // the house (exported) vs the construction site
  std::int64_t size = 0;  // bytes of its whole file system
  bool size_exact = true; // false: layers never unpacked here counted compressed (at least `size`)
};

struct BuildResult {
  std::optional<exporter::LocalImage> image; // stored in the store (type=image)
  image::Digest image_id;                    // the config digest
  std::int64_t image_size = 0;               // uncompressed layers of the target
  bool image_size_exact = true;              // false: some counted compressed (at least)
  std::vector<StageSummary> stages;          // stages built, in Dockerfile order
  std::string snapshotter;                   // which snapshotter ran ("overlay"/"copy")
};

// Runs a build against the store at `store` (whose root holds snapshots and
// cache mounts too). Progress goes to `progress`; errors name the
// Dockerfile line for step failures.
util::Result<BuildResult> run_build(content::Store& store, const BuildOptions& options,
                                    progress::Progress& progress);

// The per-stage size table printed after a build.
std::string size_table(const BuildResult& result);

} // namespace mason::engine
