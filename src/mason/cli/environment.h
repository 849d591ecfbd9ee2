// The process environment, read here and nowhere else: the libraries take
// what it says as values (docs/style.md, "No hidden state"). Child
// processes (the OCI runtime, credential helpers) still inherit it whole.
#pragma once

#include <optional>
#include <string>

#include "mason/content/root.h"
#include "mason/util/error.h"

namespace mason::cli {

// The variable's value; nullopt when unset (an empty value is a value).
std::optional<std::string> env_value(const std::string& name);

// The inputs of the store root's resolution (content/root.h): MASON_ROOT,
// XDG_DATA_HOME, HOME (else the passwd entry's home directory).
content::RootEnv root_env(std::string flag);

// docker's configuration directory (credentials): $DOCKER_CONFIG, else
// $HOME/.docker (HOME, else the passwd entry's home directory).
util::Result<std::string> docker_config_dir();

// The hosts that bypass a proxy as the user set them ($no_proxy, else
// $NO_PROXY; "" when neither).
std::string no_proxy();

// $PATH ("" when unset): where an OCI runtime named without a "/" is found.
std::string search_path();

} // namespace mason::cli
