// Export of a build's target (see export.cc).
#pragma once

#include "mason/archive/stream.h"
#include "mason/engine/engine.h"

namespace mason::engine {

// An archive::Sink into a content::Writer (layers streamed into the store).
class WriterSink final : public archive::Sink {
public:
  explicit WriterSink(content::Writer& w) : m_w(w) {}
  util::Status write(archive::ConstBytes data) override {
    return m_w.write(data.data(), data.size());
  }

private:
  content::Writer& m_w;
};

// The layers build steps make: gzip (at BuildOptions::compression_level);
// the variant name their cache records keep them under. A cached layer is
// reused whatever level made it.
inline constexpr std::string_view k_layer_variant = "gzip";

// The layer of a step's snapshot: the one cached with the step's record
// (when `cache_key` is given and its blob is there), else the snapshot's
// diff, stored, and cached with the record. `made`: it was diffed now.
struct StepLayer {
  image::Descriptor descriptor;
  image::Digest diff_id;
  bool made = false;
};
util::Result<StepLayer> step_layer(Engine& engine, const std::string& snapshot,
                                   const std::optional<std::string>& cache_key);

// Makes the target stage's image (when an output needs one) and writes the
// requested outputs; fills out.image, image_id and image_size.
util::Status export_target(Engine& engine, int target, BuildResult& out);

// A stage's size as docker counts an image's: the bytes of the files and
// symlinks of each layer of its chain, added up (a file a later step
// replaces counts twice, as in `docker images`); the copy kind's
// snapshots hold whole trees, counted once. Remembered per snapshot
// (StoreLayout::tree_sizes, emptied by `mason cache prune`).
util::Result<std::int64_t> tree_size(Engine& engine, const std::optional<std::string>& snapshot);

} // namespace mason::engine
