// Value formats used by instruction flags, as the reference parses them:
// CSV fields of --mount/--device (Go encoding/csv rules), Go's
// strconv.ParseBool and time.ParseDuration, docker's RAMInBytes sizes.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "mason/frontend/dockerfile/flags.h"
#include "mason/frontend/dockerfile/instructions.h"
#include "mason/util/path.h"
#include "mason/util/strings.h"
#include "mason/util/utf8.h"

namespace mason::frontend::dockerfile {

namespace {

using util::ErrorCode;
using util::make_error;
using util::Result;

// One CSV record: `"` quotes a whole field, `""` is a quote inside it.
Result<std::vector<std::string>> csv_fields(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t i = 0;
  for (;;) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      ++i;
      for (;;) {
        if (i >= s.size())
          return make_error(ErrorCode::invalid_argument,
                            "extraneous or missing \" in quoted-field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += s[i++];
      }
      if (i < s.size() && s[i] != ',')
        return make_error(ErrorCode::invalid_argument, "extraneous or missing \" in quoted-field");
    } else {
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '"')
          return make_error(ErrorCode::invalid_argument, "bare \" in non-quoted-field");
        field += s[i++];
      }
    }
    out.push_back(std::move(field));
    if (i >= s.size()) break;
    ++i; // the comma
  }
  return out;
}

using util::parse_go_bool;

std::optional<std::uint64_t> parse_uint(std::string_view v, int base, std::uint64_t max) {
  std::uint64_t n = 0;
  if (v.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
  if (ec != std::errc() || ptr != v.data() + v.size() || n > max) return std::nullopt;
  return n;
}

// docker/go-units RAMInBytes: `<number>[ ][kmgtp][i][b]`, binary multiples.
std::optional<std::int64_t> ram_in_bytes(std::string_view v) {
  std::size_t i = 0;
  while (i < v.size() && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.')) ++i;
  const auto number = v.substr(0, i);
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      number.find("..") != std::string_view::npos)
    return std::nullopt;
  auto unit = v.substr(i);
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  double mult = 1;
  if (!unit.empty()) {
    const char* k_units = "kmgtp";
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(unit[0])));
    if (const char* p = std::strchr(k_units, c); p && c) {
      mult = std::pow(1024.0, static_cast<double>(p - k_units + 1));
      unit.remove_prefix(1);
    }
  }
  if (!unit.empty() && (unit[0] == 'i' || unit[0] == 'I')) unit.remove_prefix(1);
  if (!unit.empty() && (unit[0] == 'b' || unit[0] == 'B')) unit.remove_prefix(1);
  if (!unit.empty()) return std::nullopt;
  const double value = std::strtod(std::string(number).c_str(), nullptr);
  return static_cast<std::int64_t>(value * mult);
}

util::Error invalid(std::string message) {
  return {ErrorCode::invalid_argument, std::move(message)};
}

Result<void> apply_mount_field(Mount& m, const std::string& field, const std::string& key,
                               const std::string& value, bool& ro_auto) {
  const auto bad_value = [&] {
    return std::unexpected(invalid("invalid value for " + key + ": " + value));
  };
  const auto unexpected_key = [&] {
    return std::unexpected(invalid("unexpected key '" + key + "' for mount type '" +
                                   std::string(to_string(m.type)) + "'"));
  };
  if (key == "type") {
    const auto t = util::to_lower_ascii(value);
    if (t == "bind")
      m.type = MountType::bind;
    else if (t == "cache")
      m.type = MountType::cache;
    else if (t == "tmpfs")
      m.type = MountType::tmpfs;
    else if (t == "secret")
      m.type = MountType::secret;
    else if (t == "ssh")
      m.type = MountType::ssh;
    else
      return std::unexpected(
          invalid("unsupported mount type \"" + value + "\"" +
                  suggestion(value, {"bind", "cache", "tmpfs", "secret", "ssh"})));
  } else if (key == "from") {
    m.from = value;
  } else if (key == "source" || key == "src") {
    m.source = value;
  } else if (key == "target" || key == "dst" || key == "destination") {
    m.target = value;
  } else if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
    auto b = parse_go_bool(value);
    if (!b) return bad_value();
    m.read_only = (key == "readonly" || key == "ro") ? *b : !*b;
    ro_auto = false;
  } else if (key == "required") {
    if (m.type != MountType::secret && m.type != MountType::ssh) return unexpected_key();
    auto b = parse_go_bool(value);
    if (!b) return bad_value();
    m.required = *b;
  } else if (key == "size") {
    if (m.type != MountType::tmpfs) return unexpected_key();
    auto n = ram_in_bytes(value);
    if (!n) return bad_value();
    m.size_limit = *n;
  } else if (key == "id") {
    m.cache_id = value;
  } else if (key == "sharing") {
    const auto s = util::to_lower_ascii(value);
    if (s == "shared")
      m.sharing = CacheSharing::shared;
    else if (s == "private")
      m.sharing = CacheSharing::private_;
    else if (s == "locked")
      m.sharing = CacheSharing::locked;
    else
      return std::unexpected(invalid("unsupported sharing value \"" + value + "\"" +
                                     suggestion(value, {"shared", "private", "locked"})));
  } else if (key == "mode" || key == "uid" || key == "gid") {
    auto n = parse_uint(value, key == "mode" ? 8 : 10, std::numeric_limits<std::uint32_t>::max());
    if (!n) return std::unexpected(invalid("invalid value " + value + " for " + key));
    auto& slot = key == "mode" ? m.mode : key == "uid" ? m.uid : m.gid;
    slot = static_cast<std::uint32_t>(*n);
  } else if (key == "env") {
    m.env = value;
  } else {
    static const std::vector<std::string> k_keys = {
        "type",        "from", "source", "target",    "readonly", "id",  "sharing",
        "required",    "size", "mode",   "uid",       "gid",      "src", "dst",
        "destination", "ro",   "rw",     "readwrite", "env"};
    return std::unexpected(
        invalid("unexpected key '" + key + "' in '" + field + "'" + suggestion(key, k_keys)));
  }
  return {};
}

Result<void> check_mount(Mount& m, bool ro_auto) {
  const bool file_info =
      m.type == MountType::secret || m.type == MountType::ssh || m.type == MountType::cache;
  const auto type = "\"" + std::string(to_string(m.type)) + "\"";
  if (!file_info) {
    if (m.mode) return std::unexpected(invalid("mode not allowed for " + type + " type mounts"));
    if (m.uid) return std::unexpected(invalid("uid not allowed for " + type + " type mounts"));
    if (m.gid) return std::unexpected(invalid("gid not allowed for " + type + " type mounts"));
  }
  if (ro_auto) m.read_only = !(m.type == MountType::cache || m.type == MountType::tmpfs);
  if (m.type == MountType::secret) {
    if (!m.from.empty()) return std::unexpected(invalid("secret mount should not have a from"));
    if (m.sharing != CacheSharing::none)
      return std::unexpected(invalid("secret mount should not define sharing"));
    if (m.source.empty() && m.target.empty() && m.cache_id.empty())
      return std::unexpected(invalid("invalid secret mount. one of source, target required"));
    if (!m.source.empty() && !m.cache_id.empty())
      return std::unexpected(invalid("both source and id can't be set"));
  }
  if (m.sharing != CacheSharing::none && m.type != MountType::cache)
    return std::unexpected(
        invalid("invalid cache sharing set for " + std::string(to_string(m.type)) + " mount"));
  return {};
}

} // namespace

util::Result<Mount> parse_mount(std::string_view value, const WordExpander& expand) {
  auto fields = csv_fields(value);
  if (!fields)
    return std::unexpected(invalid("failed to parse csv mounts: " + fields.error().message()));
  Mount m;
  bool ro_auto = true;
  for (const auto& field : *fields) {
    const auto eq = field.find('=');
    const auto key = util::to_lower_ascii(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (!expand) continue; // checked once expanded, as the reference does
      if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
        m.read_only = key == "readonly" || key == "ro";
        ro_auto = false;
      } else if (key == "required" && (m.type == MountType::secret || m.type == MountType::ssh)) {
        m.required = true;
      } else if (key == "required") {
        return std::unexpected(invalid("unexpected key 'required' for mount type '" +
                                       std::string(to_string(m.type)) + "'"));
      } else {
        return std::unexpected(invalid("invalid field '" + field + "' must be a key=value pair"));
      }
      continue;
    }
    std::string v = field.substr(eq + 1);
    if (expand) {
      MASON_TRY_ASSIGN(auto e, expand(v));
      v = std::move(e);
    } else if (key == "from") {
      const auto dollar = v.find('$');
      if (dollar != std::string::npos && dollar != v.size() - 1)
        return std::unexpected(
            invalid("'from' doesn't support variable expansion, define alias stage instead"));
    } else {
      continue;
    }
    MASON_TRY(apply_mount_field(m, field, key, v, ro_auto));
  }
  if (!expand) return m;
  MASON_TRY(check_mount(m, ro_auto));
  return m;
}

util::Result<Device> parse_device(std::string_view value) {
  auto fields = csv_fields(value);
  if (!fields)
    return std::unexpected(invalid("failed to parse csv devices: " + fields.error().message()));
  Device d;
  for (const auto& field : *fields) {
    const auto eq = field.find('=');
    const auto key = util::to_lower_ascii(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "required")
        d.required = true;
      else if (d.name.empty())
        d.name = field;
      else
        return std::unexpected(invalid("invalid field '" + field + "' must be a key=value pair"));
      continue;
    }
    const auto v = field.substr(eq + 1);
    if (key == "name") {
      if (!d.name.empty()) return std::unexpected(invalid("device name already set to " + d.name));
      d.name = v;
    } else if (key == "required") {
      auto b = parse_go_bool(v);
      if (!b) return std::unexpected(invalid("invalid value for required: " + v));
      d.required = *b;
    } else if (d.name.empty()) {
      d.name = field;
    } else {
      return std::unexpected(invalid("unexpected key '" + key + "' in '" + field + "'"));
    }
  }
  return d;
}

util::Result<std::int64_t> parse_go_duration(std::string_view s) {
  const auto bad = [&] {
    return std::unexpected(invalid("time: invalid duration \"" + std::string(s) + "\""));
  };
  std::string_view rest = s;
  bool neg = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return 0;
  if (rest.empty()) return bad();
  long double total = 0;
  while (!rest.empty()) {
    std::size_t i = 0;
    while (i < rest.size() && ((rest[i] >= '0' && rest[i] <= '9') || rest[i] == '.')) ++i;
    const auto number = rest.substr(0, i);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1)
      return bad();
    rest.remove_prefix(i);
    std::size_t u = 0;
    while (u < rest.size() && rest[u] != '.' && (rest[u] < '0' || rest[u] > '9')) ++u;
    const auto unit = rest.substr(0, u);
    rest.remove_prefix(u);
    long double scale = 0;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs")
      scale = 1e3L;
    else if (unit == "ms")
      scale = 1e6L;
    else if (unit == "s")
      scale = 1e9L;
    else if (unit == "m")
      scale = 60e9L;
    else if (unit == "h")
      scale = 3600e9L;
    else if (unit.empty())
      return std::unexpected(invalid("time: missing unit in duration \"" + std::string(s) + "\""));
    else
      return std::unexpected(invalid("time: unknown unit \"" + std::string(unit) +
                                     "\" in duration \"" + std::string(s) + "\""));
    total += std::strtold(std::string(number).c_str(), nullptr) * scale;
    if (total > 9.223372036854775807e18L) return bad();
  }
  const auto ns = static_cast<std::int64_t>(total);
  return neg ? -ns : ns;
}

util::Result<MountPlacement> place_mount(const Mount& m, std::string_view workdir,
                                         std::size_t ssh_index) {
  MountPlacement out;
  // Relative targets are the step's working directory's (the solver's
  // PrepareMounts joins every relative destination to the exec's cwd).
  const auto checked = [&](const std::string& target) -> util::Result<MountPlacement> {
    auto abs = util::path_clean(target);
    if (!abs.starts_with('/')) abs = util::path_join("/" + std::string(workdir), target);
    if (abs == "/") return std::unexpected(invalid("invalid mount target \"/\""));
    out.target = std::move(abs);
    return out;
  };
  switch (m.type) {
  case MountType::bind:
  case MountType::cache:
  case MountType::tmpfs: {
    if (m.type == MountType::cache)
      out.id = m.cache_id.empty() ? util::path_clean(m.target) : m.cache_id;
    return checked(m.target);
  }
  case MountType::secret: {
    out.id = !m.source.empty() ? m.source : m.cache_id;
    if (out.id.empty()) {
      if (m.target.empty()) return std::unexpected(invalid("one of source, target required"));
      out.id = util::path_base(m.target);
    }
    if (!m.target.empty()) return checked(m.target);
    if (m.env) return out;
    return checked("/run/secrets/" + util::path_base(out.id));
  }
  case MountType::ssh:
    if (!m.source.empty()) return std::unexpected(invalid("ssh does not support source"));
    out.id = m.cache_id.empty() ? "default" : m.cache_id;
    if (!m.target.empty()) return checked(m.target);
    return checked("/run/buildkit/ssh_agent." + std::to_string(ssh_index));
  }
  return out;
}

util::Result<std::vector<MountPlacement>> place_mounts(const std::vector<Mount>& mounts,
                                                       std::string_view workdir) {
  std::vector<MountPlacement> out;
  std::size_t ssh = 0;
  for (const auto& m : mounts) {
    auto place =
        place_mount(m, workdir.empty() ? "/" : workdir, m.type == MountType::ssh ? ssh++ : 0);
    if (!place) return std::unexpected(place.error());
    out.push_back(std::move(*place));
  }
  return out;
}

} // namespace mason::frontend::dockerfile
