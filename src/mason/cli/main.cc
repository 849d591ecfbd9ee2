// mason's command line: thin. Each subcommand parses its flags, calls into
// the libraries, and turns an Error into a message and an exit code:
// 0 success, 1 failure, 2 usage error.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "mason/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"mason: a daemonless OCI image builder for Dockerfiles"};
  app.set_version_flag("--version", std::string("mason ") + MASON_VERSION);
  app.require_subcommand(1);
  mason::cli::Registry registry;
  mason::cli::register_parse(app, registry);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : mason::cli::k_exit_usage;
  }
  return registry.run();
}
