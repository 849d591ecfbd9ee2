// Export of a build's target (see export.cc).
#pragma once

#include "mason/build/engine.h"

namespace mason::build {

// Makes the target stage's image (when an output needs one) and writes the
// requested outputs; fills out.image, image_id and image_size.
util::Status export_target(Engine& engine, int target, BuildResult& out);

// Bytes of the files and symlinks (hard links once) in a snapshot's file
// system; remembered per snapshot (k_tree_sizes_file under the store root,
// emptied by `mason cache prune`).
inline constexpr std::string_view k_tree_sizes_file = "cache/tree-sizes";
// Uncompressed sizes of layer blobs, remembered the same way.
inline constexpr std::string_view k_layer_sizes_file = "cache/layer-sizes";
util::Result<std::int64_t> tree_size(Engine& engine, const std::optional<std::string>& snapshot);

} // namespace mason::build
