// mason's command line: thin. Each subcommand parses its flags, calls into
// the libraries, and turns an Error into a message and an exit code:
// 0 success, 1 failure, 2 usage error.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "mason/cli/commands.h"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"mason: a daemonless OCI image builder for Dockerfiles"};
  app.set_version_flag("--version", std::string("mason ") + MASON_VERSION);
  app.require_subcommand(1);
  mason::cli::ChosenCommand chosen;
  mason::cli::GlobalOptions global;
  app.add_option(
      "--root", global.root,
      "Store directory (default $MASON_ROOT, else $XDG_DATA_HOME/mason or ~/.local/share/mason)");
  mason::cli::register_parse(app, chosen);
  mason::cli::register_image_commands(app, chosen, global);
  mason::cli::register_build_commands(app, chosen, global);
  mason::cli::register_registry_commands(app, chosen, global);
  mason::cli::register_cache_commands(app, chosen, global);
  app.add_option("--insecure-registry", global.insecure_registries,
                 "Registry (HOST[:PORT]) reached over plain http or unverified TLS (repeatable)");
  app.add_option("--registry-ca", global.registry_cas,
                 "Extra PEM CA bundle trusted for registries (repeatable)");
  app.add_option("--registry-mirror", global.registry_mirrors,
                 "Mirror URL tried first for docker.io pulls, in order (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : mason::cli::k_exit_usage;
  }
  return chosen.run();
}

} // namespace

int main(int argc, char** argv) {
  // Library code reports errors as values; this only catches what the
  // standard library may throw (allocation failure) so it ends cleanly.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mason: internal error: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "mason: internal error\n";
  }
  return mason::cli::k_exit_failure;
}
