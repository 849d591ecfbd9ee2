// The image config (OCI `application/vnd.oci.image.config.v1+json` and
// Docker `application/vnd.docker.container.image.v1+json`, one shape):
// platform, the container defaults (`config`), rootfs diff_ids and history.
//
// As for manifests, a parsed config keeps its exact bytes (`raw`, with any
// fields mason does not model, e.g. Docker's container_config) and their
// digest (the image ID); serialize() is for configs mason creates.
//
// serialize() writes what BuildKit writes: the top-level keys in byte order
// (BuildKit's exporter re-marshals the config as a Go map), the `config`
// object in the field order of Go's DockerOCIImageConfig (User,
// ExposedPorts, Env, Entrypoint, Cmd, Volumes, WorkingDir, Labels,
// StopSignal, ArgsEscaped, Healthcheck, OnBuild, Shell), rootfs as
// {type, diff_ids}, history entries as {created, created_by, author,
// comment, empty_layer}; empty fields omitted; Go's string escaping.
//
// Values; not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mason/image/descriptor.h"
#include "mason/image/media_type.h"
#include "mason/util/error.h"

namespace mason::image {

// Docker's HEALTHCHECK; durations in nanoseconds (Go's time.Duration).
struct HealthConfig {
  std::vector<std::string> test; // {"NONE"} disables a base image's check
  std::int64_t interval = 0;
  std::int64_t timeout = 0;
  std::int64_t start_period = 0;
  std::int64_t start_interval = 0;
  std::int64_t retries = 0;

  bool operator==(const HealthConfig&) const = default;
};

// The `config` object: defaults for containers run from the image.
struct ContainerConfig {
  std::string user;
  std::set<std::string> exposed_ports; // "80/tcp"
  std::vector<std::string> env;        // "KEY=value"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::set<std::string> volumes;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool args_escaped = false;
  std::optional<HealthConfig> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;

  bool operator==(const ContainerConfig&) const = default;
};

struct RootFs {
  std::string type = "layers";
  std::vector<Digest> diff_ids; // uncompressed layer digests, bottom first

  bool operator==(const RootFs&) const = default;
};

struct HistoryEntry {
  std::string created; // RFC 3339, as written
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;

  bool operator==(const HistoryEntry&) const = default;
};

struct ImageConfig {
  std::string created; // RFC 3339, as written; empty when absent
  std::string author;
  std::string architecture;
  std::string os;
  std::string os_version;
  std::vector<std::string> os_features;
  std::string variant;
  ContainerConfig config;
  RootFs rootfs;
  std::vector<HistoryEntry> history;

  std::string raw; // exact bytes (parsed, or set by seal())
  Digest digest;   // sha256 of raw: the image ID

  Platform platform() const;
  std::string serialize() const;
  // raw = serialize(); digest = sha256(raw).
  void seal();
  Descriptor descriptor(std::string_view media_type = media_type::oci_config) const;

  bool operator==(const ImageConfig&) const = default;
};

// Strict parsing; errors carry the context `parse config sha256:<12 hex>`
// and name the field (`field "rootfs.diff_ids[1]": invalid digest ...`).
// Required: architecture and os (strings), rootfs with type "layers";
// diff_ids may be absent (an image without layers, as Docker writes it).
// created / history[].created must be RFC 3339 timestamps. `null` counts as
// absent (Docker writes "Env": null and the like). Errors: invalid_argument.
util::Result<ImageConfig> parse_image_config(std::string_view raw);

// RFC 3339 as Go's time.Time accepts it in JSON:
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM).
bool is_rfc3339(std::string_view text);
// Unix time in UTC as Go's time.Time marshals it (RFC 3339 with nanoseconds,
// trailing zeros of the fraction dropped): 0 -> "1970-01-01T00:00:00Z".
std::string format_timestamp(std::int64_t unix_seconds, std::uint32_t nanoseconds = 0);

} // namespace mason::image
