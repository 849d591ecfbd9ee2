// Image sources: an image's layers as snapshots. Each layer is unpacked
// once into a snapshot named by its OCI ChainID (sha256 over the diff_ids
// below it), so images that share base layers share snapshots, across
// builds and processes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/image/config.h"
#include "mason/image/manifest.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/util/error.h"

namespace mason::ops {

// OCI ChainIDs of a diff_id list: chain[0] = diff_ids[0],
// chain[i] = sha256(chain[i-1] + " " + diff_ids[i]).
std::vector<image::Digest> chain_ids(const std::vector<image::Digest>& diff_ids);

// Unpacks the image's layers (what is missing) and returns the snapshot
// of the top layer, or nullopt for an image without layers. Errors name
// the layer (corruption for a blob that does not match its digest). The
// uncompressed size of each layer unpacked is kept in the store's blob
// metadata (what `mason images` and the size table count).
util::Result<std::optional<std::string>> unpack_image(snapshot::Snapshotter& snapshots,
                                                      content::Store& store,
                                                      const image::Manifest& manifest,
                                                      const image::ImageConfig& config);

} // namespace mason::ops
