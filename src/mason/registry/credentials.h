// Registry credentials as docker keeps them: $DOCKER_CONFIG/config.json
// (default ~/.docker/config.json) with `auths` (base64 "user:password" in
// `auth`, or `username`/`password`, or `identitytoken`), `credHelpers`
// (per registry) and `credsStore` (default helper), helpers spoken to
// through the docker-credential-helpers protocol (`docker-credential-<name>
// get|store|erase`, JSON on stdin/stdout).
//
// Host keys: docker.io is stored under "https://index.docker.io/v1/" as
// docker does; other registries under their host[:port]. Lookups accept
// the entries docker itself accepts (with or without scheme or /v1/ path).
//
// Thread-safety: functions read or write the file each time; concurrent
// writers are serialised with a lock file beside it and an atomic rename.
#pragma once

#include <optional>
#include <string>

#include "mason/util/error.h"

namespace mason::registry {

struct Credentials {
  std::string username;
  std::string password;       // or
  std::string identity_token; // an OAuth2 refresh token (docker's IdentityToken)
};

struct CredentialStoreOptions {
  // docker's configuration directory, holding config.json (the CLI finds
  // it: $DOCKER_CONFIG, else $HOME/.docker). Required.
  std::string config_dir;
};

// The credentials for `host` ("docker.io", "localhost:5000"); nullopt when
// none are configured. Errors: a malformed config.json (corruption, naming
// the file), a helper that fails (exec_failed with its message; "credentials
// not found in native keychain" is nullopt, not an error).
util::Result<std::optional<Credentials>> lookup_credentials(const std::string& host,
                                                            const CredentialStoreOptions& options);

// Saves credentials for `host` (through the configured helper if any, else
// base64 in `auths`), keeping every other key of config.json as it was.
util::Status store_credentials(const std::string& host, const Credentials& credentials,
                               const CredentialStoreOptions& options);

// Removes the credentials for `host`; not_found when there are none.
util::Status erase_credentials(const std::string& host, const CredentialStoreOptions& options);

} // namespace mason::registry
