// Media type tables. Layer types are one table of (media type, compression,
// OCI equivalent, Docker equivalent) rows, the same pairs BuildKit's
// util/compression converts between; the other kinds are small sets.
// detect_media_type() follows the OCI image-spec's guidance for objects
// without a mediaType: an index has `manifests`, a manifest has `config` and
// `layers`; anything with both or neither is refused rather than guessed.
#include "mason/image/media_type.h"

#include <array>

#include "mason/image/json.h"

namespace mason::image {

namespace {

namespace mt = media_type;

struct LayerType {
  std::string_view media_type;
  Compression compression;
  std::string_view oci;
  std::string_view docker;
};

constexpr std::array k_layer_types = {
    LayerType{mt::oci_layer, Compression::none, mt::oci_layer, mt::docker_layer},
    LayerType{mt::oci_layer_gzip, Compression::gzip, mt::oci_layer_gzip, mt::docker_layer_gzip},
    LayerType{mt::oci_layer_zstd, Compression::zstd, mt::oci_layer_zstd, mt::docker_layer_zstd},
    LayerType{mt::oci_layer_nondistributable, Compression::none, mt::oci_layer_nondistributable,
              mt::docker_layer_foreign},
    LayerType{mt::oci_layer_nondistributable_gzip, Compression::gzip,
              mt::oci_layer_nondistributable_gzip, mt::docker_layer_foreign_gzip},
    LayerType{mt::oci_layer_nondistributable_zstd, Compression::zstd,
              mt::oci_layer_nondistributable_zstd, mt::oci_layer_nondistributable_zstd},
    LayerType{mt::docker_layer, Compression::none, mt::oci_layer, mt::docker_layer},
    LayerType{mt::docker_layer_gzip, Compression::gzip, mt::oci_layer_gzip, mt::docker_layer_gzip},
    LayerType{mt::docker_layer_zstd, Compression::zstd, mt::oci_layer_zstd, mt::docker_layer_zstd},
    LayerType{mt::docker_layer_foreign, Compression::none, mt::oci_layer_nondistributable,
              mt::docker_layer_foreign},
    LayerType{mt::docker_layer_foreign_gzip, Compression::gzip, mt::oci_layer_nondistributable_gzip,
              mt::docker_layer_foreign_gzip},
};

const LayerType* find_layer(std::string_view media_type) {
  for (const auto& row : k_layer_types)
    if (row.media_type == media_type) return &row;
  return nullptr;
}

// The equivalents of the non-layer kinds, OCI first.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> k_pairs = {{
    {mt::oci_manifest, mt::docker_manifest},
    {mt::oci_index, mt::docker_manifest_list},
    {mt::oci_config, mt::docker_config},
}};

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_media_type_char(char c) {
  return is_alnum(c) || std::string_view("!#$&^_.+-").find(c) != std::string_view::npos;
}

bool is_media_type_part(std::string_view part) {
  if (part.empty() || part.size() > 127 || !is_alnum(part[0])) return false;
  for (char c : part)
    if (!is_media_type_char(c)) return false;
  return true;
}

util::Error invalid(std::string message) {
  return util::Error(util::ErrorCode::invalid_argument, std::move(message));
}

} // namespace

util::Error schema1_error() {
  return util::Error(util::ErrorCode::unsupported,
                     "schema 1 manifests are not supported; the image must be pushed again with a "
                     "current client (Docker schema 2 or OCI)");
}

std::string_view to_string(Compression compression) {
  switch (compression) {
  case Compression::none: return "none";
  case Compression::gzip: return "gzip";
  case Compression::zstd: return "zstd";
  }
  return "none";
}

bool is_valid_media_type(std::string_view media_type) {
  const auto slash = media_type.find('/');
  if (slash == std::string_view::npos) return false;
  return is_media_type_part(media_type.substr(0, slash)) &&
         is_media_type_part(media_type.substr(slash + 1));
}

bool is_manifest(std::string_view media_type) {
  return media_type == mt::oci_manifest || media_type == mt::docker_manifest;
}

bool is_index(std::string_view media_type) {
  return media_type == mt::oci_index || media_type == mt::docker_manifest_list;
}

bool is_schema1(std::string_view media_type) {
  return media_type == mt::docker_manifest_v1 || media_type == mt::docker_manifest_v1_signed;
}

bool is_config(std::string_view media_type) {
  return media_type == mt::oci_config || media_type == mt::docker_config;
}

bool is_layer(std::string_view media_type) { return find_layer(media_type) != nullptr; }

std::optional<Compression> layer_compression(std::string_view media_type) {
  const auto* row = find_layer(media_type);
  if (row == nullptr) return std::nullopt;
  return row->compression;
}

std::string_view oci_layer_type(Compression compression) {
  switch (compression) {
  case Compression::gzip: return mt::oci_layer_gzip;
  case Compression::zstd: return mt::oci_layer_zstd;
  case Compression::none: break;
  }
  return mt::oci_layer;
}

std::string_view docker_layer_type(Compression compression) {
  switch (compression) {
  case Compression::gzip: return mt::docker_layer_gzip;
  case Compression::zstd: return mt::docker_layer_zstd;
  case Compression::none: break;
  }
  return mt::docker_layer;
}

std::string_view to_oci(std::string_view media_type) {
  if (const auto* row = find_layer(media_type)) return row->oci;
  for (const auto& [oci, docker] : k_pairs)
    if (media_type == docker) return oci;
  return media_type;
}

std::string_view to_docker(std::string_view media_type) {
  if (const auto* row = find_layer(media_type)) return row->docker;
  for (const auto& [oci, docker] : k_pairs)
    if (media_type == oci) return docker;
  return media_type;
}

util::Result<std::string> detect_media_type(std::string_view raw) {
  MASON_TRY_ASSIGN(auto json, parse_json_object(raw));
  FieldReader reader(json, {});
  auto declared = reader.string("mediaType");
  const auto version = reader.field("schemaVersion");
  if (!reader.ok()) return std::unexpected(reader.error());
  if (is_schema1(declared) || (version != nullptr && *version == 1))
    return std::unexpected(schema1_error());
  if (!declared.empty()) return declared;
  // Not `config`: an image config has a `config` field too.
  const bool has_manifests = json.contains("manifests");
  const bool has_layers = json.contains("layers");
  if (has_manifests && has_layers)
    return std::unexpected(
        invalid("ambiguous object: it has both \"manifests\" (index) and \"layers\" (manifest)"));
  if (has_manifests) return std::string(mt::oci_index);
  if (has_layers) return std::string(mt::oci_manifest);
  return std::unexpected(
      invalid("not a manifest or an index: no mediaType, \"manifests\" or \"layers\" field"));
}

} // namespace mason::image
