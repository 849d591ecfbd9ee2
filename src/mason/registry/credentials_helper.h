// Internals of credentials.cc, declared for its unit tests only: docker's
// host-key rules, the base64 of `auth`, and the credential-helper runner.
// Nothing outside src/mason/registry/credentials.cc and its test includes
// this header.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "mason/registry/credentials.h"
#include "mason/util/error.h"

namespace mason::registry::detail {

// The key docker.io credentials live under in `auths` (and the server URL
// docker hands to helpers for docker.io).
inline constexpr std::string_view k_docker_hub_key = "https://index.docker.io/v1/";

// docker's ConvertToHostname: "https://host:5000/v1/" → "host:5000",
// "host/path" → "host"; a string without scheme or path is returned as is.
std::string convert_to_hostname(std::string_view maybe_url);

// The `auths` / credHelpers key for a registry host as docker writes it:
// docker.io, index.docker.io and registry-1.docker.io (with or without a
// scheme) → k_docker_hub_key; anything else → convert_to_hostname(host).
std::string credential_key(std::string_view host);

// What one run of a helper produced.
struct HelperRun {
  int exit_status = 0; // the exit code; 128 + n when killed by signal n
  std::string out;     // stdout (at most 1 MiB kept)
  std::string err;     // stderr (at most 1 MiB kept)
};

// Runs `program` (looked up in $PATH, no shell) with the one argument
// `action`, writing `input` to its stdin and collecting stdout and stderr.
// A helper still running after `timeout` is killed (SIGKILL) and reported
// as exec_failed. Errors: exec_failed when the program cannot be started
// or times out; unavailable when pipes cannot be made. A non-zero exit is
// not an error here (see exit_status). Thread-safe (SIGPIPE is blocked only
// in the calling thread, and only while writing).
util::Result<HelperRun> run_helper(const std::string& program, const std::string& action,
                                   std::string_view input, std::chrono::milliseconds timeout);

// The docker-credential-helpers protocol, `helper` being the suffix after
// "docker-credential-" ("pass", "osxkeychain"). get: nullopt when the
// helper answers "credentials not found in native keychain". erase: false
// when the helper says so. Other failures are exec_failed with the
// helper's output.
util::Result<std::optional<Credentials>> helper_get(const std::string& helper,
                                                    const std::string& server_url,
                                                    std::chrono::milliseconds timeout);
util::Status helper_store(const std::string& helper, const std::string& server_url,
                          const Credentials& credentials, std::chrono::milliseconds timeout);
util::Result<bool> helper_erase(const std::string& helper, const std::string& server_url,
                                std::chrono::milliseconds timeout);

} // namespace mason::registry::detail
