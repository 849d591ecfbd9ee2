// Pieces of the runtime executor shared between its .cc files and its
// tests. Not part of the executor's contract (executor.h is).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mason/executor/executor.h"

namespace mason::executor {

// Every mount of the container, in the order of config.json: the default
// ones (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys), /etc/hosts and
// /etc/resolv.conf bound read-only from `hosts_path` and `resolv_path`,
// then spec.mounts. A later mount with the same destination replaces an
// earlier one in its place (as BuildKit's dedupMounts does).
std::vector<MountSpec> container_mounts(const RunSpec& spec, const std::string& hosts_path,
                                        const std::string& resolv_path);

// BuildKit's generated /etc/hosts: "127.0.0.1\tlocalhost <hostname>" (just
// "localhost" for an empty hostname) and "::1\tlocalhost ip6-localhost
// ip6-loopback".
std::string default_hosts(std::string_view hostname);

// The container's resolv.conf made from the host's (`host_text`), as
// BuildKit does: comments and blank lines dropped, nameserver/search/
// options lines normalised, other lines kept. For NetworkMode::none, or
// when the host lists no nameserver, loopback nameservers are dropped and,
// if none is left, Google's public resolvers are listed instead.
std::string container_resolv_conf(std::string_view host_text, NetworkMode network);

// The last error reported in a runtime's JSON log (`--log-format json`,
// one object per line with "level" and "msg"): the runtime's own failure,
// as opposed to the container's exit status. Empty if there is none.
std::string runtime_error_from_log(std::string_view log_text);

} // namespace mason::executor
