// Media type classification: which strings name a manifest, an index, a
// config or a layer (and how the layer is compressed), the Docker <-> OCI
// equivalents, and detection of the kind of a manifest-like object whose
// `mediaType` field is absent (OCI allows that).
//
// All functions are pure and thread-safe. Comparisons are exact (media types
// are case-sensitive strings in the registries we talk to); parameters such
// as `; charset=utf-8` are not accepted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mason/image/descriptor.h"
#include "mason/util/error.h"

namespace mason::image {

namespace media_type {
inline constexpr std::string_view docker_layer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view docker_layer_zstd =
    "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view docker_layer_foreign =
    "application/vnd.docker.image.rootfs.foreign.diff.tar";
inline constexpr std::string_view oci_layer_nondistributable =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view oci_layer_nondistributable_gzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view oci_layer_nondistributable_zstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view oci_empty = "application/vnd.oci.empty.v1+json";
} // namespace media_type

enum class Compression { none, gzip, zstd };

std::string_view to_string(Compression compression); // "none", "gzip", "zstd"

// RFC 6838 syntax as the OCI JSON schemas check it: `type/subtype`, each
// 1-127 of [A-Za-z0-9!#$&^_.+-] starting with a letter or digit.
bool is_valid_media_type(std::string_view media_type);

// OCI image manifest or Docker schema 2 manifest.
bool is_manifest(std::string_view media_type);
// OCI image index or Docker manifest list.
bool is_index(std::string_view media_type);
// Docker schema 1 manifests (signed or not): recognised only to be refused.
bool is_schema1(std::string_view media_type);
// OCI or Docker image config.
bool is_config(std::string_view media_type);
// Every OCI and Docker layer type mason can apply (including the
// nondistributable/foreign ones); not encrypted layers.
bool is_layer(std::string_view media_type);

// The compression of a layer media type; nullopt when it is not a layer type.
std::optional<Compression> layer_compression(std::string_view media_type);

// The OCI layer media type for a compression (oci_layer, oci_layer_gzip,
// oci_layer_zstd) and the Docker one (docker_layer, docker_layer_gzip,
// docker_layer_zstd).
std::string_view oci_layer_type(Compression compression);
std::string_view docker_layer_type(Compression compression);

// Docker <-> OCI equivalents, as BuildKit converts them when exporting with
// or without OCI media types: manifest <-> manifest, manifest list <-> index,
// config <-> config, layer <-> layer of the same compression, foreign <->
// nondistributable. A type with no counterpart is returned unchanged.
std::string_view to_oci(std::string_view media_type);
std::string_view to_docker(std::string_view media_type);

// The error every parser returns for a schema 1 manifest (unsupported).
util::Error schema1_error();

// Decides the media type of a manifest-like object: its `mediaType` field
// when present, else by its fields (`manifests` -> OCI index; `layers` ->
// OCI manifest; `config` decides nothing, image configs have one too).
// Errors: invalid JSON or not an object (invalid_argument); both
// `manifests` and `layers`, or neither (invalid_argument); schema 1
// (unsupported).
util::Result<std::string> detect_media_type(std::string_view raw);

} // namespace mason::image
