// The build engine's shared state and the stage runner (internal to
// build/). One Engine per build; one StageRunner per needed stage, run as
// a solver job. A stage's result is written once by its own job and read
// by dependent jobs only after it finished (the solver orders them).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mason/cache/record_info.h"
#include "mason/cache/stat_cache.h"
#include "mason/content/store.h"
#include "mason/engine/build.h"
#include "mason/engine/downloads.h"
#include "mason/executor/executor.h"
#include "mason/frontend/dockerfile/frontend.h"
#include "mason/frontend/dockerignore.h"
#include "mason/image/config.h"
#include "mason/ops/source_hash.h"
#include "mason/progress/progress.h"
#include "mason/registry/client.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/solver/solver.h"
#include "mason/util/unique_fd.h"

namespace mason::engine {

namespace df = frontend::dockerfile;

// One layer of a stage's image: a blob already in the store (a base image
// layer) or a snapshot made by this build (diffed at export).
struct LayerRef {
  std::optional<image::Descriptor> blob;
  std::optional<image::Digest> diff_id; // with blob
  std::optional<std::string> snapshot;
  std::optional<std::string> cache_key{}; // with snapshot: the step's key (its layer is cached)
};

// A step answered from or written to the build cache, in stage order
// (what --cache-to exports).
struct CachedStep {
  std::string key;
  std::string snapshot;
  cache::RecordInfo info; // created_by, adds_layer, created (inputs not kept)
  // Set when the step's layer is not its snapshot's diff against the step
  // before: a --link merge's layer is its link layer.
  std::optional<LayerRef> layer{};
};

// A step whose result is a layer applied over the parent's snapshot: one
// offered by --cache-from (applied when the build reaches its key), or a
// COPY --link layer put over the stage (stage.cc).
struct ImportedStep {
  std::string key;
  image::Descriptor blob; // the step's layer
  image::Digest diff_id;
  cache::RecordInfo info;   // created_by, adds_layer, created, imported (inputs: local only)
  std::string layout_dir;   // the OCI layout holding the blob, or
  std::string registry_ref; // the registry cache (name@digest) it is fetched from; both
                            // empty: the blob is in the store
  std::string lineage{};    // the record's lineage (local steps)
};

struct ImageSource;

// A stage's root not made yet (Engine::root_of makes it, once): the base
// image not unpacked, --cache-from layers not applied. A build whose steps
// all come from an imported cache reads no file of its bases: they are
// unpacked, and the layers applied, only when a step runs on the stage,
// another stage reads from it, or an output needs its files.
struct DeferredRoot {
  ImageSource* image = nullptr;               // start from the base image's layers, or
  std::shared_ptr<DeferredRoot> parent_stage; // from the base stage's deferred root
  std::vector<ImportedStep> imports;          // then these, in order
  std::once_flag made{};
  util::Result<std::optional<std::string>> root = std::optional<std::string>{};
};

struct StageResult {
  image::ImageConfig config;
  std::optional<std::string> snapshot;      // the stage's root (nullopt: empty), unless deferred
  std::shared_ptr<DeferredRoot> deferred{}; // set: the root is made on first use (root_of)
  std::vector<LayerRef> layers;
  df::EnvList env;                    // the build scope at the end (ARG and ENV values)
  std::vector<df::ArgDef> build_args; // ARGs declared (inherited by FROM <stage>)
  std::string cache_key;              // the key of the stage's last step (or of its base)
  std::string last_layer_time;        // when the last layer this build added was made ("" none)
  std::vector<CachedStep> steps;      // this stage's chain of cached steps (with its base stage's)
};

// An image used by FROM, COPY --from or RUN --mount from=. One pulled for
// this build is first only read (`remote`: manifest and config): its layers
// are downloaded when a step reads its files or an output holds them.
struct ImageSource {
  exporter::LocalImage image;
  std::optional<registry::RemoteImage> remote{}; // set: layers maybe not in the store
  std::once_flag pulled;
  util::Status layers = {}; // the outcome of pulling the layers
  std::once_flag unpacked;
  util::Result<std::optional<std::string>> snapshot = std::optional<std::string>{};
};

struct Engine {
  content::Store& store;
  const BuildOptions& options;
  progress::Progress& progress;
  snapshot::Snapshotter& snapshots;
  executor::Executor& executor;
  const df::Dockerfile& dockerfile;
  const df::StageGraph& graph;
  std::string dockerfile_label{};
  std::string dockerfile_text{};
  std::string context_path{};
  util::UniqueFd context_fd{};
  frontend::IgnoreMatcher ignore{};
  std::string work_dir{};   // <root>/build-tmp/<pid>: secrets, downloads
  std::string cache_dir{};  // <root>/cache-mounts
  std::string build_time{}; // RFC 3339, for history and config

  std::map<std::string, std::unique_ptr<ImageSource>> images{}; // by reference as written
  std::vector<std::optional<StageResult>> results{};

  std::mutex scratch_mutex{};                // guards discard_at_end and hits
  std::vector<std::string> discard_at_end{}; // snapshots this build made and keeps no record of
  std::vector<std::string> hits{};           // keys of the cache records this build used

  cache::StatCache context_stats{}; // content digests of context files, kept across builds
  std::map<std::string, ImportedStep> imported{}; // --cache-from, by key
  std::string lineage{}; // identifies this Dockerfile in this context (cache records)

  std::unique_ptr<Downloads> downloads{};              // ADD <url> without --checksum (downloads.h)
  std::unique_ptr<registry::Client> registry_client{}; // made on first use
  std::mutex transfer_mutex{};
  progress::Reporter transfer_vertex{}; // where registry transfers are reported

  // Puts the layers of an image in the store (pulled on first use).
  util::Status image_layers(ImageSource& source);
  // Puts every blob of `layers` in the store: base image layers pulled,
  // imported cache layers fetched (an output or a cache export holds them).
  util::Status fetch_layers(const std::vector<LayerRef>& layers);
  // The snapshot of an image (unpacked on first use).
  util::Result<std::optional<std::string>> image_snapshot(ImageSource& source);
  // A stage's root: its snapshot, made first when deferred.
  util::Result<std::optional<std::string>> root_of(const StageResult& result);
  util::Result<std::optional<std::string>> make_root(DeferredRoot& deferred);
  // Removes `snapshot_id` when the build ends (a step's result that no
  // cache record holds, e.g. an imported layer not recorded).
  void discard_at_end_of_build(const std::string& snapshot_id);
  // The registry client (created on first use; not thread-safe to create:
  // call before the solve or from one thread).
  util::Result<registry::Client*> registry();
  // Blob transfers of the registry client end as status lines of `vertex`
  // ("sha256:… (layer): done 1.2MB") from now on.
  void report_transfers_to(const progress::Reporter& vertex);
  // Content digest of what `paths` select in the context (step_key.h).
  util::Result<ops::SourcesDigest> hash_context(const std::vector<std::string>& paths);
};

// Which stage a `--from` value names (a stage name, case-insensitive, or an
// index), or -1 for an image reference.
int stage_for_from(const df::StageGraph& graph, const std::string& from);

// Runs stage `index` to its end; stores engine.results[index].
util::Status run_stage(Engine& engine, int index, const solver::CancelToken& cancel);

} // namespace mason::engine
