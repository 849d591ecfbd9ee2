// Platform parsing, normalisation and matching, following containerd's
// platforms package (database.go, platforms.go, compare.go):
//
// - parse: split on '/', check each component's characters, fill a lone os
//   or arch from the host, then normalise. Unlike containerd's Parse (which
//   keeps `arm64/v8` and turns `arm` into `arm` with no variant) the result
//   is always fully normalised, so two spellings of one platform compare
//   equal.
// - match: build the ordered vector of compatible platforms for the wanted
//   one (platformVector) and compare the normalised candidate against each
//   entry; the index of the first hit is the rank (lower is better).
#include "mason/image/platform.h"
#include "mason/util/strings.h"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "mason/util/utf8.h"

namespace mason::image {

namespace {

constexpr std::array<std::string_view, 17> k_known_os = {
    "aix",   "android", "darwin", "dragonfly", "freebsd", "hurd",    "illumos", "ios", "js",
    "linux", "nacl",    "netbsd", "openbsd",   "plan9",   "solaris", "windows", "zos"};

constexpr std::array<std::string_view, 24> k_known_arch = {
    "386",     "amd64",   "amd64p32", "arm",    "armbe",  "arm64",    "arm64be",   "ppc64",
    "ppc64le", "loong64", "mips",     "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le",
    "ppc",     "riscv",   "riscv64",  "s390",   "s390x",  "sparc",    "sparc64",   "wasm"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

util::Result<Platform> bad(std::string_view specifier, const std::string& why) {
  std::string message = "invalid platform \"";
  message.append(specifier);
  message += "\": " + why;
  return std::unexpected(util::Error(util::ErrorCode::invalid_argument, std::move(message)));
}

// containerd's normalizeArch.
void normalize_arch(std::string& arch, std::string& variant) {
  arch = util::to_lower_ascii(arch);
  variant = util::to_lower_ascii(variant);
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8" || variant == "v8.0") variant.clear();
    if (variant == "9" || variant == "9.0" || variant == "v9.0") variant = "v9";
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") variant = "v7";
    if (variant == "5" || variant == "6" || variant == "8") variant = "v" + variant;
  }
}

std::string normalize_os(std::string os) {
  os = util::to_lower_ascii(os);
  return os == "macos" ? "darwin" : os;
}

bool is_component_char(char c, std::string_view extra) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         extra.find(c) != std::string_view::npos;
}

bool all_of_chars(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) { return is_component_char(c, extra); });
}

// containerd's decodeOSOption: %XX escapes, only when a '%' is present.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned value = 0;
    if (s.size() - i < 3) return std::nullopt;
    const auto* first = s.data() + i + 1;
    const auto [end, ec] = std::from_chars(first, first + 2, value, 16);
    if (ec != std::errc() || end != first + 2) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// The os component: `name` or `name(version+feature+...)`.
util::Result<Platform> parse_os_component(std::string_view specifier, std::string_view part) {
  Platform p;
  auto name = part;
  std::string_view options;
  if (const auto open = part.find('('); open != std::string_view::npos) {
    if (part.back() != ')')
      return bad(specifier, "invalid os component \"" + std::string(part) + "\"");
    name = part.substr(0, open);
    options = part.substr(open + 1, part.size() - open - 2);
  }
  if (name.empty() || !all_of_chars(name, "_-") || !all_of_chars(options, "_.%-+"))
    return bad(specifier, "invalid os component \"" + std::string(part) + "\"");
  p.os = normalize_os(std::string(name));
  const auto fields = util::split(options, '+');
  auto version = percent_decode(fields[0]);
  if (!version) return bad(specifier, "invalid os version");
  p.os_version = *version;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    auto feature = percent_decode(fields[i]);
    if (!feature || feature->empty()) return bad(specifier, "invalid os features");
    p.os_features.push_back(*feature);
  }
  return p;
}

// A lone os or architecture: the missing half comes from the host.
util::Result<Platform> complete_lone(std::string_view specifier, Platform p,
                                     std::string_view part) {
  const auto host = host_platform();
  if (contains(k_known_os, p.os)) {
    p.architecture = host.architecture;
    p.variant = host.variant;
    return p;
  }
  std::string arch(part);
  std::string variant;
  normalize_arch(arch, variant);
  if (!contains(k_known_arch, arch))
    return bad(specifier, "unknown operating system or architecture");
  return Platform{host.os, arch, variant, {}, {}};
}

Platform with_arch(const Platform& base, std::string arch, std::string variant) {
  Platform p = base;
  p.architecture = std::move(arch);
  p.variant = std::move(variant);
  return p;
}

std::optional<int> version_number(std::string_view variant) {
  if (variant.starts_with('v')) variant.remove_prefix(1);
  int n = 0;
  const auto [end, ec] = std::from_chars(variant.data(), variant.data() + variant.size(), n);
  if (ec != std::errc() || end != variant.data() + variant.size()) return std::nullopt;
  return n;
}

// arm/vN accepts arm/vN-1 ... arm/v5.
void add_arm_ladder(std::vector<Platform>& out, const Platform& base, std::string_view variant) {
  out.push_back(with_arch(base, "arm", std::string(variant)));
  const auto n = version_number(variant);
  if (!n) return;
  for (int v = *n - 1; v >= 5; --v) out.push_back(with_arch(base, "arm", "v" + std::to_string(v)));
}

// arm64 v8.x accepts v8.x-1 ... v8; v9.x accepts v9.x-1 ... v9 and then
// v8.(x+5) ... v8 (containerd's arm64variantToVersion table).
void add_arm64_ladder(std::vector<Platform>& out, const Platform& base) {
  const std::string variant = base.variant.empty() ? "v8" : base.variant;
  out.push_back(base);
  int major = 0;
  int minor = 0;
  const auto dot = variant.find('.');
  const auto major_n = version_number(variant.substr(0, dot));
  const auto minor_n =
      dot == std::string::npos ? std::optional<int>(0) : version_number(variant.substr(dot + 1));
  if (major_n && minor_n) {
    major = *major_n;
    minor = *minor_n;
  }
  const auto level = [&](int ma, int mi) {
    return with_arch(base, "arm64",
                     "v" + std::to_string(ma) + (mi == 0 ? "" : "." + std::to_string(mi)));
  };
  if ((major == 8 || major == 9) && minor >= 0 && minor <= 9) {
    for (int m = minor - 1; m >= 0; --m) out.push_back(level(major, m));
    if (major == 9)
      for (int m = std::min(minor + 5, 9); m >= 0; --m) out.push_back(level(8, m));
  }
  add_arm_ladder(out, base, "v8");
}

bool features_subset(const std::vector<std::string>& have, const std::vector<std::string>& need) {
  return std::all_of(need.begin(), need.end(), [&](const std::string& f) {
    return std::find(have.begin(), have.end(), f) != have.end();
  });
}

} // namespace

util::Result<Platform> parse_platform(std::string_view specifier) {
  if (specifier.find('*') != std::string_view::npos)
    return bad(specifier, "wildcards are not supported");
  const auto parts = util::split(specifier, '/');
  if (parts.size() > 3) return bad(specifier, "expected os[/arch[/variant]]");
  auto p = parse_os_component(specifier, parts[0]);
  if (!p) return p;
  for (std::size_t i = 1; i < parts.size(); ++i)
    if (parts[i].empty() || !all_of_chars(parts[i], "_.-"))
      return bad(specifier, "invalid component \"" + std::string(parts[i]) + "\"");
  if (parts.size() == 1) {
    p = complete_lone(specifier, *p, parts[0]);
    if (!p) return p;
  } else {
    p->architecture = parts[1];
    p->variant = parts.size() == 3 ? std::string(parts[2]) : std::string();
  }
  return normalize_platform(std::move(*p));
}

Platform normalize_platform(Platform platform) {
  platform.os = normalize_os(std::move(platform.os));
  normalize_arch(platform.architecture, platform.variant);
  auto& features = platform.os_features;
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  return platform;
}

std::string format_platform(const Platform& platform) {
  if (platform.os.empty()) return "unknown";
  std::string out = platform.os;
  if (!platform.architecture.empty()) out += "/" + platform.architecture;
  if (!platform.variant.empty()) out += "/" + platform.variant;
  return out;
}

Platform platform_from_uname(std::string_view sysname, std::string_view machine) {
  std::string arch(machine);
  std::string variant;
  if (machine == "i486" || machine == "i586" || machine == "i686") {
    arch = "386";
  } else if (machine == "armv8l" || machine == "armv7l" || machine == "armv6l" ||
             machine == "armv7" || machine == "armv6") {
    arch = "arm";
    variant = std::string("v") + machine[4];
  } else if (machine.starts_with("armv5")) {
    arch = "arm";
    variant = "v5";
  } else if (machine == "loongarch64") {
    arch = "loong64";
  }
  return normalize_platform(Platform{util::to_lower_ascii(sysname), arch, variant, {}, {}});
}

Platform host_platform() {
  struct utsname names {};
  if (uname(&names) != 0) return Platform{"linux", "amd64", "", {}, {}};
  return platform_from_uname(names.sysname, names.machine);
}

std::vector<Platform> compatible_platforms(const Platform& wanted) {
  const auto w = normalize_platform(wanted);
  std::vector<Platform> out;
  if (w.architecture == "amd64") {
    out.push_back(w);
    const auto level = version_number(w.variant);
    for (int v = level.value_or(1) - 1; v >= 1; --v)
      out.push_back(with_arch(w, "amd64", v == 1 ? "" : "v" + std::to_string(v)));
    out.push_back(with_arch(w, "386", ""));
  } else if (w.architecture == "arm") {
    add_arm_ladder(out, w, w.variant);
  } else if (w.architecture == "arm64") {
    add_arm64_ladder(out, w);
  } else {
    out.push_back(w);
  }
  for (auto& p : out) p = normalize_platform(std::move(p));
  return out;
}

std::optional<std::size_t> platform_rank(const Platform& wanted, const Platform& candidate) {
  const auto c = normalize_platform(candidate);
  const auto vector = compatible_platforms(wanted);
  for (std::size_t i = 0; i < vector.size(); ++i) {
    const auto& w = vector[i];
    if (w.os == c.os && w.architecture == c.architecture && w.variant == c.variant &&
        features_subset(w.os_features, c.os_features))
      return i;
  }
  return std::nullopt;
}

bool platform_matches(const Platform& wanted, const Platform& candidate) {
  return platform_rank(wanted, candidate).has_value();
}

} // namespace mason::image
