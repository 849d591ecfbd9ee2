// Platforms (`linux/arm64`, `linux/arm/v7`) as containerd's platforms
// package treats them: parsing with aliases, normalisation, formatting, the
// host's platform, and the default matcher used to pick an image for a
// platform from an index.
//
// All functions are pure and thread-safe (host_platform() reads uname(2)).
// os.version is ignored when matching (mason builds Linux images; Windows
// version matching is not implemented).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/image/descriptor.h"
#include "mason/util/error.h"

namespace mason::image {

// `os[/arch[/variant]]`, a lone os (the host's architecture is assumed) or
// a lone architecture (the host's os is assumed); an os may carry
// `(os.version+feature+...)` as in containerd. The result is normalised
// (see normalize_platform): `x86_64` -> `linux/amd64`, `linux/aarch64` ->
// `linux/arm64`, `linux/arm64/v8` -> `linux/arm64`, `linux/armhf` ->
// `linux/arm/v7`, `linux/arm` -> `linux/arm/v7`, `i386` -> `linux/386`.
// Errors (invalid_argument) name the specifier: `invalid platform "x":
// unknown operating system or architecture`, wildcards, more than three
// components, characters outside [A-Za-z0-9_.-].
util::Result<Platform> parse_platform(std::string_view specifier);

// containerd's Normalize: os lower-cased (`macos` -> `darwin`);
// architecture aliases (x86_64/x86-64 -> amd64, aarch64 -> arm64, i386 -> 386,
// armhf -> arm/v7, armel -> arm/v6); default variants (arm -> v7, amd64 v1 ->
// "", arm64 v8 -> "", arm64 9 -> v9, arm 5/6/7/8 -> v5..v8); os.features
// sorted without duplicates.
Platform normalize_platform(Platform platform);

// `os/arch[/variant]` as written (not normalised); "unknown" when os is
// empty, as containerd prints it.
std::string format_platform(const Platform& platform);

// The platform of this machine, normalised (from uname(2)).
Platform host_platform();
// What host_platform() makes of uname's sysname and machine (`Linux`,
// `x86_64` -> linux/amd64; `armv7l` -> linux/arm/v7; `i686` -> linux/386).
Platform platform_from_uname(std::string_view sysname, std::string_view machine);

// The platforms an image may have to run on `wanted`, best first
// (containerd's platforms.Only): the platform itself, then for amd64/vN the
// lower amd64 levels and 386; for arm/vN the lower arm variants down to v5;
// for arm64 (v8.x, v9.x) the lower arm64 levels and arm/v8..v5. Normalised.
std::vector<Platform> compatible_platforms(const Platform& wanted);

// Whether an image for `candidate` runs on `wanted` (containerd's default
// matcher): after normalising, os, architecture and variant equal one of
// compatible_platforms(wanted), and candidate's os.features are a subset of
// wanted's. platform_rank() says which entry (0 = exact).
bool platform_matches(const Platform& wanted, const Platform& candidate);
std::optional<std::size_t> platform_rank(const Platform& wanted, const Platform& candidate);

} // namespace mason::image
