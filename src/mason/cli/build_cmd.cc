// `mason build` (docker build's flags) and `mason run`.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/cli/commands.h"
#include "mason/cli/environment.h"
#include "mason/cli/flags.h"
#include "mason/engine/build.h"
#include "mason/engine/run_image.h"
#include "mason/gc/gc.h"
#include "mason/progress/progress.h"
#include "mason/util/strings.h"

namespace mason::cli {
namespace {

struct BuildFlags {
  std::string context;
  std::string file;
  std::vector<std::string> tags, build_args, outputs, secrets, no_cache_filter, cache_to,
      cache_from;
  std::string target, network = "default", progress = "auto", iidfile;
  std::string snapshotter = "auto", runtime = "runc";
  std::size_t jobs = 0;
  bool no_cache = false, quiet = false, pull = false, push = false;
};

util::Result<executor::NetworkMode> parse_network(const std::string& n) {
  if (n == "default" || n == "host") return executor::NetworkMode::host;
  if (n == "none") return executor::NetworkMode::none;
  return util::make_error(util::ErrorCode::invalid_argument,
                          fmt::format("--network {}: supported are host, none, default", n));
}

util::Result<snapshot::KindChoice> parse_snapshotter(const std::string& s);

// --network and --snapshotter, shared by build and run.
template <class Options>
util::Status sandbox_flags(Options& o, const std::string& network, const std::string& snapshotter) {
  MASON_TRY_ASSIGN(auto net, parse_network(network));
  o.network = net;
  MASON_TRY_ASSIGN(auto snap, parse_snapshotter(snapshotter));
  o.snapshotter = snap;
  return {};
}

util::Result<snapshot::KindChoice> parse_snapshotter(const std::string& s) {
  if (s == "auto") return snapshot::KindChoice::automatic;
  if (s == "overlay" || s == "overlayfs") return snapshot::KindChoice::overlay;
  if (s == "copy" || s == "native") return snapshot::KindChoice::copy;
  return util::make_error(util::ErrorCode::invalid_argument,
                          fmt::format("--snapshotter {}: supported are auto, overlay, copy", s));
}

// --build-arg K=V, or K alone: the value of $K if set (as docker does).
std::vector<std::pair<std::string, std::string>> build_args(const std::vector<std::string>& in) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& a : in) {
    const auto eq = a.find('=');
    if (eq != std::string::npos)
      out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    else if (auto v = env_value(a))
      out.emplace_back(a, *v);
  }
  return out;
}

util::Result<engine::BuildOptions> to_options(const GlobalOptions& g, const BuildFlags& f) {
  engine::BuildOptions o;
  o.registry = registry_options(g);
  o.pull = f.pull;
  o.push = f.push;
  o.context_dir = f.context;
  if (f.context == "-") { // docker build - <Dockerfile: no context
    if (f.file == "-")
      return util::make_error(util::ErrorCode::invalid_argument,
                              "the context and -f cannot both be read from stdin");
    MASON_TRY_ASSIGN(auto text, read_input("-"));
    if (text.size() > 262 && text.compare(257, 5, "ustar") == 0)
      return util::make_error(util::ErrorCode::unsupported,
                              "a tar archive on stdin as the build context is not supported: "
                              "extract it and give the directory");
    o.dockerfile_text = std::move(text);
    o.context_dir.clear();
  } else if (f.file == "-") {
    MASON_TRY_ASSIGN(auto text, read_input("-"));
    o.dockerfile_text = std::move(text);
  } else {
    o.dockerfile_path = f.file;
  }
  o.target = f.target;
  MASON_TRY_ASSIGN(o.source_date_epoch,
                   util::parse_source_date_epoch(env_value("SOURCE_DATE_EPOCH").value_or("")));
  if (auto limit = env_value("MASON_CACHE_MAX_SIZE"); limit && !limit->empty()) {
    auto size = gc::parse_size(*limit);
    if (!size) return std::unexpected(std::move(size.error()).with_context("MASON_CACHE_MAX_SIZE"));
    o.cache_max_size = *size;
  }
  o.build_args = build_args(f.build_args);
  o.tags = f.tags;
  for (const auto& out : f.outputs) {
    MASON_TRY_ASSIGN(auto spec, parse_output_flag(out));
    if (spec.compression_level) o.compression_level = *spec.compression_level;
    o.outputs.push_back(std::move(spec));
  }
  for (const auto& s : f.secrets) {
    MASON_TRY_ASSIGN(auto spec, parse_secret_flag(s));
    if (!spec.env.empty()) spec.env_value = env_value(spec.env);
    o.secrets.push_back(std::move(spec));
  }
  MASON_TRY(sandbox_flags(o, f.network, f.snapshotter));
  o.runtime = f.runtime;
  o.runtime_search_path = search_path();
  o.jobs = f.jobs;
  o.iidfile = f.iidfile;
  o.no_cache = f.no_cache;
  o.no_cache_filter = f.no_cache_filter;
  for (const auto& c : f.cache_to) {
    MASON_TRY_ASSIGN(auto spec, parse_cache_flag(c, true));
    o.cache_to.push_back(std::move(spec));
  }
  for (const auto& c : f.cache_from) {
    MASON_TRY_ASSIGN(auto spec, parse_cache_flag(c, false));
    o.cache_from.push_back(std::move(spec));
  }
  return o;
}

util::Status run_build_cmd(const GlobalOptions& g, const BuildFlags& f) {
  MASON_TRY_ASSIGN(auto options, to_options(g, f));
  MASON_TRY_ASSIGN(auto mode, progress::parse_mode(f.quiet ? "quiet" : f.progress));
  MASON_TRY_ASSIGN(auto store, open_store(g));
  auto sink = progress::make_renderer(mode, stderr);
  progress::Progress progress(*sink);
  auto result = engine::run_build(*store, options, progress);
  sink->finish();
  if (!result) return std::unexpected(result.error());
  if (f.quiet || mode == progress::Mode::quiet) {
    if (result->image) fmt::print("{}\n", result->image_id.str());
    return {};
  }
  fmt::print("\n{}", engine::size_table(*result));
  (void)std::fflush(stdout);
  return {};
}

struct RunFlags {
  std::string image, network = "host", user, workdir, runtime = "runc", snapshotter = "auto";
  std::vector<std::string> command, env;
  std::string entrypoint;
  bool entrypoint_set = false, rm = false;
};

util::Status run_run_cmd(const GlobalOptions& g, const RunFlags& f, ChosenCommand& chosen) {
  engine::RunImageOptions o;
  o.image = f.image;
  o.command = f.command;
  if (f.entrypoint_set) o.entrypoint = f.entrypoint;
  for (const auto& e : f.env) { // -e K=V, or K alone: the value of $K if set (as docker does)
    if (e.find('=') != std::string::npos)
      o.env.push_back(e);
    else if (auto v = env_value(e))
      o.env.push_back(e + "=" + *v);
  }
  o.user = f.user;
  o.workdir = f.workdir;
  o.runtime = f.runtime;
  o.runtime_search_path = search_path();
  if (auto r = sandbox_flags(o, f.network, f.snapshotter); !r) return r;
  MASON_TRY_ASSIGN(auto store, open_store(g));
  MASON_TRY_ASSIGN(auto code, engine::run_image(*store, o));
  chosen.set_exit_code(code);
  return {};
}

void register_build(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& g) {
  auto f = std::make_shared<BuildFlags>();
  auto* cmd = app.add_subcommand("build", "Build an image from a Dockerfile");
  cmd->add_option("context", f->context, "Build context directory")->required();
  cmd->add_option("-f,--file", f->file, "Dockerfile (default: CONTEXT/Dockerfile; - for stdin)");
  cmd->add_option("-t,--tag", f->tags, "Name and tag the image (repeatable)");
  cmd->add_option("--target", f->target, "Build this stage (default: the last)");
  cmd->add_option("--build-arg", f->build_args, "Set a build argument K=V (repeatable)");
  cmd->add_option("-o,--output", f->outputs,
                  "Output: type=image|oci|docker|local|tar[,dest=PATH][,name=NAME]");
  cmd->add_option("--secret", f->secrets,
                  "Secret for RUN --mount=type=secret: id=ID[,src=FILE|env=VAR]");
  cmd->add_option("--network", f->network, "RUN network: default|host|none");
  cmd->add_option("--progress", f->progress, "Progress: auto|tty|plain|quiet|json");
  cmd->add_option("--iidfile", f->iidfile, "Write the image ID to this file");
  cmd->add_option("--jobs", f->jobs, "Stages built at once (default: every stage that is ready)");
  cmd->add_option("--snapshotter", f->snapshotter, "auto|overlay|copy");
  cmd->add_option("--runtime", f->runtime, "OCI runtime for RUN: runc (default) or crun");
  cmd->add_flag("--no-cache", f->no_cache, "Do not use the build cache");
  cmd->add_option("--cache-to", f->cache_to,
                  "Export the build cache: type=local,dest=DIR[,tag=T][,mode=min|max] or "
                  "type=registry,ref=REF[,mode=min|max]");
  cmd->add_option(
      "--cache-from", f->cache_from,
      "Import a build cache: type=local,src=DIR[,tag=T], type=registry,ref=REF, or REF");
  cmd->add_option("--no-cache-filter", f->no_cache_filter,
                  "Do not use the build cache for these stages (names or indexes)")
      ->delimiter(',');
  cmd->add_flag("--pull", f->pull, "Check base image tags against their registry (pull if newer)");
  cmd->add_flag("--push", f->push, "Push the tagged image (-t) after the build");
  cmd->add_flag("-q,--quiet", f->quiet, "Print only the image ID");
  cmd->callback([&chosen, &g, f] { chosen.set([&g, f] { return run_build_cmd(g, *f); }); });
}

void register_run(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& g) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Run a command in a new container from an image");
  cmd->add_option("image", f->image, "Image")->required();
  cmd->add_flag("--rm", f->rm, "Remove the container when it exits (always done)");
  cmd->add_option("--network", f->network, "host|none");
  cmd->add_option("-e,--env", f->env, "Set an environment variable K=V (repeatable)");
  cmd->add_option("-u,--user", f->user, "User (name or uid[:gid])");
  cmd->add_option("-w,--workdir", f->workdir, "Working directory");
  cmd->add_option("--entrypoint", f->entrypoint, "Override the entrypoint")
      ->each([f](const std::string&) { f->entrypoint_set = true; });
  cmd->add_option("--runtime", f->runtime, "runc (default) or crun");
  cmd->add_option("--snapshotter", f->snapshotter, "auto|overlay|copy");
  cmd->prefix_command(); // options after IMAGE belong to the command
  cmd->footer("Arguments after IMAGE are the command and its arguments (they replace CMD).");
  cmd->callback([&chosen, &g, f, cmd] {
    f->command = cmd->remaining();
    chosen.set([&g, f, &chosen] { return run_run_cmd(g, *f, chosen); });
  });
}

} // namespace

void register_build_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& g) {
  register_build(app, chosen, g);
  register_run(app, chosen, g);
}

} // namespace mason::cli
