// Registry commands: pull, push, login, logout. Thin: the protocol is in
// registry/, the store in content/.
#include <iostream>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/cli/commands.h"
#include "mason/cli/environment.h"
#include "mason/cli/transfer_view.h"
#include "mason/exporter/local_image.h"
#include "mason/image/platform.h"
#include "mason/image/reference.h"
#include "mason/registry/credentials.h"

namespace mason::cli {

namespace {

// Appends the non-empty items of a comma-separated list.
void append_list(std::vector<std::string>& out, std::string_view list) {
  for (std::string_view rest = list; !rest.empty();) {
    const auto comma = rest.find(',');
    if (const auto item = rest.substr(0, comma); !item.empty()) out.emplace_back(item);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
  }
}

} // namespace

registry::RegistryOptions registry_options(const GlobalOptions& g) {
  registry::RegistryOptions o;
  o.insecure_registries = g.insecure_registries;
  o.ca_files = g.registry_cas;
  o.docker_io_mirrors = g.registry_mirrors;
  if (auto env = env_value("MASON_INSECURE_REGISTRIES")) append_list(o.insecure_registries, *env);
  if (auto env = env_value("MASON_REGISTRY_MIRRORS")) append_list(o.docker_io_mirrors, *env);
  o.no_proxy = no_proxy();
  // Without a directory, credentials are an error when first needed.
  if (auto dir = docker_config_dir()) o.credentials.config_dir = *dir;
  return o;
}

namespace {

util::Result<std::unique_ptr<registry::Client>>
client_for(const GlobalOptions& g, bool quiet,
           TransferDirection direction = TransferDirection::pull) {
  auto options = registry_options(g);
  if (!quiet) options.progress = transfer_view(stderr, direction, is_live_terminal(stderr));
  return registry::Client::create(options);
}

util::Status run_pull(const GlobalOptions& g, const std::string& name, const std::string& platform,
                      bool quiet) {
  MASON_TRY_ASSIGN(auto ref, image::Reference::parse(name));
  MASON_TRY_ASSIGN(auto wanted, platform.empty()
                                    ? util::Result<image::Platform>(image::host_platform())
                                    : image::parse_platform(platform));
  MASON_TRY_ASSIGN(auto store, open_store(g));
  MASON_TRY_ASSIGN(auto client, client_for(g, quiet, TransferDirection::pull));
  MASON_TRY_ASSIGN(auto pulled, client->pull(*store, ref, wanted));
  unpack_layers(*store, pulled.digest);
  if (!quiet) fmt::print("Digest: {}\n", pulled.digest.str());
  fmt::print("{}\n", ref.str());
  return {};
}

util::Status run_push(const GlobalOptions& g, const std::string& name, const std::string& dest,
                      bool quiet) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  MASON_TRY_ASSIGN(auto img, exporter::find_local_image(*store, name));
  MASON_TRY_ASSIGN(auto ref, image::Reference::parse(dest.empty() ? name : dest));
  MASON_TRY_ASSIGN(auto client, client_for(g, quiet, TransferDirection::push));
  MASON_TRY_ASSIGN(auto pushed, client->push(*store, img.target, ref));
  fmt::print("{}: digest: {} size: {}\n", ref.tag().empty() ? ref.str() : ref.tag(),
             pushed.digest.str(), pushed.size);
  return {};
}

// docker login's host argument: "docker.io" when empty, the host of a URL.
std::string login_host(std::string host) {
  if (host.empty()) return "docker.io";
  for (std::string_view scheme : {"https://", "http://"})
    if (host.starts_with(scheme)) host.erase(0, scheme.size());
  if (const auto slash = host.find('/'); slash != std::string::npos) host.resize(slash);
  if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
  return host;
}

util::Result<std::string> read_password(bool from_stdin, const std::string& given) {
  if (!given.empty()) {
    fmt::print(stderr,
               "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    return given;
  }
  if (!from_stdin)
    return util::make_error(util::ErrorCode::invalid_argument,
                            "give the password with --password-stdin (or -p)");
  std::string pw((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  if (pw.empty())
    return util::make_error(util::ErrorCode::invalid_argument, "password is empty (stdin)");
  return pw;
}

util::Status run_login(const GlobalOptions& g, const std::string& host_arg, const std::string& user,
                       const std::string& password, bool password_stdin) {
  if (user.empty())
    return util::make_error(util::ErrorCode::invalid_argument, "give the user name with -u");
  MASON_TRY_ASSIGN(auto pw, read_password(password_stdin, password));
  const auto host = login_host(host_arg);
  registry::Credentials creds{user, pw, ""};
  MASON_TRY_ASSIGN(auto client, client_for(g, true));
  if (auto r = client->check_login(host, creds); !r)
    return std::unexpected(std::move(r.error()).with_context("login " + host));
  MASON_TRY_ASSIGN(auto config_dir, docker_config_dir());
  MASON_TRY(registry::store_credentials(host, creds, {config_dir}));
  fmt::print("Login Succeeded\n");
  return {};
}

util::Status run_logout(const std::string& host_arg) {
  const auto host = login_host(host_arg);
  MASON_TRY_ASSIGN(auto config_dir, docker_config_dir());
  auto r = registry::erase_credentials(host, {config_dir});
  if (!r && r.error().code() == util::ErrorCode::not_found) {
    fmt::print("Not logged in to {}\n", host);
    return {};
  }
  if (!r) return r;
  fmt::print("Removing login credentials for {}\n", host);
  return {};
}

} // namespace

void register_registry_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& g) {
  {
    struct F {
      std::string name, platform;
      bool quiet = false;
    };
    auto f = std::make_shared<F>();
    auto* cmd = app.add_subcommand("pull", "Pull an image from a registry into the store");
    cmd->add_option("name", f->name, "Image reference")->required();
    cmd->add_option("--platform", f->platform, "os/arch[/variant] (default: this machine's)");
    cmd->add_flag("-q,--quiet", f->quiet, "Print only the reference");
    cmd->callback([&chosen, &g, f] {
      chosen.set([&g, f] { return run_pull(g, f->name, f->platform, f->quiet); });
    });
  }
  {
    struct F {
      std::string name, dest;
      bool quiet = false;
    };
    auto f = std::make_shared<F>();
    auto* cmd = app.add_subcommand("push", "Push an image from the store to a registry");
    cmd->add_option("name", f->name, "Image in the store")->required();
    cmd->add_option("dest", f->dest, "Destination reference (default: the name)");
    cmd->add_flag("-q,--quiet", f->quiet, "No per-blob lines");
    cmd->callback([&chosen, &g, f] {
      chosen.set([&g, f] { return run_push(g, f->name, f->dest, f->quiet); });
    });
  }
  {
    struct F {
      std::string host, user, password;
      bool password_stdin = false;
    };
    auto f = std::make_shared<F>();
    auto* cmd = app.add_subcommand("login", "Log in to a registry (writes ~/.docker/config.json)");
    cmd->add_option("server", f->host, "Registry host (default docker.io)");
    cmd->add_option("-u,--username", f->user, "User name");
    cmd->add_option("-p,--password", f->password, "Password (prefer --password-stdin)");
    cmd->add_flag("--password-stdin", f->password_stdin, "Read the password from stdin");
    cmd->callback([&chosen, &g, f] {
      chosen.set(
          [&g, f] { return run_login(g, f->host, f->user, f->password, f->password_stdin); });
    });
  }
  {
    auto host = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("logout", "Log out from a registry");
    cmd->add_option("server", *host, "Registry host (default docker.io)");
    cmd->callback([&chosen, host] { chosen.set([host] { return run_logout(*host); }); });
  }
}

} // namespace mason::cli
