// Unpack the image (snapshots shared with builds), prepare a writable
// snapshot over it, run the process, discard the snapshot.
#include "mason/engine/run_image.h"
#include "mason/content/layout.h"
#include "mason/engine/sandbox.h"
#include "mason/gc/gc.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/exporter/local_image.h"
#include "mason/ops/copy.h"
#include "mason/ops/image_source.h"
#include "mason/util/unique_fd.h"

namespace mason::engine {
namespace {

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::vector<std::string> environment(const image::ImageConfig& config,
                                     const RunImageOptions& options) {
  std::vector<std::string> env = config.config.env;
  auto set = [&](const std::string& kv) {
    const auto key = kv.substr(0, kv.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.starts_with(key); });
    env.push_back(kv);
  };
  if (std::none_of(env.begin(), env.end(), [](auto& e) { return e.starts_with("PATH="); }))
    env.push_back("PATH=" + std::string(k_default_path));
  for (const auto& e : options.env)
    if (e.find('=') != std::string::npos) set(e);
  return env;
}

util::Result<std::vector<std::string>> command_line(const image::ImageConfig& config,
                                                    const RunImageOptions& options) {
  std::vector<std::string> args;
  if (options.entrypoint) {
    if (!options.entrypoint->empty()) args.push_back(*options.entrypoint);
  } else {
    args = config.config.entrypoint;
  }
  const auto& cmd =
      options.command.empty() && !options.entrypoint ? config.config.cmd : options.command;
  args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty())
    return util::make_error(util::ErrorCode::invalid_argument,
                            "no command specified (the image has no ENTRYPOINT or CMD)");
  return args;
}

// The store's snapshotter, with the image-layers usage lock taken shared:
// `mason prune` removes no layer while it is held.
struct LayerSnapshots {
  gc::UsageLock lock;
  std::unique_ptr<snapshot::Snapshotter> snapshots;
};

util::Result<LayerSnapshots> open_layer_snapshots(const content::Store& store,
                                                  snapshot::KindChoice choice) {
  const std::string root = store.root().string();
  MASON_TRY_ASSIGN(auto lock, gc::UsageLock::take(root, gc::UsageLock::Guards::image_layers,
                                                  gc::UsageLock::Mode::shared));
  const content::StoreLayout layout(root);
  MASON_TRY_ASSIGN(
      auto snapshots,
      snapshot::open_snapshotter(layout.snapshots(choice == snapshot::KindChoice::copy), choice));
  return LayerSnapshots{std::move(lock), std::move(snapshots)};
}

} // namespace

util::Status unpack_image_layers(content::Store& store, const image::Digest& manifest_digest,
                                 snapshot::KindChoice snapshotter) {
  MASON_TRY_ASSIGN(auto img, exporter::find_local_image(store, manifest_digest.str()));
  MASON_TRY_ASSIGN(auto layers, open_layer_snapshots(store, snapshotter));
  MASON_TRY(ops::unpack_image(*layers.snapshots, store, img.manifest, img.config));
  // Written back now, while loading: otherwise the first overlay unmount
  // of the next build (overlayfs syncs its upper file system then) pays
  // for all of it (0.5-0.8 s after golang:1.21 in bench/).
  const util::UniqueFd root(::open(store.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root && ::syncfs(root.get()) != 0) return util::errno_error("sync the store", errno);
  return {};
}

util::Result<int> run_image(content::Store& store, const RunImageOptions& options) {
  enter_private_mount_namespace();
  MASON_TRY_ASSIGN(auto img, exporter::find_local_image(store, options.image));
  // Held while the container runs.
  MASON_TRY_ASSIGN(auto layers, open_layer_snapshots(store, options.snapshotter));
  auto& snapshots = layers.snapshots;
  const content::StoreLayout layout(store.root().string());
  MASON_TRY_ASSIGN(auto top, ops::unpack_image(*snapshots, store, img.manifest, img.config));
  MASON_TRY_ASSIGN(auto active, snapshots->prepare(top));
  MASON_TRY_ASSIGN(auto exec,
                   executor::make_runtime_executor(
                       {options.runtime, layout.runtime_state(), options.runtime_search_path}));

  executor::RunSpec spec;
  spec.rootfs = active->path();
  spec.network = options.network;
  spec.stdin_null = false;
  MASON_TRY_ASSIGN(auto args, command_line(img.config, options));
  spec.process.args = std::move(args);
  spec.process.env = environment(img.config, options);
  spec.process.cwd = !options.workdir.empty()                ? options.workdir
                     : img.config.config.working_dir.empty() ? "/"
                                                             : img.config.config.working_dir;
  const std::string user = options.user.empty() ? img.config.config.user : options.user;
  if (!user.empty()) {
    util::UniqueFd fd(::open(spec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    MASON_TRY_ASSIGN(auto id, ops::resolve_user(fd.get(), user, true));
    spec.process.uid = id.uid;
    spec.process.gid = id.gid;
    spec.process.additional_gids = id.additional_gids;
  }
  auto result = exec->run(spec, [](executor::OutputStream s, std::string_view chunk) {
    write_all(s == executor::OutputStream::out ? STDOUT_FILENO : STDERR_FILENO, chunk);
  });
  if (!result) return std::unexpected(result.error());
  return result->exit_code;
}

} // namespace mason::engine
