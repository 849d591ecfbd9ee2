#include "mason/cache/record_info.h"

namespace mason::cache {

namespace {

using nlohmann::json;

bool is_string(const json& j, const char* key) { return j.contains(key) && j[key].is_string(); }
bool is_bool(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean(); }

} // namespace

void RecordInfo::write_to(json& record) const {
  record["created_by"] = created_by;
  record["adds_layer"] = adds_layer;
  record["created"] = created;
}

std::optional<RecordInfo> RecordInfo::read_from(const json& record) {
  if (!record.is_object() || !is_string(record, "created_by") || !is_bool(record, "adds_layer"))
    return std::nullopt;
  if (record.contains("created") && !record["created"].is_string()) return std::nullopt;
  RecordInfo info;
  info.created_by = record["created_by"].get<std::string>();
  info.adds_layer = record["adds_layer"].get<bool>();
  info.created = record.value("created", "");
  return info;
}

std::string RecordInfo::encode() const {
  json j = json::object();
  write_to(j);
  if (imported) j["imported"] = true;
  j["inputs"] = inputs;
  return j.dump();
}

std::optional<RecordInfo> RecordInfo::decode(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  auto info = read_from(j);
  if (!info) return std::nullopt;
  if (j.contains("imported") && !j["imported"].is_boolean()) return std::nullopt;
  if (j.contains("inputs") && !j["inputs"].is_object()) return std::nullopt;
  info->imported = j.value("imported", false);
  if (j.contains("inputs")) info->inputs = j["inputs"];
  return info;
}

std::string RecordInfo::step() const {
  return is_string(inputs, "step") ? inputs["step"].get<std::string>() : std::string();
}

std::vector<std::string> RecordInfo::sources() const {
  std::vector<std::string> out;
  if (is_string(inputs, "parent")) out.push_back(inputs["parent"].get<std::string>());
  if (inputs.contains("from") && inputs["from"].is_object())
    for (const auto& [name, value] : inputs["from"].items())
      if (value.is_string()) out.push_back(value.get<std::string>());
  return out;
}

} // namespace mason::cache
