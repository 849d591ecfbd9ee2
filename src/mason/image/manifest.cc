// Manifest and index parsing, serialisation and platform selection.
//
// Parsing: hash the raw bytes first (the digest names the object in every
// error), parse the JSON strictly, check the header (schemaVersion 2; a
// mediaType of the right kind; schema 1 refused as unsupported), then read
// the fields with a FieldReader, which stops at the first bad field. The
// parsed struct keeps the raw bytes untouched.
//
// Selection: rank each index entry with the platform's compatibility vector
// (platform_rank) and stable-sort by (rank, more os.features first), which is
// containerd's orderedPlatformComparer.Less applied to the entries.
#include "mason/image/manifest.h"

#include <algorithm>
#include <utility>

#include "mason/image/media_type.h"
#include "mason/image/platform.h"

namespace mason::image {

namespace {

using OrderedJson = nlohmann::ordered_json;

enum class Kind { manifest, index };

std::string_view kind_name(Kind kind) { return kind == Kind::manifest ? "manifest" : "index"; }

util::Error invalid(std::string message) {
  return util::Error(util::ErrorCode::invalid_argument, std::move(message));
}

// Why a declared mediaType does not fit the kind of object being parsed.
std::string media_type_mismatch(Kind kind, const std::string& media_type) {
  if (kind == Kind::manifest && is_index(media_type))
    return json_quote(media_type) + " is an index, not a manifest";
  if (kind == Kind::index && is_manifest(media_type))
    return json_quote(media_type) + " is a manifest, not an index";
  return "unexpected media type " + json_quote(media_type) + " for " +
         (kind == Kind::manifest ? "a manifest" : "an index");
}

// schemaVersion and mediaType; returns the media type as written.
util::Result<std::string> read_header(FieldReader& r, Kind kind) {
  auto media_type = r.string("mediaType");
  const auto version = r.integer("schemaVersion", Presence::required);
  if (!r.ok()) return std::unexpected(r.error());
  if (is_schema1(media_type) || version == 1) return std::unexpected(schema1_error());
  if (version != 2)
    return std::unexpected(invalid("field \"schemaVersion\": unsupported schema version " +
                                   std::to_string(version) + " (want 2)"));
  const bool fits = kind == Kind::manifest ? is_manifest(media_type) : is_index(media_type);
  if (!media_type.empty() && !fits)
    return std::unexpected(
        invalid("field \"mediaType\": " + media_type_mismatch(kind, media_type)));
  return media_type;
}

// A field that belongs to the other kind makes the object ambiguous.
void refuse_field(FieldReader& r, const nlohmann::json& json, std::string_view key,
                  std::string_view other) {
  if (json.contains(key)) r.fail(key, "not allowed here (the field of " + std::string(other) + ")");
}

std::string artifact_type(FieldReader& r) {
  auto type = r.string("artifactType");
  if (r.ok() && !type.empty() && !is_valid_media_type(type))
    r.fail("artifactType", "invalid media type " + json_quote(type));
  return type;
}

// The shared prelude of parse_manifest and parse_index.
template <class T, class ReadBody>
util::Result<T> parse_object(std::string_view raw, Kind kind, ReadBody read_body) {
  const auto digest = Digest::sha256_of(raw);
  const auto failed = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("parse " + std::string(kind_name(kind)) + " " +
                                                     digest.short_str()));
  };
  auto json = parse_json_object(raw);
  if (!json) return failed(std::move(json.error()));
  FieldReader reader(*json, {});
  auto media_type = read_header(reader, kind);
  if (!media_type) return failed(std::move(media_type.error()));
  T object;
  object.media_type = std::move(*media_type);
  read_body(reader, *json, object);
  if (!reader.ok()) return failed(reader.error());
  object.raw = std::string(raw);
  object.digest = digest;
  return object;
}

void write_common_tail(OrderedJson& j, const std::optional<Descriptor>& subject,
                       const std::map<std::string, std::string>& annotations) {
  if (subject) j["subject"] = to_json(*subject);
  if (!annotations.empty()) j["annotations"] = to_json_object(annotations);
}

OrderedJson header_json(const std::string& media_type, const std::string& artifact) {
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = 2;
  if (!media_type.empty()) j["mediaType"] = media_type;
  if (!artifact.empty()) j["artifactType"] = artifact;
  return j;
}

OrderedJson descriptors_json(const std::vector<Descriptor>& descriptors) {
  OrderedJson j = OrderedJson::array();
  for (const auto& d : descriptors) j.push_back(to_json(d));
  return j;
}

Descriptor descriptor_of(std::string_view media_type, const std::string& raw,
                         const Digest& digest) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = digest;
  d.size = static_cast<std::int64_t>(raw.size());
  return d;
}

bool selectable(const Descriptor& d) {
  return d.platform.has_value() && (is_manifest(d.media_type) || is_index(d.media_type));
}

std::string available_platforms(const Index& index) {
  std::vector<std::string> names;
  for (const auto& d : index.manifests) {
    if (!selectable(d) || d.platform->os == "unknown") continue;
    auto name = format_platform(*d.platform);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (names.empty()) return "none";
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

} // namespace

// ----- Manifest -----

util::Result<Manifest> parse_manifest(std::string_view raw) {
  return parse_object<Manifest>(raw, Kind::manifest,
                                [](FieldReader& r, const nlohmann::json& json, Manifest& m) {
                                  refuse_field(r, json, "manifests", "an index");
                                  m.artifact_type = artifact_type(r);
                                  if (auto config = r.descriptor("config", Presence::required))
                                    m.config = std::move(*config);
                                  m.layers = r.descriptors("layers", Presence::required);
                                  m.subject = r.descriptor("subject");
                                  m.annotations = r.string_map("annotations");
                                });
}

std::string Manifest::serialize(JsonLayout layout) const {
  auto j = header_json(media_type, artifact_type);
  j["config"] = to_json(config);
  j["layers"] = descriptors_json(layers);
  write_common_tail(j, subject, annotations);
  return write_json(j, layout);
}

void Manifest::seal(JsonLayout layout) {
  raw = serialize(layout);
  digest = Digest::sha256_of(raw);
}

Descriptor Manifest::descriptor() const {
  return descriptor_of(media_type.empty() ? media_type::oci_manifest : media_type, raw, digest);
}

bool in_family(const Manifest& m, TypeFamily family) {
  const auto convert = family == TypeFamily::oci ? to_oci : to_docker;
  const auto type =
      m.media_type.empty() ? media_type::oci_manifest : std::string_view(m.media_type);
  if (convert(type) != type || convert(m.config.media_type) != m.config.media_type) return false;
  for (const auto& l : m.layers)
    if (convert(l.media_type) != l.media_type) return false;
  return true;
}

Manifest with_family(const Manifest& m, TypeFamily family) {
  if (family == TypeFamily::docker) {
    bool oci_only = m.subject || !m.artifact_type.empty() || !m.annotations.empty();
    for (const auto& l : m.layers)
      oci_only = oci_only || layer_compression(l.media_type) == Compression::zstd;
    if (oci_only) family = TypeFamily::oci;
  }
  if (in_family(m, family)) return m;
  const auto convert = family == TypeFamily::oci ? to_oci : to_docker;
  Manifest out = m;
  out.media_type = std::string(
      convert(m.media_type.empty() ? media_type::oci_manifest : std::string_view(m.media_type)));
  out.config.media_type = std::string(convert(m.config.media_type));
  for (auto& l : out.layers) l.media_type = std::string(convert(l.media_type));
  out.seal();
  return out;
}

// ----- Index -----

util::Result<Index> parse_index(std::string_view raw) {
  return parse_object<Index>(raw, Kind::index,
                             [](FieldReader& r, const nlohmann::json& json, Index& index) {
                               refuse_field(r, json, "layers", "a manifest");
                               refuse_field(r, json, "config", "a manifest");
                               index.artifact_type = artifact_type(r);
                               index.manifests = r.descriptors("manifests", Presence::required);
                               index.subject = r.descriptor("subject");
                               index.annotations = r.string_map("annotations");
                             });
}

std::string Index::serialize(JsonLayout layout) const {
  auto j = header_json(media_type, artifact_type);
  j["manifests"] = descriptors_json(manifests);
  write_common_tail(j, subject, annotations);
  return write_json(j, layout);
}

void Index::seal(JsonLayout layout) {
  raw = serialize(layout);
  digest = Digest::sha256_of(raw);
}

Descriptor Index::descriptor() const {
  return descriptor_of(media_type.empty() ? media_type::oci_index : media_type, raw, digest);
}

// ----- selection -----

std::vector<Descriptor> matching_manifests(const Index& index, const Platform& wanted) {
  struct Ranked {
    std::size_t rank;
    std::size_t features;
    const Descriptor* descriptor;
  };
  std::vector<Ranked> ranked;
  for (const auto& d : index.manifests) {
    if (!selectable(d)) continue;
    if (const auto rank = platform_rank(wanted, *d.platform))
      ranked.push_back({*rank, d.platform->os_features.size(), &d});
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.features > b.features;
  });
  std::vector<Descriptor> out;
  out.reserve(ranked.size());
  for (const auto& r : ranked) out.push_back(*r.descriptor);
  return out;
}

util::Result<Descriptor> select_manifest(const Index& index, const Platform& wanted) {
  auto matches = matching_manifests(index, wanted);
  if (!matches.empty()) return std::move(matches.front());
  std::string message = "no manifest for platform " + format_platform(wanted) + " in index";
  if (!index.digest.empty()) message += " " + index.digest.short_str();
  message += "; available: " + available_platforms(index);
  return std::unexpected(util::Error(util::ErrorCode::not_found, std::move(message)));
}

} // namespace mason::image
