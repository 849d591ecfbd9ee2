// `mason import`: a root filesystem tarball (plain, gzip or zstd) becomes a
// one-layer image, like `docker import`. --change lines are Dockerfile
// instructions applied to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
// ONBUILD, USER, VOLUME, WORKDIR, as docker allows).
#pragma once

#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/exporter/local_image.h"
#include "mason/util/error.h"

namespace mason::engine {

struct ImportOptions {
  std::vector<std::string> changes;
  std::string source = "-"; // for the history comment "Imported from <source>"
};

// Reads the tarball from `fd`, stores it as a gzip layer and tags `name`.
// The tar is checked entry by entry; a bad tarball leaves no image.
util::Result<exporter::LocalImage>
import_rootfs(content::Store& store, int fd, const std::string& name, const ImportOptions& options);

} // namespace mason::engine
