// Image config parsing and serialisation.
//
// Parsing reads the known fields with a FieldReader (first bad field wins,
// named by its path) and keeps the raw bytes. Serialisation builds an
// ordered_json in BuildKit's output order (see config.h) and writes it with
// Go's escaping, so a config mason creates is byte-for-byte what BuildKit
// would write for the same values.
//
// Timestamps are kept as the strings written; is_rfc3339() checks them with
// the grammar Go's time.Time accepts in JSON, and format_timestamp() turns
// Unix time into Go's RFC 3339 form via the days-to-civil-date algorithm
// (Howard Hinnant's, valid for the whole proleptic Gregorian calendar).
#include "mason/image/config.h"

#include <array>
#include <utility>

#include "mason/image/json.h"

namespace mason::image {

namespace {

using OrderedJson = nlohmann::ordered_json;

// ----- timestamps -----

bool digits(std::string_view s, std::size_t pos, std::size_t count, int& value) {
  if (pos + count > s.size()) return false;
  value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  constexpr std::array<int, 12> k_days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : k_days[static_cast<std::size_t>(month - 1)];
}

bool valid_date_time(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || s[10] != 'T' || !digits(s, 11, 2, hour) || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return false;
  return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month) && hour < 24 &&
         minute < 60 && second < 60;
}

bool valid_zone(std::string_view zone) {
  if (zone == "Z") return true;
  int hours = 0, minutes = 0;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone, 1, 2, hours) &&
         zone[3] == ':' && digits(zone, 4, 2, minutes) && hours < 24 && minutes < 60;
}

// (year, month, day) of a count of days since 1970-01-01.
std::array<std::int64_t, 3> civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

std::string two(std::int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// ----- reading -----

HealthConfig read_health(FieldReader& r) {
  HealthConfig h;
  h.test = r.strings("Test");
  h.interval = r.integer("Interval");
  h.timeout = r.integer("Timeout");
  h.start_period = r.integer("StartPeriod");
  h.start_interval = r.integer("StartInterval");
  h.retries = r.integer("Retries");
  return h;
}

ContainerConfig read_container_config(FieldReader& r) {
  ContainerConfig c;
  c.user = r.string("User");
  c.exposed_ports = r.key_set("ExposedPorts");
  c.env = r.strings("Env");
  c.entrypoint = r.strings("Entrypoint");
  c.cmd = r.strings("Cmd");
  c.volumes = r.key_set("Volumes");
  c.working_dir = r.string("WorkingDir");
  c.labels = r.string_map("Labels");
  c.stop_signal = r.string("StopSignal");
  c.args_escaped = r.boolean("ArgsEscaped");
  c.healthcheck = r.object<HealthConfig>("Healthcheck", Presence::optional, read_health);
  c.on_build = r.strings("OnBuild");
  c.shell = r.strings("Shell");
  return c;
}

RootFs read_rootfs(FieldReader& r) {
  RootFs fs;
  fs.type = r.string("type", Presence::required);
  if (r.ok() && fs.type != "layers")
    r.fail("type", "unsupported rootfs type \"" + fs.type + "\" (want \"layers\")");
  fs.diff_ids = r.digests("diff_ids");
  return fs;
}

std::string timestamp(FieldReader& r, std::string_view key) {
  auto text = r.string(key);
  if (r.ok() && !text.empty() && !is_rfc3339(text))
    r.fail(key, "invalid timestamp \"" + text + "\" (want RFC 3339)");
  return text;
}

HistoryEntry read_history(FieldReader& r) {
  HistoryEntry h;
  h.created = timestamp(r, "created");
  h.created_by = r.string("created_by");
  h.author = r.string("author");
  h.comment = r.string("comment");
  h.empty_layer = r.boolean("empty_layer");
  return h;
}

void read_image_config(FieldReader& r, ImageConfig& c) {
  c.created = timestamp(r, "created");
  c.author = r.string("author");
  c.architecture = r.string("architecture", Presence::required);
  c.os = r.string("os", Presence::required);
  c.os_version = r.string("os.version");
  c.os_features = r.strings("os.features");
  c.variant = r.string("variant");
  if (auto config = r.object<ContainerConfig>("config", Presence::optional, read_container_config))
    c.config = std::move(*config);
  if (auto rootfs = r.object<RootFs>("rootfs", Presence::required, read_rootfs))
    c.rootfs = std::move(*rootfs);
  c.history = r.objects<HistoryEntry>("history", Presence::optional, read_history);
}

// ----- writing -----

void put_string(OrderedJson& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

void put_strings(OrderedJson& j, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) j[key] = to_json_array(values);
}

void put_int(OrderedJson& j, const char* key, std::int64_t value) {
  if (value != 0) j[key] = value;
}

OrderedJson health_json(const HealthConfig& h) {
  OrderedJson j = OrderedJson::object();
  put_strings(j, "Test", h.test);
  put_int(j, "Interval", h.interval);
  put_int(j, "Timeout", h.timeout);
  put_int(j, "StartPeriod", h.start_period);
  put_int(j, "StartInterval", h.start_interval);
  put_int(j, "Retries", h.retries);
  return j;
}

OrderedJson container_config_json(const ContainerConfig& c) {
  OrderedJson j = OrderedJson::object();
  put_string(j, "User", c.user);
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = to_json_set(c.exposed_ports);
  put_strings(j, "Env", c.env);
  put_strings(j, "Entrypoint", c.entrypoint);
  put_strings(j, "Cmd", c.cmd);
  if (!c.volumes.empty()) j["Volumes"] = to_json_set(c.volumes);
  put_string(j, "WorkingDir", c.working_dir);
  if (!c.labels.empty()) j["Labels"] = to_json_object(c.labels);
  put_string(j, "StopSignal", c.stop_signal);
  if (c.args_escaped) j["ArgsEscaped"] = true;
  if (c.healthcheck) j["Healthcheck"] = health_json(*c.healthcheck);
  put_strings(j, "OnBuild", c.on_build);
  put_strings(j, "Shell", c.shell);
  return j;
}

OrderedJson history_json(const HistoryEntry& h) {
  OrderedJson j = OrderedJson::object();
  put_string(j, "created", h.created);
  put_string(j, "created_by", h.created_by);
  put_string(j, "author", h.author);
  put_string(j, "comment", h.comment);
  if (h.empty_layer) j["empty_layer"] = true;
  return j;
}

OrderedJson rootfs_json(const RootFs& fs) {
  OrderedJson j = OrderedJson::object();
  j["type"] = fs.type;
  j["diff_ids"] = OrderedJson::array();
  for (const auto& d : fs.diff_ids) j["diff_ids"].push_back(d.str());
  return j;
}

} // namespace

// ----- ImageConfig -----

util::Result<ImageConfig> parse_image_config(std::string_view raw) {
  const auto digest = Digest::sha256_of(raw);
  const auto failed = [&](util::Error e) {
    return std::unexpected(std::move(e).with_context("parse config " + digest.short_str()));
  };
  auto json = parse_json_object(raw);
  if (!json) return failed(std::move(json.error()));
  FieldReader reader(*json, {});
  ImageConfig config;
  read_image_config(reader, config);
  if (!reader.ok()) return failed(reader.error());
  config.raw = std::string(raw);
  config.digest = digest;
  return config;
}

Platform ImageConfig::platform() const {
  return Platform{os, architecture, variant, os_version, os_features};
}

// Top-level keys in byte order (BuildKit marshals the config as a map).
std::string ImageConfig::serialize() const {
  OrderedJson j = OrderedJson::object();
  j["architecture"] = architecture;
  put_string(j, "author", author);
  j["config"] = container_config_json(config);
  put_string(j, "created", created);
  if (!history.empty()) {
    j["history"] = OrderedJson::array();
    for (const auto& h : history) j["history"].push_back(history_json(h));
  }
  j["os"] = os;
  put_strings(j, "os.features", os_features);
  put_string(j, "os.version", os_version);
  j["rootfs"] = rootfs_json(rootfs);
  put_string(j, "variant", variant);
  return write_json(j);
}

void ImageConfig::seal() {
  raw = serialize();
  digest = Digest::sha256_of(raw);
}

Descriptor ImageConfig::descriptor(std::string_view media_type) const {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = digest;
  d.size = static_cast<std::int64_t>(raw.size());
  return d;
}

// ----- timestamps -----

bool is_rfc3339(std::string_view text) {
  if (text.size() < 20 || !valid_date_time(text)) return false;
  auto rest = text.substr(19);
  if (rest.starts_with('.')) {
    std::size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1) return false;
    rest.remove_prefix(n);
  }
  return valid_zone(rest);
}

std::string format_timestamp(std::int64_t unix_seconds, std::uint32_t nanoseconds) {
  constexpr std::int64_t k_day = 86400;
  std::int64_t days = unix_seconds / k_day;
  std::int64_t secs = unix_seconds % k_day;
  if (secs < 0) {
    secs += k_day;
    --days;
  }
  const auto [year, month, day] = civil_from_days(days);
  auto year_text = std::to_string(year);
  if (year >= 0 && year_text.size() < 4) year_text.insert(0, 4 - year_text.size(), '0');
  std::string out = year_text + "-" + two(month) + "-" + two(day) + "T" + two(secs / 3600) + ":" +
                    two(secs / 60 % 60) + ":" + two(secs % 60);
  if (nanoseconds != 0) {
    auto fraction = std::to_string(nanoseconds % 1000000000U);
    fraction.insert(0, 9 - fraction.size(), '0');
    fraction.erase(fraction.find_last_not_of('0') + 1);
    out += "." + fraction;
  }
  return out + "Z";
}

} // namespace mason::image
