// JSON plumbing of the image model.
//
// - parse_json_object(): strict, non-throwing parsing of manifest-like
//   objects: RFC 8259 with UTF-8 only, no duplicate keys (two parsers that
//   pick different duplicates are a known attack on image signing), and the
//   root must be an object.
// - FieldReader: typed access to an object's fields that names the field in
//   every error (`field "layers[2].digest": invalid digest "x": ...`). Rules:
//   unknown fields are ignored; `null` is the same as absent; a present field
//   of the wrong JSON type is an error; integers must be integral JSON numbers.
// - write_json(): output as Go's encoding/json writes it (the field order of
//   the ordered_json as given, `<` `>` `&` U+2028 U+2029 escaped as \u....,
//   compact or indented by two spaces like json.MarshalIndent), so that what
//   mason writes looks like what Docker and BuildKit write.
// - Descriptor and Platform codecs (OCI field order).
//
// Nothing here throws. A FieldReader refers to the JSON value it reads,
// which must outlive it; it is not thread-safe (it records the first error).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mason/image/descriptor.h"
#include "mason/util/error.h"

namespace mason::image {

// Errors (invalid_argument): `invalid JSON: <where and why>`,
// `duplicate key "k"`, `expected a JSON object, got array`.
util::Result<nlohmann::json> parse_json_object(std::string_view raw);

// "string", "integer", "number", "boolean", "array", "object", "null".
std::string_view json_type_name(const nlohmann::json& value);

enum class JsonLayout { compact, indented };

std::string write_json(const nlohmann::ordered_json& value,
                       JsonLayout layout = JsonLayout::compact);
// Appends s as a JSON string literal with Go's escaping; invalid UTF-8 bytes
// become U+FFFD as in Go.
void append_json_string(std::string& out, std::string_view s);
// `s` as a JSON string, quotes included (for messages naming a field).
std::string json_quote(std::string_view s);

enum class Presence { optional, required };

class FieldReader {
public:
  // `object` must be a JSON object; `path` is its own field path, "" at
  // the root ("layers[2]", "config").
  FieldReader(const nlohmann::json& object, std::string path);

  bool ok() const { return !m_error.has_value(); }
  // The first error recorded; only when !ok().
  const util::Error& error() const { return *m_error; }
  // Records `field "<path.key>": <what>` unless an error is already recorded.
  void fail(std::string_view key, const std::string& what);
  // The same for a field given by its whole path ("layers[2]").
  void fail_at(const std::string& path, const std::string& what);
  std::string path_of(std::string_view key) const;

  // The field, or nullptr when absent or null (an error if required).
  const nlohmann::json* field(std::string_view key, Presence presence = Presence::optional);

  std::string string(std::string_view key, Presence presence = Presence::optional);
  std::int64_t integer(std::string_view key, Presence presence = Presence::optional);
  std::int64_t size(std::string_view key, Presence presence = Presence::optional); // >= 0
  bool boolean(std::string_view key);
  std::vector<std::string> strings(std::string_view key, Presence presence = Presence::optional);
  std::map<std::string, std::string> string_map(std::string_view key);
  // An object used as a set (Go's map[string]struct{}): the keys; every
  // value must be an object (or null).
  std::set<std::string> key_set(std::string_view key);
  Digest digest(std::string_view key, Presence presence = Presence::optional);
  std::vector<Digest> digests(std::string_view key, Presence presence = Presence::optional);
  std::optional<Descriptor> descriptor(std::string_view key,
                                       Presence presence = Presence::optional);
  std::vector<Descriptor> descriptors(std::string_view key, Presence presence = Presence::optional);
  std::optional<Platform> platform(std::string_view key);

  // An object field read by `read(FieldReader&) -> T`.
  template <class T, class Read>
  std::optional<T> object(std::string_view key, Presence presence, Read read);
  // An array of objects, each read by `read(FieldReader&) -> T`.
  template <class T, class Read>
  std::vector<T> objects(std::string_view key, Presence presence, Read read);

private:
  const nlohmann::json* typed(std::string_view key, Presence presence,
                              nlohmann::json::value_t type);
  // The path of element i of an array field: "layers[2]".
  std::string element_path(std::string_view key, std::size_t i) const;
  // Takes over the child's error, if any; true when the child was ok.
  bool absorb(const FieldReader& child);
  void record(std::string message);

  const nlohmann::json& m_object;
  std::string m_path;
  std::optional<util::Error> m_error;
};

// Reads a descriptor / platform object (path as for FieldReader).
// Descriptor: mediaType (string), digest (valid digest) and size
// (non-negative integer) required; urls, annotations, data (base64, must
// match size and digest), platform, artifactType optional.
// Platform: architecture and os required; os.version, os.features, variant
// optional. Values are kept as written (not normalised).
Descriptor read_descriptor(FieldReader& reader);
Platform read_platform(FieldReader& reader);
util::Result<Descriptor> descriptor_from_json(const nlohmann::json& value, std::string path = {});
util::Result<Platform> platform_from_json(const nlohmann::json& value, std::string path = {});

// OCI field order, empty optional fields omitted (as Go's omitempty).
nlohmann::ordered_json to_json(const Descriptor& descriptor);
nlohmann::ordered_json to_json(const Platform& platform);
// Strings, maps and sets as JSON arrays / objects (map keys in byte order,
// as Go sorts them); a set becomes {"k":{}, ...}.
nlohmann::ordered_json to_json_array(const std::vector<std::string>& values);
nlohmann::ordered_json to_json_object(const std::map<std::string, std::string>& values);
nlohmann::ordered_json to_json_set(const std::set<std::string>& keys);

// ---------------------------------------------------------------------------

template <class T, class Read>
std::optional<T> FieldReader::object(std::string_view key, Presence presence, Read read) {
  const auto* value = typed(key, presence, nlohmann::json::value_t::object);
  if (value == nullptr) return std::nullopt;
  FieldReader child(*value, path_of(key));
  T result = read(child);
  if (!absorb(child)) return std::nullopt;
  return result;
}

template <class T, class Read>
std::vector<T> FieldReader::objects(std::string_view key, Presence presence, Read read) {
  std::vector<T> result;
  const auto* array = typed(key, presence, nlohmann::json::value_t::array);
  if (array == nullptr) return result;
  for (std::size_t i = 0; i < array->size() && ok(); ++i) {
    const auto& element = (*array)[i];
    const auto path = element_path(key, i);
    if (!element.is_object()) {
      fail_at(path, "expected object, got " + std::string(json_type_name(element)));
      break;
    }
    FieldReader child(element, path);
    T value = read(child);
    if (absorb(child)) result.push_back(std::move(value));
  }
  return result;
}

} // namespace mason::image
