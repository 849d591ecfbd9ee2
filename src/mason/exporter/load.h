// `mason load`: reads what `docker save` writes (manifest.json, with layers
// as plain or compressed tars in any folder layout, including the OCI
// layout of newer docker versions) and OCI image layouts in a tar, into the
// store. Every blob is verified: layers against the config's diff_ids,
// OCI blobs against their descriptors. The archive is unpacked into a
// private directory under the store root (never outside it) and removed
// afterwards; on any error no name is changed.
#pragma once

#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/exporter/local_image.h"
#include "mason/util/error.h"

namespace mason::exporter {

// Loads every image of the archive read from `fd`.
util::Result<std::vector<LocalImage>> load_archive(content::Store& store, int fd);

} // namespace mason::exporter
