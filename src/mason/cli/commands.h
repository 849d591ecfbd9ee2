// Subcommand registration. Each register_* adds a CLI11 subcommand whose
// callback stores the action to run; main() runs it after parsing, so
// errors become exit codes in one place.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "mason/content/store.h"
#include "mason/registry/client.h"
#include "mason/util/error.h"

namespace mason::cli {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;

// The subcommand CLI11 chose: its callback stores the action here, and
// main() runs it once parsing is done.
class ChosenCommand {
public:
  void set(std::function<util::Status()> action) { m_action = std::move(action); }
  // Runs the chosen action; prints an error as `mason: <message>`.
  int run();
  // A command that passes a child's exit code through (`mason run`).
  void set_exit_code(int code) { m_exit_code = code; }

private:
  std::function<util::Status()> m_action;
  int m_exit_code = k_exit_ok;
};

// Options every subcommand sees.
struct GlobalOptions {
  std::string root; // --root (else MASON_ROOT, XDG_DATA_HOME/mason, ~/.local/share/mason)
  std::vector<std::string> insecure_registries; // --insecure-registry HOST[:PORT]
  std::vector<std::string> registry_cas;        // --registry-ca FILE
  std::vector<std::string> registry_mirrors;    // --registry-mirror URL (docker.io pulls)
};

void register_parse(CLI::App& app, ChosenCommand& chosen);
void register_image_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& global);
void register_build_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& global);
void register_registry_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& global);
void register_cache_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& global);

// Registry client options from the global flags and the environment.
registry::RegistryOptions registry_options(const GlobalOptions& g);

// Opens the store named by --root / MASON_ROOT / the default.
util::Result<std::unique_ptr<content::Store>> open_store(const GlobalOptions& g);

// Unpacks a loaded or pulled image's layers (engine::unpack_image_layers);
// a failure is a warning on stderr: the layers are unpacked at first use.
void unpack_layers(content::Store& store, const image::Digest& manifest);

// Reads a file (or stdin for "-") whole.
util::Result<std::string> read_input(const std::string& path);

} // namespace mason::cli
