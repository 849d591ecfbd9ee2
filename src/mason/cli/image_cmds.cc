// Image commands over the local store: import, images, inspect, history,
// tag, rmi, save, load, prune, du. Each opens the store itself (no daemon).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mason/cli/commands.h"
#include "mason/cli/environment.h"
#include "mason/content/layout.h"
#include "mason/content/root.h"
#include "mason/content/store.h"
#include "mason/engine/import.h"
#include "mason/engine/run_image.h"
#include "mason/exporter/load.h"
#include "mason/exporter/local_image.h"
#include "mason/exporter/save.h"
#include "mason/gc/gc.h"
#include "mason/image/reference.h"
#include "mason/util/strings.h"

namespace mason::cli {

util::Result<std::unique_ptr<content::Store>> open_store(const GlobalOptions& g) {
  MASON_TRY_ASSIGN(auto root, content::resolve_root(root_env(g.root)));
  auto store = content::Store::open(root);
  if (!store) return std::unexpected(store.error().with_context("open store " + root.string()));
  return store;
}

void unpack_layers(content::Store& store, const image::Digest& manifest) {
  // An ordinary user cannot make the layers' owners and whiteout devices
  // yet (rootless unpacking comes with user namespaces): such a store
  // unpacks at first use, where the step that needs the layers says why not.
  if (::geteuid() != 0) return;
  if (auto ok = engine::unpack_image_layers(store, manifest); !ok)
    fmt::print(stderr, "warning: image {} was stored, its layers are unpacked at first use: {}\n",
               manifest.str(), ok.error().to_string());
}

namespace {

using nlohmann::ordered_json;

using util::human_size;

std::string short_id(const image::Digest& d) { return std::string(d.hex().substr(0, 12)); }

// "busybox:latest" -> {"busybox", "latest"}
std::pair<std::string, std::string> repo_and_tag(const std::string& store_name) {
  auto ref = image::Reference::parse(store_name);
  if (!ref) return {store_name, ""};
  const auto familiar = ref->familiar_name();
  return {familiar, ref->tag()};
}

// docker inspect's Config: every field present (null or empty when the
// image does not set it), the image's own values over them.
ordered_json config_object(const image::ImageConfig& config) {
  ordered_json out = {{"Hostname", ""},          {"Domainname", ""},       {"User", ""},
                      {"AttachStdin", false},    {"AttachStdout", false},  {"AttachStderr", false},
                      {"ExposedPorts", nullptr}, {"Tty", false},           {"OpenStdin", false},
                      {"StdinOnce", false},      {"Env", nullptr},         {"Cmd", nullptr},
                      {"Healthcheck", nullptr},  {"ArgsEscaped", nullptr}, {"Image", ""},
                      {"Volumes", nullptr},      {"WorkingDir", ""},       {"Entrypoint", nullptr},
                      {"OnBuild", nullptr},      {"Labels", nullptr},      {"StopSignal", nullptr},
                      {"Shell", nullptr}};
  auto j = ordered_json::parse(config.raw, nullptr, false);
  if (j.is_discarded() || !j.contains("config") || !j["config"].is_object()) return out;
  for (const auto& [key, value] : j["config"].items()) out[key] = value;
  return out;
}

// "busybox@sha256:..." for every repository the manifest was pulled from or
// pushed to (the store records them as "host/path" sources of the digest),
// and for the indexes holding it (a multi-platform pull: docker shows the
// index's digest).
ordered_json repo_digests(const content::Store& store, const image::Digest& manifest) {
  ordered_json out = ordered_json::array();
  std::vector<image::Digest> digests{manifest};
  if (auto indexes = store.referrers(manifest))
    digests.insert(digests.end(), indexes->begin(), indexes->end());
  std::vector<std::string> names;
  for (const auto& digest : digests) {
    auto sources = store.blob_sources(digest);
    if (!sources) continue;
    for (const auto& source : *sources) {
      std::string name = source;
      if (name.starts_with("registry-1.docker.io/")) name.replace(0, 20, "docker.io");
      auto ref = image::Reference::parse(name + "@" + digest.str());
      if (!ref) continue;
      auto shown = ref->familiar_name() + "@" + digest.str();
      if (std::ranges::find(names, shown) == names.end()) names.push_back(std::move(shown));
    }
  }
  std::ranges::sort(names);
  for (auto& n : names) out.push_back(std::move(n));
  return out;
}

util::Result<ordered_json> inspect_json(content::Store& store, const exporter::LocalImage& img) {
  MASON_TRY_ASSIGN(auto size, exporter::image_size(store, img));
  ordered_json tags = ordered_json::array();
  for (const auto& n : img.names)
    if (auto d = exporter::display_name(n); !d.empty()) tags.push_back(d);
  ordered_json layers = ordered_json::array();
  for (const auto& d : img.config.rootfs.diff_ids) layers.push_back(d.str());
  ordered_json j;
  j["Id"] = img.config.digest.str();
  j["Digest"] = img.target.digest.str();
  j["RepoTags"] = tags;
  j["RepoDigests"] = repo_digests(store, img.target.digest);
  j["Parent"] = "";
  j["Comment"] = img.config.history.empty() ? "" : img.config.history.back().comment;
  j["Created"] = img.config.created;
  j["Author"] = img.config.author;
  j["Config"] = config_object(img.config);
  j["Architecture"] = img.config.architecture;
  if (!img.config.variant.empty()) j["Variant"] = img.config.variant;
  j["Os"] = img.config.os;
  j["Size"] = size;
  j["RootFS"] = {{"Type", img.config.rootfs.type}, {"Layers", layers}};
  j["Manifest"] = ordered_json::parse(img.manifest.raw, nullptr, false);
  return j;
}

util::Status run_import(const GlobalOptions& g, const std::string& file, const std::string& name,
                        const std::vector<std::string>& changes) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  int fd = STDIN_FILENO;
  if (file != "-") {
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return util::errno_error("open " + file, errno);
  }
  engine::ImportOptions opt{changes, file};
  auto img = engine::import_rootfs(*store, fd, name, opt);
  if (fd != STDIN_FILENO) ::close(fd);
  if (!img) return std::unexpected(img.error());
  std::cout << img->config.digest.str() << '\n';
  return {};
}

util::Status run_images(const GlobalOptions& g, bool quiet) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  MASON_TRY_ASSIGN(auto images, exporter::list_local_images(*store));
  if (!quiet)
    std::cout << fmt::format("{:<40} {:<16} {:<14} {:<22} {}\n", "REPOSITORY", "TAG", "IMAGE ID",
                             "CREATED", "SIZE");
  for (const auto& img : images) {
    auto size = exporter::image_size(*store, img);
    for (const auto& name : img.names) {
      if (quiet) {
        std::cout << short_id(img.config.digest) << '\n';
        continue;
      }
      auto [repo, tag] = name.starts_with(exporter::k_untagged_prefix)
                             ? std::pair<std::string, std::string>{"<none>", "<none>"}
                             : repo_and_tag(name);
      std::cout << fmt::format("{:<40} {:<16} {:<14} {:<22} {}\n", repo,
                               tag.empty() ? "<none>" : tag, short_id(img.config.digest),
                               img.config.created.substr(0, 19), size ? human_size(*size) : "?");
    }
  }
  return {};
}

util::Status run_inspect(const GlobalOptions& g, const std::vector<std::string>& names) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  ordered_json out = ordered_json::array();
  for (const auto& n : names) {
    MASON_TRY_ASSIGN(auto img, exporter::find_local_image(*store, n));
    MASON_TRY_ASSIGN(auto j, inspect_json(*store, img));
    out.push_back(std::move(j));
  }
  std::cout << out.dump(4, ' ', false, ordered_json::error_handler_t::replace) << '\n';
  return {};
}

util::Status run_history(const GlobalOptions& g, const std::string& name) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  MASON_TRY_ASSIGN(auto img, exporter::find_local_image(*store, name));
  std::cout << fmt::format("{:<14} {:<22} {:<50} {:<10} {}\n", "IMAGE", "CREATED", "CREATED BY",
                           "SIZE", "COMMENT");
  std::size_t layer = img.manifest.layers.size();
  const auto& h = img.config.history;
  for (auto it = h.rbegin(); it != h.rend(); ++it) {
    std::string size = "0B";
    if (!it->empty_layer && layer > 0) {
      --layer;
      // uncompressed, as `mason images` and docker history
      MASON_TRY_ASSIGN(auto bytes,
                       exporter::remember_uncompressed_size(*store, img.manifest.layers[layer]));
      size = human_size(bytes);
    }
    auto by = it->created_by;
    if (by.size() > 50) by = by.substr(0, 47) + "...";
    std::cout << fmt::format("{:<14} {:<22} {:<50} {:<10} {}\n",
                             it == h.rbegin() ? short_id(img.config.digest) : "<missing>",
                             it->created.substr(0, 19), by, size, it->comment);
  }
  return {};
}

util::Status run_tag(const GlobalOptions& g, const std::string& src, const std::string& dst) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  MASON_TRY_ASSIGN(auto img, exporter::find_local_image(*store, src));
  MASON_TRY_ASSIGN(auto name, exporter::normalize_tag(dst));
  return store->tag(name, img.target);
}

util::Status run_rmi(const GlobalOptions& g, const std::vector<std::string>& names) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  for (const auto& n : names) {
    auto tag = exporter::normalize_tag(n);
    if (tag && store->resolve(*tag)) {
      if (auto r = store->untag(*tag); !r) return r;
      std::cout << "Untagged: " << exporter::display_name(*tag) << '\n';
      continue;
    }
    MASON_TRY_ASSIGN(auto img, exporter::find_local_image(*store, n));
    for (const auto& name : img.names) {
      if (auto r = store->untag(name); !r) return r;
      if (auto d = exporter::display_name(name); !d.empty()) std::cout << "Untagged: " << d << '\n';
    }
    std::cout << "Deleted: " << img.config.digest.str() << '\n';
  }
  return {};
}

util::Status run_save(const GlobalOptions& g, const std::vector<std::string>& names,
                      std::string output, const std::string& format_name) {
  auto format = exporter::parse_save_format(format_name);
  if (!format) return std::unexpected(format.error());
  if (output.empty()) {
    if (*format == exporter::SaveFormat::oci_dir)
      return util::make_error(util::ErrorCode::invalid_argument, "--format oci-dir needs -o DIR");
    if (::isatty(STDOUT_FILENO))
      return util::make_error(
          util::ErrorCode::invalid_argument,
          "refusing to write an archive to a terminal: use -o FILE or redirect");
    output = "-";
  }
  MASON_TRY_ASSIGN(auto store, open_store(g));
  std::vector<exporter::SaveItem> items;
  for (const auto& n : names) {
    MASON_TRY_ASSIGN(auto img, exporter::find_local_image(*store, n));
    std::vector<std::string> tags;
    auto tag = exporter::normalize_tag(n);
    if (tag && store->resolve(*tag))
      tags.push_back(*tag); // saved under the name given
    else
      for (const auto& name : img.names)
        if (!name.starts_with(exporter::k_untagged_prefix)) tags.push_back(name);
    items.push_back({std::move(img), std::move(tags)});
  }
  return exporter::save_images(*store, items, *format, output);
}

util::Status run_load(const GlobalOptions& g, const std::string& input, bool quiet) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  int fd = STDIN_FILENO;
  if (!input.empty() && input != "-") {
    fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return util::errno_error("open " + input, errno);
  }
  auto images = exporter::load_archive(*store, fd);
  if (fd != STDIN_FILENO) ::close(fd);
  if (!images)
    return std::unexpected(images.error().with_context("load " + (input.empty() ? "-" : input)));
  for (const auto& img : *images) unpack_layers(*store, img.target.digest);
  if (quiet) return {};
  for (const auto& img : *images) {
    bool named = false;
    for (const auto& n : img.names)
      if (auto d = exporter::display_name(n); !d.empty()) {
        std::cout << "Loaded image: " << d << '\n';
        named = true;
      }
    if (!named) std::cout << "Loaded image ID: " << img.config.digest.str() << '\n';
  }
  return {};
}

util::Status run_prune(const GlobalOptions& g, bool dry_run) {
  MASON_TRY_ASSIGN(auto store, open_store(g));
  MASON_TRY_ASSIGN(auto report, gc::prune_store(*store, dry_run));
  for (const auto& d : report.blobs)
    std::cout << (dry_run ? "Would delete: " : "Deleted: ") << d.str() << '\n';
  if (report.layers_skipped)
    std::cout << "Image layer snapshots: skipped (a build or a container is running)\n";
  for (const auto& id : report.layers)
    std::cout << (dry_run ? "Would delete layer snapshot: " : "Deleted layer snapshot: ") << id
              << '\n';
  std::cout << "Total reclaimed space: " << human_size(report.bytes) << '\n';
  return {};
}

struct FileTrees {
  content::Usage layers, built, mounts;
};

// What the snapshot directories (both kinds, where present) and the cache
// mounts take on disk.
util::Result<FileTrees> file_trees(const std::string& root) {
  FileTrees out;
  MASON_TRY_ASSIGN(auto all, gc::existing_snapshotters(root));
  for (const auto& snapshots : all) {
    MASON_TRY_ASSIGN(auto listed, snapshots->list());
    for (const auto& s : listed) {
      auto used = snapshots->usage(s.id);
      if (!used) continue; // removed meanwhile
      auto& u = s.unpacked ? out.layers : out.built;
      ++u.count;
      u.bytes += used->bytes;
    }
  }
  MASON_TRY_ASSIGN(auto mounts, gc::list_cache_mounts(root));
  for (const auto& m : mounts) {
    ++out.mounts.count;
    out.mounts.bytes += m.bytes;
  }
  return out;
}

util::Status run_du(const GlobalOptions& g) {
  auto store = open_store(g);
  if (!store) return std::unexpected(store.error());
  MASON_TRY_ASSIGN(auto du, (*store)->disk_usage());
  const std::pair<const char*, content::Usage> rows[] = {
      {"manifests", du.manifests}, {"configs", du.configs},   {"layers", du.layers},
      {"other", du.other},         {"build cache", du.cache}, {"unreferenced", du.unreferenced},
      {"ingest", du.ingest},       {"metadata", du.metadata}};
  std::cout << fmt::format("{:<16} {:>8} {:>12}\n", "KIND", "COUNT", "SIZE");
  for (const auto& [name, u] : rows)
    std::cout << fmt::format("{:<16} {:>8} {:>12}\n", name, u.count, human_size(u.bytes));
  // Beside the blobs: the unpacked image layers, the snapshots builds made
  // (the build cache's file trees) and the cache mounts (disk bytes).
  MASON_TRY_ASSIGN(auto files, file_trees((*store)->root().string()));
  const std::pair<const char*, content::Usage> trees[] = {{"layer snapshots", files.layers},
                                                          {"build snapshots", files.built},
                                                          {"cache mounts", files.mounts}};
  std::int64_t total = du.total_bytes();
  for (const auto& [name, u] : trees) {
    std::cout << fmt::format("{:<16} {:>8} {:>12}\n", name, u.count, human_size(u.bytes));
    total += u.bytes;
  }
  std::cout << fmt::format("{:<16} {:>8} {:>12}\n", "total", "", human_size(total));
  // Which snapshotter the store's builds use, and why (a fallback to
  // copies costs disk and time: say so, with the fix).
  const auto dir = content::StoreLayout((*store)->root().string()).snapshots(false);
  if (::access(dir.c_str(), F_OK) != 0) {
    std::cout << "snapshotter: not chosen yet (the first build probes overlayfs)\n";
    return {};
  }
  std::string why;
  MASON_TRY_ASSIGN(auto snapshots,
                   snapshot::open_snapshotter(dir, snapshot::KindChoice::automatic, &why));
  if (snapshots->kind() == snapshot::Kind::overlay)
    std::cout << "snapshotter: overlay\n";
  else
    std::cout << fmt::format("snapshotter: {}\n  {}\n", why, snapshot::k_copy_fallback_hint);
  return {};
}

} // namespace

void register_image_commands(CLI::App& app, ChosenCommand& chosen, const GlobalOptions& g) {
  {
    struct O {
      std::string file, name;
      std::vector<std::string> changes;
    };
    auto o = std::make_shared<O>();
    auto* c = app.add_subcommand("import", "Create an image from a root filesystem tarball");
    c->add_option("file", o->file, "Tarball (plain, gzip or zstd), or - for stdin")->required();
    c->add_option("name", o->name, "Image name[:tag]")->required();
    c->add_option("-c,--change", o->changes, "Dockerfile instruction to apply (repeatable)")
        ->allow_extra_args(false);
    c->callback([&chosen, &g, o] {
      chosen.set([&g, o] { return run_import(g, o->file, o->name, o->changes); });
    });
  }
  {
    auto quiet = std::make_shared<bool>(false);
    auto* c = app.add_subcommand("images", "List images in the store");
    c->add_flag("-q,--quiet", *quiet, "Only show image IDs");
    c->callback(
        [&chosen, &g, quiet] { chosen.set([&g, quiet] { return run_images(g, *quiet); }); });
  }
  {
    auto names = std::make_shared<std::vector<std::string>>();
    auto* c = app.add_subcommand("inspect", "Show an image's configuration and manifest as JSON");
    c->add_option("image", *names, "Image name or ID")->required();
    c->callback(
        [&chosen, &g, names] { chosen.set([&g, names] { return run_inspect(g, *names); }); });
  }
  {
    auto name = std::make_shared<std::string>();
    auto* c = app.add_subcommand("history", "Show the history of an image");
    c->add_option("image", *name, "Image name or ID")->required();
    c->callback([&chosen, &g, name] { chosen.set([&g, name] { return run_history(g, *name); }); });
  }
  {
    auto src = std::make_shared<std::pair<std::string, std::string>>();
    auto* c = app.add_subcommand("tag", "Give an image another name");
    c->add_option("source", src->first, "Image name or ID")->required();
    c->add_option("target", src->second, "New name[:tag]")->required();
    c->callback([&chosen, &g, src] {
      chosen.set([&g, src] { return run_tag(g, src->first, src->second); });
    });
  }
  {
    auto names = std::make_shared<std::vector<std::string>>();
    auto* c = app.add_subcommand("rmi", "Remove image names (blobs are freed by prune)");
    c->add_option("image", *names, "Image name or ID")->required();
    c->callback([&chosen, &g, names] { chosen.set([&g, names] { return run_rmi(g, *names); }); });
  }
  {
    struct O {
      std::vector<std::string> names;
      std::string output, format = "docker-archive";
    };
    auto o = std::make_shared<O>();
    auto* c = app.add_subcommand(
        "save", "Write images to an archive (docker-archive, oci-archive, oci-dir)");
    c->add_option("image", o->names, "Image names or IDs")->required();
    c->add_option("-o,--output", o->output, "Output file (directory for oci-dir); default stdout");
    c->add_option("--format", o->format, "docker-archive (default), oci-archive or oci-dir")
        ->capture_default_str();
    c->callback([&chosen, &g, o] {
      chosen.set([&g, o] { return run_save(g, o->names, o->output, o->format); });
    });
  }
  {
    struct O {
      std::string input;
      bool quiet = false;
    };
    auto o = std::make_shared<O>();
    auto* c = app.add_subcommand("load", "Load images from a docker or OCI archive");
    c->add_option("-i,--input", o->input, "Archive to read (default stdin)");
    c->add_flag("-q,--quiet", o->quiet, "Print nothing");
    c->callback(
        [&chosen, &g, o] { chosen.set([&g, o] { return run_load(g, o->input, o->quiet); }); });
  }
  {
    auto dry = std::make_shared<bool>(false);
    auto* c =
        app.add_subcommand("prune", "Delete blobs and unpacked image layers no image refers to");
    c->add_flag("--dry-run", *dry, "Only report what would be deleted");
    c->callback([&chosen, &g, dry] { chosen.set([&g, dry] { return run_prune(g, *dry); }); });
  }
  {
    auto* c = app.add_subcommand("du", "Show the store's disk usage by kind");
    c->callback([&chosen, &g] { chosen.set([&g] { return run_du(g); }); });
  }
}

} // namespace mason::cli
