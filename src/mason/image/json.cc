// Strict reading and Go-compatible writing of JSON.
//
// Reading: nlohmann's parser with a callback that keeps one key set per open
// object, so a duplicate key is seen while parsing; parse exceptions are
// caught here and become Results. FieldReader records the first error only
// (later reads are harmless no-ops returning defaults), so a reader function
// is a flat list of field reads followed by one ok() check.
//
// Writing: a recursive walk of an ordered_json in its insertion order,
// escaping strings as Go's encoding/json does (HTML-safe, \b \f \n \r \t,
// other controls as \u00xx, U+2028/2029 escaped, invalid UTF-8 -> U+FFFD)
// and indenting as json.MarshalIndent(v, "", "  ") does.
#include "mason/image/json.h"

#include <array>
#include <cstddef>
#include <limits>
#include <utility>

#include "mason/image/media_type.h"
#include "mason/util/base64.h"
#include "mason/util/utf8.h"

namespace mason::image {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

util::Error invalid(std::string message) {
  return util::Error(util::ErrorCode::invalid_argument, std::move(message));
}

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string_view strip_exception_id(std::string_view what) {
  const auto close = what.find("] ");
  return close == std::string_view::npos ? what : what.substr(close + 2);
}

// ----- writing -----

void append_unicode_escape(std::string& out, char32_t r) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += k_hex[(r >> shift) & 0xFU];
}

// One ASCII byte as Go writes it inside a string.
void append_ascii(std::string& out, char c) {
  switch (c) {
  case '"': out += "\\\""; return;
  case '\\': out += "\\\\"; return;
  case '\b': out += "\\b"; return;
  case '\f': out += "\\f"; return;
  case '\n': out += "\\n"; return;
  case '\r': out += "\\r"; return;
  case '\t': out += "\\t"; return;
  case '<':
  case '>':
  case '&': append_unicode_escape(out, static_cast<char32_t>(c)); return;
  default: break;
  }
  if (static_cast<unsigned char>(c) < 0x20)
    append_unicode_escape(out, static_cast<char32_t>(c));
  else
    out += c;
}

void newline(std::string& out, JsonLayout layout, std::size_t depth) {
  if (layout == JsonLayout::compact) return;
  out += '\n';
  out.append(2 * depth, ' ');
}

void write_value(std::string& out, const OrderedJson& v, JsonLayout layout, std::size_t depth);

void write_object(std::string& out, const OrderedJson& v, JsonLayout layout, std::size_t depth) {
  if (v.empty()) {
    out += "{}";
    return;
  }
  out += '{';
  bool first = true;
  for (const auto& [key, value] : v.items()) {
    if (!first) out += ',';
    first = false;
    newline(out, layout, depth + 1);
    append_json_string(out, key);
    out += layout == JsonLayout::compact ? ":" : ": ";
    write_value(out, value, layout, depth + 1);
  }
  newline(out, layout, depth);
  out += '}';
}

void write_array(std::string& out, const OrderedJson& v, JsonLayout layout, std::size_t depth) {
  if (v.empty()) {
    out += "[]";
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    newline(out, layout, depth + 1);
    write_value(out, v[i], layout, depth + 1);
  }
  newline(out, layout, depth);
  out += ']';
}

void write_value(std::string& out, const OrderedJson& v, JsonLayout layout, std::size_t depth) {
  switch (v.type()) {
  case OrderedJson::value_t::object: write_object(out, v, layout, depth); return;
  case OrderedJson::value_t::array: write_array(out, v, layout, depth); return;
  case OrderedJson::value_t::string:
    append_json_string(out, v.get_ref<const std::string&>());
    return;
  case OrderedJson::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
  case OrderedJson::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); return;
  case OrderedJson::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); return;
  case OrderedJson::value_t::number_float: out += v.dump(); return;
  default: out += "null"; return;
  }
}

} // namespace

// ----- parsing -----

util::Result<nlohmann::json> parse_json_object(std::string_view raw) {
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  const Json::parser_callback_t track_keys = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && !duplicate) duplicate = key;
    }
    return true;
  };
  Json value;
  try {
    value = Json::parse(raw.begin(), raw.end(), track_keys);
  } catch (const Json::exception& e) {
    return std::unexpected(invalid("invalid JSON: " + std::string(strip_exception_id(e.what()))));
  }
  if (duplicate) return std::unexpected(invalid("duplicate key " + json_quote(*duplicate)));
  if (!value.is_object())
    return std::unexpected(
        invalid("expected a JSON object, got " + std::string(json_type_name(value))));
  return value;
}

std::string_view json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
  case Json::value_t::string: return "string";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned: return "integer";
  case Json::value_t::number_float: return "number";
  case Json::value_t::boolean: return "boolean";
  case Json::value_t::array: return "array";
  case Json::value_t::object: return "object";
  default: return "null";
  }
}

// ----- writing -----

std::string write_json(const nlohmann::ordered_json& value, JsonLayout layout) {
  std::string out;
  write_value(out, value, layout, 0);
  return out;
}

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      append_ascii(out, s[i]);
      ++i;
      continue;
    }
    const auto decoded = util::decode_rune(s, i);
    if (!decoded.valid)
      append_unicode_escape(out, util::k_replacement_char);
    else if (decoded.rune == U'\u2028' || decoded.rune == U'\u2029')
      append_unicode_escape(out, decoded.rune);
    else
      out.append(s.substr(i, decoded.width));
    i += decoded.width;
  }
  out += '"';
}

// ----- FieldReader -----

FieldReader::FieldReader(const nlohmann::json& object, std::string path)
    : m_object(object), m_path(std::move(path)) {}

std::string FieldReader::path_of(std::string_view key) const {
  if (m_path.empty()) return std::string(key);
  if (key.empty()) return m_path;
  return m_path + "." + std::string(key);
}

std::string FieldReader::element_path(std::string_view key, std::size_t i) const {
  return path_of(key) + "[" + std::to_string(i) + "]";
}

void FieldReader::record(std::string message) {
  if (!m_error) m_error.emplace(util::ErrorCode::invalid_argument, std::move(message));
}

void FieldReader::fail(std::string_view key, const std::string& what) {
  fail_at(path_of(key), what);
}

void FieldReader::fail_at(const std::string& path, const std::string& what) {
  record("field " + json_quote(path) + ": " + what);
}

bool FieldReader::absorb(const FieldReader& child) {
  if (child.ok()) return true;
  if (!m_error) m_error = child.m_error;
  return false;
}

const nlohmann::json* FieldReader::field(std::string_view key, Presence presence) {
  if (!ok()) return nullptr;
  const auto it = m_object.find(key);
  if (it == m_object.end() || it->is_null()) {
    if (presence == Presence::required)
      record("missing required field " + json_quote(path_of(key)));
    return nullptr;
  }
  return &*it;
}

const nlohmann::json* FieldReader::typed(std::string_view key, Presence presence,
                                         nlohmann::json::value_t type) {
  const auto* value = field(key, presence);
  if (value == nullptr) return nullptr;
  const bool integral = type == Json::value_t::number_integer;
  const bool matches = integral ? value->is_number_integer() : value->type() == type;
  if (matches) return value;
  const Json want(type);
  fail(key, "expected " + std::string(integral ? "integer" : json_type_name(want)) + ", got " +
                std::string(json_type_name(*value)));
  return nullptr;
}

std::string FieldReader::string(std::string_view key, Presence presence) {
  const auto* value = typed(key, presence, Json::value_t::string);
  return value == nullptr ? std::string() : value->get<std::string>();
}

std::int64_t FieldReader::integer(std::string_view key, Presence presence) {
  const auto* value = typed(key, presence, Json::value_t::number_integer);
  if (value == nullptr) return 0;
  if (value->is_number_unsigned() &&
      value->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    fail(key, "integer " + value->dump() + " out of range");
    return 0;
  }
  return value->get<std::int64_t>();
}

std::int64_t FieldReader::size(std::string_view key, Presence presence) {
  const auto n = integer(key, presence);
  if (n >= 0) return n;
  fail(key, "invalid size " + std::to_string(n) + ": must not be negative");
  return 0;
}

bool FieldReader::boolean(std::string_view key) {
  const auto* value = typed(key, Presence::optional, Json::value_t::boolean);
  return value != nullptr && value->get<bool>();
}

std::vector<std::string> FieldReader::strings(std::string_view key, Presence presence) {
  std::vector<std::string> result;
  const auto* array = typed(key, presence, Json::value_t::array);
  if (array == nullptr) return result;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto& element = (*array)[i];
    if (!element.is_string()) {
      fail_at(element_path(key, i), "expected string, got " + std::string(json_type_name(element)));
      return {};
    }
    result.push_back(element.get<std::string>());
  }
  return result;
}

std::map<std::string, std::string> FieldReader::string_map(std::string_view key) {
  std::map<std::string, std::string> result;
  const auto* object = typed(key, Presence::optional, Json::value_t::object);
  if (object == nullptr) return result;
  for (const auto& [name, value] : object->items()) {
    if (!value.is_string()) {
      fail_at(path_of(key) + "." + name,
              "expected string, got " + std::string(json_type_name(value)));
      return {};
    }
    result.emplace(name, value.get<std::string>());
  }
  return result;
}

std::set<std::string> FieldReader::key_set(std::string_view key) {
  std::set<std::string> result;
  const auto* object = typed(key, Presence::optional, Json::value_t::object);
  if (object == nullptr) return result;
  for (const auto& [name, value] : object->items()) {
    if (!value.is_object() && !value.is_null()) {
      fail_at(path_of(key) + "." + name,
              "expected object, got " + std::string(json_type_name(value)));
      return {};
    }
    result.insert(name);
  }
  return result;
}

Digest FieldReader::digest(std::string_view key, Presence presence) {
  const auto text = string(key, presence);
  if (!ok() || (text.empty() && field(key) == nullptr)) return {};
  auto parsed = Digest::parse(text);
  if (parsed) return *parsed;
  fail(key, parsed.error().message());
  return {};
}

std::vector<Digest> FieldReader::digests(std::string_view key, Presence presence) {
  const auto texts = strings(key, presence);
  std::vector<Digest> result;
  for (std::size_t i = 0; i < texts.size() && ok(); ++i) {
    auto parsed = Digest::parse(texts[i]);
    if (!parsed) {
      fail_at(element_path(key, i), parsed.error().message());
      return {};
    }
    result.push_back(*parsed);
  }
  return result;
}

std::optional<Descriptor> FieldReader::descriptor(std::string_view key, Presence presence) {
  return object<Descriptor>(key, presence, read_descriptor);
}

std::vector<Descriptor> FieldReader::descriptors(std::string_view key, Presence presence) {
  return objects<Descriptor>(key, presence, read_descriptor);
}

std::optional<Platform> FieldReader::platform(std::string_view key) {
  return object<Platform>(key, Presence::optional, read_platform);
}

// ----- Descriptor and Platform -----

namespace {

// `data` embeds the content itself: it must be what size and digest say.
std::string read_embedded_data(FieldReader& r, const Descriptor& d) {
  const auto text = r.string("data");
  if (text.empty()) return {};
  auto data = util::base64_decode(text);
  if (!data) {
    r.fail("data", "invalid base64");
    return {};
  }
  if (static_cast<std::int64_t>(data->size()) != d.size) {
    r.fail("data", std::to_string(data->size()) + " bytes, but size is " + std::to_string(d.size));
    return {};
  }
  if (d.digest.algorithm() == "sha256" && Digest::sha256_of(*data) != d.digest) {
    r.fail("data", "content does not match digest " + d.digest.str());
    return {};
  }
  return std::move(*data);
}

} // namespace

Descriptor read_descriptor(FieldReader& r) {
  Descriptor d;
  d.media_type = r.string("mediaType", Presence::required);
  if (r.ok() && !is_valid_media_type(d.media_type))
    r.fail("mediaType", "invalid media type " + json_quote(d.media_type));
  d.digest = r.digest("digest", Presence::required);
  d.size = r.size("size", Presence::required);
  d.urls = r.strings("urls");
  d.annotations = r.string_map("annotations");
  if (r.ok()) d.data = read_embedded_data(r, d);
  d.platform = r.platform("platform");
  d.artifact_type = r.string("artifactType");
  return d;
}

Platform read_platform(FieldReader& r) {
  Platform p;
  p.architecture = r.string("architecture", Presence::required);
  p.os = r.string("os", Presence::required);
  p.os_version = r.string("os.version");
  p.os_features = r.strings("os.features");
  p.variant = r.string("variant");
  return p;
}

util::Result<Descriptor> descriptor_from_json(const nlohmann::json& value, std::string path) {
  if (!value.is_object())
    return std::unexpected(invalid("field " + json_quote(path) + ": expected object, got " +
                                   std::string(json_type_name(value))));
  FieldReader reader(value, std::move(path));
  auto d = read_descriptor(reader);
  if (!reader.ok()) return std::unexpected(reader.error());
  return d;
}

util::Result<Platform> platform_from_json(const nlohmann::json& value, std::string path) {
  if (!value.is_object())
    return std::unexpected(invalid("field " + json_quote(path) + ": expected object, got " +
                                   std::string(json_type_name(value))));
  FieldReader reader(value, std::move(path));
  auto p = read_platform(reader);
  if (!reader.ok()) return std::unexpected(reader.error());
  return p;
}

nlohmann::ordered_json to_json(const Descriptor& d) {
  OrderedJson j = OrderedJson::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.urls.empty()) j["urls"] = to_json_array(d.urls);
  if (!d.annotations.empty()) j["annotations"] = to_json_object(d.annotations);
  if (!d.data.empty()) j["data"] = util::base64_encode(d.data);
  if (d.platform) j["platform"] = to_json(*d.platform);
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

nlohmann::ordered_json to_json(const Platform& p) {
  OrderedJson j = OrderedJson::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = to_json_array(p.os_features);
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

nlohmann::ordered_json to_json_array(const std::vector<std::string>& values) {
  OrderedJson j = OrderedJson::array();
  for (const auto& v : values) j.push_back(v);
  return j;
}

nlohmann::ordered_json to_json_object(const std::map<std::string, std::string>& values) {
  OrderedJson j = OrderedJson::object();
  for (const auto& [k, v] : values) j[k] = v;
  return j;
}

nlohmann::ordered_json to_json_set(const std::set<std::string>& keys) {
  OrderedJson j = OrderedJson::object();
  for (const auto& k : keys) j[k] = OrderedJson::object();
  return j;
}

} // namespace mason::image
