// Image manifests and indexes: the OCI image manifest and Docker schema 2
// manifest (one shape), the OCI image index and Docker manifest list (one
// shape), and choosing an index entry for a platform.
//
// Byte-exactness: a parsed object keeps the exact bytes it was parsed from
// (`raw`) and their digest; those bytes are what is stored and pushed, never
// a re-serialisation, so digests of pulled or loaded objects never change.
// Unknown fields are tolerated and survive in `raw`. serialize() is for the
// objects mason creates (and drops unknown fields).
//
// Values; no shared state; not synchronised.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/image/descriptor.h"
#include "mason/image/json.h"
#include "mason/util/error.h"

namespace mason::image {

struct Manifest {
  std::string media_type; // as written; empty when the object has none (OCI allows it)
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  std::string raw; // the exact bytes (parsed, or set by seal())
  Digest digest;   // sha256 of raw

  // JSON in Go's field order (schemaVersion, mediaType, artifactType,
  // config, layers, subject, annotations; empty optional fields omitted),
  // compact or indented as BuildKit writes manifests.
  std::string serialize(JsonLayout layout = JsonLayout::compact) const;
  // raw = serialize(layout); digest = sha256(raw). For objects mason creates.
  void seal(JsonLayout layout = JsonLayout::compact);
  // The descriptor pointing at raw (media type: media_type, or the OCI
  // manifest type when empty).
  Descriptor descriptor() const;

  bool operator==(const Manifest&) const = default;
};

struct Index {
  std::string media_type; // as written; may be empty
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  std::string raw;
  Digest digest;

  // Go's field order: schemaVersion, mediaType, artifactType, manifests,
  // subject, annotations.
  std::string serialize(JsonLayout layout = JsonLayout::compact) const;
  void seal(JsonLayout layout = JsonLayout::compact);
  Descriptor descriptor() const;

  bool operator==(const Index&) const = default;
};

// Strict parsing. Every error carries the context `parse manifest
// sha256:<12 hex>` (or `parse index ...`) and names the field:
//   parse manifest sha256:0123456789ab: field "layers[2].digest": invalid digest "x": ...
// Rules: the object must be JSON with no duplicate keys; schemaVersion must
// be 2 (1, or a schema 1 mediaType, is `unsupported`: schema 1 manifests
// are not supported); mediaType, when present, must be a manifest type (an
// index type for parse_index); config (manifest) and layers / manifests
// (index) are required; every descriptor needs mediaType, a valid digest
// and a non-negative integer size. Other errors are invalid_argument.
util::Result<Manifest> parse_manifest(std::string_view raw);
util::Result<Index> parse_index(std::string_view raw);

// One family of media types for a whole manifest, as BuildKit's exporters
// write it (oci-mediatypes=true|false): the manifest, its config and every
// layer in OCI types, or all in Docker schema 2 types.
enum class TypeFamily { oci, docker };

// Does every type of `m` (manifest, config, layers) belong to `family`? A
// manifest without mediaType counts as OCI.
bool in_family(const Manifest& m, TypeFamily family);

// `m` with every type converted to `family` (media_type.h to_oci /
// to_docker: gzip stays gzip, foreign <-> nondistributable), sealed anew
// when anything changed (compact JSON; the digest changes, the blobs do
// not). Docker schema 2 cannot express zstd layers, a subject, an
// artifactType or manifest annotations: asked for Docker types, such a
// manifest comes back in OCI types (BuildKit forces OCI types for zstd too).
Manifest with_family(const Manifest& m, TypeFamily family);

// The index entries that run on `wanted`, best first (containerd's default
// matcher; ties keep the index's order, more os.features first). Entries
// without a platform, and entries that are not manifests or indexes, are
// never chosen.
std::vector<Descriptor> matching_manifests(const Index& index, const Platform& wanted);
// The best one. Error (not_found): `no manifest for platform linux/s390x in
// index sha256:...; available: linux/amd64, linux/arm64`.
util::Result<Descriptor> select_manifest(const Index& index, const Platform& wanted);

} // namespace mason::image
