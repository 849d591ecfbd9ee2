// `mason save`: images from the store into the archive formats other
// tools read:
//   docker_archive  what `docker save` writes and `docker load` reads:
//                   manifest.json, <config>.json, <diff_id>/layer.tar
//                   (uncompressed), repositories
//   oci_archive     an OCI image layout in a tar
//   oci_dir         an OCI image layout directory (oci-layout, index.json,
//                   blobs/sha256/...); each image's entry in index.json has
//                   the annotations org.opencontainers.image.ref.name (the
//                   tag, as skopeo's oci:DIR:TAG expects) and
//                   io.containerd.image.name (the full name)
// Files are written next to the destination and renamed into place, so a
// failed save leaves no half-written archive.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mason/content/store.h"
#include "mason/exporter/local_image.h"
#include "mason/util/error.h"

namespace mason::exporter {

enum class SaveFormat { docker_archive, oci_archive, oci_dir };

util::Result<SaveFormat> parse_save_format(std::string_view name);

struct SaveItem {
  LocalImage image;
  std::vector<std::string> tags; // normalised names to record; may be empty
};

// Writes `items` to `dest` (a file, or a directory for oci_dir; "-" writes
// an archive to standard output). An OCI layout holds each manifest in one
// family of media types: `types`, by default OCI (what umoci and other
// layout readers expect); a stored manifest of the other family is
// converted (image::with_family) and the converted bytes written to the
// layout only. A docker archive names no media types.
util::Status save_images(const content::Store& store, const std::vector<SaveItem>& items,
                         SaveFormat format, const std::filesystem::path& dest,
                         image::TypeFamily types = image::TypeFamily::oci);

} // namespace mason::exporter
