// What a blob is, judged by its media type: the buckets of `mason du`.
// Pure and thread-safe.
#pragma once

#include <string_view>

namespace mason::content {

enum class BlobKind {
  manifest, // image manifests and indexes (OCI and Docker, incl. schema 1)
  config,   // image configurations
  layer,    // filesystem layers, any compression, incl. non-distributable
  other,    // anything else, or unknown (empty media type)
};

BlobKind kind_of(std::string_view media_type);

} // namespace mason::content
