#include "mason/cli/flags.h"

#include <functional>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "mason/sys/file.h"
#include "mason/util/strings.h"

namespace mason::cli {

using engine::CacheSpec;
using engine::OutputSpec;
using engine::OutputType;
using engine::SecretSource;

namespace {

// An exporter's boolean key as BuildKit reads it: Go's strconv.ParseBool,
// and a key given without a value means true.
std::optional<bool> exporter_bool(const std::string& v) {
  return v.empty() ? std::optional<bool>(true) : util::parse_go_bool(v);
}

// Calls `field(key, value)` for each `key=value` of a comma-separated
// flag value (docker's --secret/--output syntax); stops at the first error.
util::Status
for_each_field(std::string_view value,
               const std::function<util::Status(const std::string&, const std::string&)>& field) {
  std::size_t pos = 0;
  for (;;) {
    const auto comma = value.find(',', pos);
    const auto f =
        value.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    const auto eq = f.find('=');
    const std::string val(eq == std::string_view::npos ? "" : f.substr(eq + 1));
    if (auto r = field(std::string(f.substr(0, eq)), val); !r) return r;
    if (comma == std::string_view::npos) return {};
    pos = comma + 1;
  }
}

} // namespace

util::Result<SecretSource> parse_secret_flag(std::string_view value) {
  SecretSource s;
  std::string type;
  auto fields = for_each_field(value, [&](const std::string& key, const std::string& val) {
    if (key == "id")
      s.id = val;
    else if (key == "src" || key == "source")
      s.file = val;
    else if (key == "env")
      s.env = val;
    else if (key == "type")
      type = val;
    else
      return util::Status(
          util::make_error(util::ErrorCode::invalid_argument,
                           fmt::format("--secret {}: unexpected key \"{}\"", value, key)));
    return util::Status{};
  });
  if (!fields) return std::unexpected(fields.error());
  if (s.id.empty())
    return util::make_error(util::ErrorCode::invalid_argument,
                            fmt::format("--secret {}: id= is required", value));
  if (type == "env" && s.env.empty()) s.env = s.file.empty() ? s.id : s.file, s.file.clear();
  if (s.file.empty() && s.env.empty()) s.env = s.id; // docker: defaults to the env var ID
  if (!s.file.empty() && !sys::is_regular_file(s.file))
    return util::make_error(util::ErrorCode::not_found,
                            fmt::format("--secret {}: {} is not a file", value, s.file));
  return s;
}

util::Result<OutputSpec> parse_output_flag(std::string_view value) {
  OutputSpec o;
  if (value.find('=') == std::string_view::npos) {
    o.type = value == "-" ? OutputType::tar : OutputType::local;
    o.dest = std::string(value);
    return o;
  }
  std::string type;
  auto fields = for_each_field(value, [&](const std::string& key, const std::string& val) {
    if (key == "type")
      type = val;
    else if (key == "dest")
      o.dest = val;
    else if (key == "name")
      o.names.push_back(val);
    else if (key == "push" || key == "oci-mediatypes") {
      const auto b = exporter_bool(val);
      if (!b)
        return util::Status(util::make_error(
            util::ErrorCode::invalid_argument,
            fmt::format("--output {}: non-bool value specified for {}", value, key)));
      if (key == "push")
        o.push = *b;
      else
        o.oci_mediatypes = *b;
    } else if (key == "compression-level") {
      if (val.size() != 1 || val[0] < '0' || val[0] > '9')
        return util::Status(
            util::make_error(util::ErrorCode::invalid_argument,
                             fmt::format("--output {}: compression-level is 0 to 9", value)));
      o.compression_level = val[0] - '0';
    } else if (key == "compression") {
      if (val != "gzip")
        return util::Status(util::make_error(
            util::ErrorCode::invalid_argument,
            fmt::format("--output {}: only compression=gzip is supported", value)));
    } else
      return util::Status(
          util::make_error(util::ErrorCode::invalid_argument,
                           fmt::format("--output {}: unsupported key \"{}\"", value, key)));
    return util::Status{};
  });
  if (!fields) return std::unexpected(fields.error());
  static const std::pair<std::string_view, OutputType> k_types[] = {
      {"image", OutputType::image}, {"oci", OutputType::oci}, {"docker", OutputType::docker},
      {"local", OutputType::local}, {"tar", OutputType::tar}, {"registry", OutputType::registry}};
  bool known = false;
  for (const auto& [name, t] : k_types)
    if (type == name) o.type = t, known = true;
  if (!known)
    return util::make_error(util::ErrorCode::invalid_argument,
                            fmt::format("--output {}: unknown type \"{}\" (image, oci, docker, "
                                        "local, tar, registry)",
                                        value, type));
  if (o.type == OutputType::registry && o.names.empty())
    return util::make_error(util::ErrorCode::invalid_argument,
                            fmt::format("--output {}: name= is required", value));
  if (o.type != OutputType::image && o.type != OutputType::registry && o.dest.empty())
    return util::make_error(util::ErrorCode::invalid_argument,
                            fmt::format("--output {}: dest= is required", value));
  return o;
}

util::Result<CacheSpec> parse_cache_flag(std::string_view value, bool exporting) {
  const std::string flag = exporting ? "--cache-to" : "--cache-from";
  CacheSpec c;
  if (value.find('=') == std::string_view::npos) { // --cache-from REF
    if (exporting)
      return util::make_error(util::ErrorCode::invalid_argument,
                              fmt::format("{} {}: give type=local,dest=DIR or "
                                          "type=registry,ref=REF",
                                          flag, value));
    c.type = CacheSpec::Type::registry;
    c.ref = std::string(value);
    return c;
  }
  std::string type, mode;
  auto fields = for_each_field(value, [&](const std::string& key, const std::string& val) {
    if (key == "type")
      type = val;
    else if (key == (exporting ? "dest" : "src"))
      c.dir = val;
    else if (key == "tag")
      c.tag = val;
    else if (key == "ref")
      c.ref = val;
    else if (key == "mode" && exporting)
      mode = val;
    else if (key == "oci-mediatypes" && exporter_bool(val) == false)
      return util::Status(util::make_error(
          util::ErrorCode::invalid_argument,
          fmt::format("{} {}: mason writes build caches with OCI media types only", flag, value)));
    else if (key == "oci-mediatypes" || key == "image-manifest")
      return util::Status{}; // mason's cache is an OCI image manifest, which these ask for
    else
      return util::Status(
          util::make_error(util::ErrorCode::invalid_argument,
                           fmt::format("{} {}: unsupported key \"{}\"", flag, value, key)));
    return util::Status{};
  });
  if (!fields) return std::unexpected(fields.error());
  if (type == "local") {
    c.type = CacheSpec::Type::local;
    if (c.dir.empty())
      return util::make_error(
          util::ErrorCode::invalid_argument,
          fmt::format("{} {}: {}= is required", flag, value, exporting ? "dest" : "src"));
  } else if (type == "registry") {
    c.type = CacheSpec::Type::registry;
    if (c.ref.empty())
      return util::make_error(util::ErrorCode::invalid_argument,
                              fmt::format("{} {}: ref= is required", flag, value));
  } else {
    return util::make_error(
        util::ErrorCode::invalid_argument,
        fmt::format("{} {}: type \"{}\" is not supported (local, registry)", flag, value, type));
  }
  if (mode == "max")
    c.max = true;
  else if (!mode.empty() && mode != "min")
    return util::make_error(util::ErrorCode::invalid_argument,
                            fmt::format("{} {}: mode is min or max", flag, value));
  return c;
}

} // namespace mason::cli
