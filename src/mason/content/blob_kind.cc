// Media type -> kind by the naming conventions of the OCI and Docker
// specs: "...manifest..." (incl. Docker's manifest lists) and
// "...image.index..." are manifests, "...image.config..." and Docker's "container.image" are
// configs, "...image.layer..." and Docker's "image.rootfs..." are layers.
#include "mason/content/blob_kind.h"

namespace mason::content {

BlobKind kind_of(std::string_view media_type) {
  const auto has = [&](std::string_view part) {
    return media_type.find(part) != std::string_view::npos;
  };
  if (has(".image.layer.") || has(".image.rootfs.")) return BlobKind::layer;
  if (has(".image.config.") || has(".container.image.")) return BlobKind::config;
  if (has(".image.index.") || has(".manifest.")) return BlobKind::manifest;
  return BlobKind::other;
}

} // namespace mason::content
