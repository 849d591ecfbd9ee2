// Images in the local store: finding one by name or ID, and writing a new
// one (config + manifest blobs, references for GC, tags).
//
// An image is a manifest (OCI or Docker schema 2) tagged by a normalised
// reference. Untagged images (loaded without a name) are kept under the
// name `@sha256:<manifest hex>` so GC keeps them; they show as <none>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/content/store.h"
#include "mason/image/config.h"
#include "mason/image/manifest.h"
#include "mason/util/error.h"

namespace mason::exporter {

struct LocalImage {
  std::vector<std::string> names; // store names pointing at this manifest
  image::Descriptor target;       // the manifest
  image::Manifest manifest;
  image::ImageConfig config;
};

// Finds an image in the local store (what FROM, COPY --from, `mason run`,
// save, push and tag start from) by reference (`busybox`,
// `docker.io/library/busybox:1`), by image ID (config digest,
// `sha256:<hex>` or a unique hex prefix of at least 4 digits), or by
// manifest digest. Nothing is pulled. An index is resolved to the manifest
// for the host platform. not_found names what was looked for.
util::Result<LocalImage> find_local_image(const content::Store& store, std::string_view what);

// All images in the store, one entry per manifest (names grouped).
util::Result<std::vector<LocalImage>> list_local_images(const content::Store& store);

// Stores `config` (sealed here unless it carries its raw bytes already)
// and a manifest over `layers`, records the blob references and points
// every name in `tags` (normalised references) at it. With no tags nothing
// is tagged: the caller tags (or keeps it as untagged). The manifest, the
// config and every layer descriptor get the media types of `family`
// (image::with_family: layers inherited from a base of the other family
// are converted; zstd layers force OCI types). Returns the image.
util::Result<LocalImage> store_image(content::Store& store, image::ImageConfig config,
                                     const std::vector<image::Descriptor>& layers,
                                     const std::vector<std::string>& tags,
                                     image::TypeFamily family = image::TypeFamily::oci);

// Normalises a user-given name for tagging (`busybox` ->
// `docker.io/library/busybox:latest`); digests are not allowed in tags.
util::Result<std::string> normalize_tag(std::string_view name);

// The display form of a store name: `busybox:latest`, or "" for an
// untagged image's internal name.
std::string display_name(std::string_view store_name);

// The uncompressed size of the image's layers (docker's "Size"), each as
// remember_uncompressed_size gives it.
util::Result<std::int64_t> image_size(content::Store& store, const LocalImage& img);

// One layer's uncompressed size if known without reading the blob: its
// size when stored uncompressed, or the size the store keeps for it.
std::optional<std::int64_t> known_uncompressed_size(const content::Store& store,
                                                    const image::Descriptor& layer);

// One layer's uncompressed size: its blob size when stored uncompressed,
// else the size the store keeps for the blob (BlobInfo::unpacked_size),
// else by decompressing it.
util::Result<std::int64_t> layer_uncompressed_size(const content::Store& store,
                                                   const image::Descriptor& layer);
// The same, and a size counted by decompressing is kept in the store, so
// that it is counted once per blob.
util::Result<std::int64_t> remember_uncompressed_size(content::Store& store,
                                                      const image::Descriptor& layer);

inline constexpr std::string_view k_untagged_prefix = "@";

} // namespace mason::exporter
