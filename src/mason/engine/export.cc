// Export: the target stage's result → an image in the store (layers diffed
// from this build's snapshots, base image layers reused as they are) and
// the requested outputs (oci/docker archives from the stored image, local
// directory and tar from the stage's file system, which need no layers).
#include "mason/engine/export.h"
#include "mason/content/layout.h"

#include <fcntl.h>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/archive/layer.h"
#include "mason/archive/stream.h"
#include "mason/exporter/save.h"
#include "mason/image/reference.h"
#include "mason/sys/dir.h"
#include "mason/sys/temp_dir.h"
#include "mason/util/strings.h"

namespace mason::engine {
namespace {

// Tree sizes of committed snapshots never change: they are remembered in a
// small file under the store root ("<size> <key>" lines,
// StoreLayout::tree_sizes), so that a rebuild does not walk every stage's
// tree again. (Uncompressed layer sizes live in the store's blob metadata.)
std::string tree_sizes_file(const Engine& engine) {
  return content::StoreLayout(engine.store.root().string()).tree_sizes();
}

std::optional<std::int64_t> remembered_tree_size(const Engine& engine, const std::string& key) {
  std::ifstream in(tree_sizes_file(engine));
  std::int64_t size = 0;
  std::string line_key;
  while (in >> size && std::getline(in >> std::ws, line_key))
    if (line_key == key) return size;
  return std::nullopt;
}

void remember_tree_size(const Engine& engine, const std::string& key, std::int64_t size) {
  std::ofstream out(tree_sizes_file(engine), std::ios::app);
  out << size << ' ' << key << '\n';
}

// Kept in the store's blob metadata: counted once per layer blob.
util::Result<std::int64_t> uncompressed_size(Engine& engine, const image::Descriptor& layer) {
  return exporter::remember_uncompressed_size(engine.store, layer);
}

struct Layer {
  image::Descriptor descriptor;
  image::Digest diff_id;
  std::int64_t uncompressed = 0;
  bool exact = true; // false: a blob never unpacked here, counted compressed
};

util::Result<std::vector<Layer>> layers_of(Engine& engine, const StageResult& result,
                                           const progress::Reporter& vertex) {
  std::vector<Layer> out;
  engine.report_transfers_to(vertex);
  MASON_TRY(engine.fetch_layers(result.layers));
  for (const auto& ref : result.layers) {
    if (ref.blob) { // a base's or an imported one: not decompressed only to be counted
      const auto known = exporter::known_uncompressed_size(engine.store, *ref.blob);
      out.push_back(
          Layer{*ref.blob, *ref.diff_id, known.value_or(ref.blob->size), known.has_value()});
      continue;
    }
    auto layer = step_layer(engine, *ref.snapshot, ref.cache_key);
    if (!layer) return std::unexpected(layer.error());
    MASON_TRY_ASSIGN(auto size, uncompressed_size(engine, layer->descriptor));
    if (layer->made)
      vertex.status(fmt::format("exporting layer {} {}", layer->descriptor.digest.str(),
                                util::human_size(layer->descriptor.size)));
    out.push_back(Layer{layer->descriptor, layer->diff_id, size});
  }
  return out;
}

image::ImageConfig final_config(const Engine& engine, const StageResult& result,
                                const std::vector<Layer>& layers) {
  image::ImageConfig config = result.config;
  config.raw.clear();
  // As BuildKit: the image is as old as its newest layer, so a rebuild
  // answered from the cache gives the same image (and the same ID).
  const std::string created =
      result.last_layer_time.empty() ? engine.build_time : result.last_layer_time;
  config.created = created;
  config.rootfs.type = "layers";
  config.rootfs.diff_ids.clear();
  for (const auto& l : layers) config.rootfs.diff_ids.push_back(l.diff_id);
  for (auto& h : config.history)
    if (h.created.empty()) h.created = created;
  return config;
}

// The stage's file system as a plain tar (no compression) into `out`.
util::Status write_tree_tar(Engine& engine, const std::optional<std::string>& snapshot,
                            archive::Sink& out) {
  MASON_TRY_ASSIGN(auto view, engine.snapshots.view(snapshot));
  archive::LayerOptions opts;
  opts.compress.compression = archive::Compression::none;
  MASON_TRY(archive::write_layer(view->path(), opts, out));
  return {};
}

util::Status export_tar(Engine& engine, const StageResult& result, const std::string& dest) {
  util::UniqueFd fd(dest == "-"
                        ? ::dup(STDOUT_FILENO)
                        : ::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return util::errno_error("open " + dest, errno);
  archive::FdSink sink(fd.get());
  MASON_TRY_ASSIGN(auto root, engine.root_of(result));
  return write_tree_tar(engine, root, sink);
}

util::Status export_local(Engine& engine, const StageResult& result, const std::string& dest) {
  if (::mkdir(dest.c_str(), 0755) != 0 && errno != EEXIST)
    return util::errno_error("create " + dest, errno);
  util::UniqueFd dir(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return util::errno_error("open " + dest, errno);
  MASON_TRY_ASSIGN(auto tmp, sys::TempDir::create_in(engine.work_dir, "local-"));
  const std::string tar = tmp.path() + "/fs.tar";
  {
    util::UniqueFd fd(::open(tar.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return util::errno_error("create " + tar, errno);
    archive::FdSink sink(fd.get());
    MASON_TRY_ASSIGN(auto root, engine.root_of(result));
    if (auto r = write_tree_tar(engine, root, sink); !r) return r;
  }
  util::UniqueFd in(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return util::errno_error("open " + tar, errno);
  archive::FdSource source(in.get());
  archive::ApplyOptions opts;
  opts.read.compression = archive::Compression::none;
  MASON_TRY(archive::apply_layer(source, dir.get(), opts));
  return {};
}

bool wants_image(const BuildOptions& options) {
  if (options.outputs.empty()) return true;
  for (const auto& o : options.outputs)
    if (o.type != OutputType::local && o.type != OutputType::tar) return true;
  return false;
}

bool keeps_untagged(const BuildOptions& options) {
  if (options.outputs.empty()) return true;
  for (const auto& o : options.outputs)
    if (o.type == OutputType::image) return true;
  return false;
}

// The media types of the image stored (and pushed): oci-mediatypes of the
// image and registry outputs, else Docker's, as BuildKit's image exporter.
util::Result<image::TypeFamily> stored_family(const BuildOptions& options) {
  std::optional<bool> oci;
  for (const auto& o : options.outputs) {
    if (o.type != OutputType::image && o.type != OutputType::registry) continue;
    if (!o.oci_mediatypes) continue;
    if (oci && *oci != *o.oci_mediatypes)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "the image outputs ask for different oci-mediatypes");
    oci = o.oci_mediatypes;
  }
  return oci.value_or(false) ? image::TypeFamily::oci : image::TypeFamily::docker;
}

util::Result<std::vector<std::string>> normalized(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    auto t = exporter::normalize_tag(n);
    if (!t) return std::unexpected(std::move(t.error()).with_context("tag " + n));
    out.push_back(*t);
  }
  return out;
}

// --push, type=image,push=true and type=registry: each name is pushed.
util::Status push_image(Engine& engine, const exporter::LocalImage& img,
                        const progress::Reporter& vertex) {
  std::vector<std::string> names;
  const auto& o = engine.options;
  if (o.push) names = o.tags;
  for (const auto& out : o.outputs)
    if (out.type == OutputType::registry || (out.type == OutputType::image && out.push))
      names.insert(names.end(), out.names.begin(), out.names.end());
  if (names.empty()) {
    if (o.push)
      return util::make_error(util::ErrorCode::invalid_argument, "--push needs a tag (-t)");
    return {};
  }
  MASON_TRY_ASSIGN(auto client, engine.registry());
  engine.report_transfers_to(vertex);
  for (const auto& name : names) {
    MASON_TRY_ASSIGN(auto ref, image::Reference::parse(name));
    vertex.status("pushing " + ref.str());
    auto pushed = client->push(engine.store, img.target, ref);
    if (!pushed)
      return std::unexpected(std::move(pushed.error()).with_context("push " + ref.str()));
    vertex.status("pushed " + ref.str() + "@" + pushed->digest.str());
  }
  return {};
}

util::Status write_outputs(Engine& engine, const StageResult& result, BuildResult& out) {
  for (const auto& o : engine.options.outputs) {
    util::Status r;
    switch (o.type) {
    case OutputType::image:
    case OutputType::registry: break; // stored and pushed in export_target
    case OutputType::oci:
    case OutputType::docker: {
      MASON_TRY_ASSIGN(auto tags, normalized(o.names.empty() ? engine.options.tags : o.names));
      exporter::SaveItem item{*out.image, tags};
      r = exporter::save_images(engine.store, {item},
                                o.type == OutputType::oci ? exporter::SaveFormat::oci_archive
                                                          : exporter::SaveFormat::docker_archive,
                                o.dest,
                                o.oci_mediatypes.value_or(true) ? image::TypeFamily::oci
                                                                : image::TypeFamily::docker);
      break;
    }
    case OutputType::local: r = export_local(engine, result, o.dest); break;
    case OutputType::tar: r = export_tar(engine, result, o.dest); break;
    }
    if (!r) return std::unexpected(std::move(r.error()).with_context("output " + o.dest));
  }
  return {};
}

} // namespace

util::Result<StepLayer> step_layer(Engine& engine, const std::string& snapshot,
                                   const std::optional<std::string>& cache_key) {
  if (cache_key)
    if (auto cached = engine.store.cache_layer(*cache_key, k_layer_variant); cached && *cached)
      return StepLayer{(*cached)->layer, (*cached)->diff_id, false};
  MASON_TRY_ASSIGN(auto writer, engine.store.new_writer());
  WriterSink sink(writer);
  archive::LayerOptions options;
  options.compress.level = engine.options.compression_level;
  MASON_TRY_ASSIGN(auto info, engine.snapshots.diff(snapshot, options, sink));
  MASON_TRY(writer.commit(info.digest));
  StepLayer out{info.descriptor(), info.diff_id, true};
  // The uncompressed size goes with the cache layer's transaction (one
  // write per new layer); without a record, in a transaction of its own.
  bool kept = false;
  if (cache_key)
    kept = engine.store
               .set_cache_layer(
                   *cache_key, k_layer_variant,
                   content::CacheLayer{out.descriptor, out.diff_id, info.uncompressed_size})
               .has_value();
  if (!kept) {
    content::BlobAnnotation note;
    note.unpacked_size = info.uncompressed_size;
    (void)engine.store.annotate_blob(info.digest, note); // a cache: losing it costs time only
  }
  return out;
}

util::Result<std::int64_t> tree_size(Engine& engine, const std::optional<std::string>& snapshot) {
  if (!snapshot) return 0;
  if (auto known = remembered_tree_size(engine, *snapshot)) return *known;
  MASON_TRY_ASSIGN(auto own, engine.snapshots.usage(*snapshot));
  std::int64_t size = own.apparent;
  if (engine.snapshots.kind() == snapshot::Kind::overlay) { // a chain of changes: add the parent's
    MASON_TRY_ASSIGN(auto parent, engine.snapshots.parent(*snapshot));
    MASON_TRY_ASSIGN(auto below, tree_size(engine, parent));
    size += below;
  }
  remember_tree_size(engine, *snapshot, size);
  return size;
}

util::Status export_target(Engine& engine, int target, BuildResult& out) {
  const auto& result = *engine.results.at(static_cast<std::size_t>(target));
  if (wants_image(engine.options)) {
    auto vertex = engine.progress.vertex();
    vertex.started("exporting to image");
    auto layers = layers_of(engine, result, vertex);
    if (!layers) return std::unexpected(layers.error());
    auto config = final_config(engine, result, *layers);
    std::vector<image::Descriptor> descriptors;
    for (const auto& l : *layers) {
      descriptors.push_back(l.descriptor);
      out.image_size += l.uncompressed;
      out.image_size_exact = out.image_size_exact && l.exact;
    }
    std::vector<std::string> names = engine.options.tags;
    for (const auto& o : engine.options.outputs)
      if (o.type == OutputType::image || o.type == OutputType::registry)
        names.insert(names.end(), o.names.begin(), o.names.end());
    MASON_TRY_ASSIGN(auto tags, normalized(names));
    MASON_TRY_ASSIGN(auto family, stored_family(engine.options));
    MASON_TRY_ASSIGN(auto stored, exporter::store_image(engine.store, std::move(config),
                                                        descriptors, tags, family));
    if (!image::in_family(stored.manifest, family))
      vertex.status("zstd layers need OCI media types: the manifest uses them");
    if (tags.empty() && keeps_untagged(engine.options)) {
      // like docker's dangling images: kept (GC-safe) until removed
      const auto name = std::string(exporter::k_untagged_prefix) + stored.target.digest.str();
      auto current = engine.store.resolve(name);
      if (!current || current->digest != stored.target.digest)
        if (auto r = engine.store.tag(name, stored.target); !r) return r;
    }
    out.image_id = stored.config.digest;
    vertex.status("writing image " + out.image_id.str());
    for (const auto& t : tags) vertex.status("naming to " + t);
    out.image = std::move(stored);
    if (auto r = push_image(engine, *out.image, vertex); !r) {
      vertex.failed(r.error().to_string());
      return r;
    }
    vertex.done();
  }
  return write_outputs(engine, result, out);
}

} // namespace mason::engine
