// Lookup order for find_local_image: a reference that names a tag in the store;
// then a digest (manifest or config) or a hex prefix of an image ID,
// matched against every stored image (the store holds few images, so a
// scan is fine and keeps the schema simple).
#include "mason/exporter/local_image.h"

#include <algorithm>
#include <map>

#include "mason/archive/compression.h"
#include "mason/image/media_type.h"
#include "mason/image/platform.h"
#include "mason/image/reference.h"

namespace mason::exporter {

namespace {

util::Error not_found(std::string_view what) {
  return {util::ErrorCode::not_found, "no such image: " + std::string(what)};
}

// Reads the manifest behind `target` (choosing the host platform's entry
// of an index) and its config.
util::Result<LocalImage> load(const content::Store& store, const image::Descriptor& target) {
  LocalImage img;
  img.target = target;
  auto raw = store.read_blob(target.digest);
  if (!raw) return std::unexpected(raw.error());
  MASON_TRY_ASSIGN(auto type, target.media_type.empty()
                                  ? image::detect_media_type(*raw)
                                  : util::Result<std::string>(target.media_type));
  if (image::is_index(type)) {
    MASON_TRY_ASSIGN(auto index, image::parse_index(*raw));
    MASON_TRY_ASSIGN(auto chosen, image::select_manifest(index, image::host_platform()));
    img.target = chosen;
    raw = store.read_blob(chosen.digest);
    if (!raw) return std::unexpected(raw.error());
  }
  MASON_TRY_ASSIGN(auto manifest, image::parse_manifest(*raw));
  img.manifest = std::move(manifest);
  MASON_TRY_ASSIGN(auto config_raw, store.read_blob(img.manifest.config.digest));
  MASON_TRY_ASSIGN(auto config, image::parse_image_config(config_raw));
  img.config = std::move(config);
  return img;
}

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

} // namespace

std::optional<std::int64_t> known_uncompressed_size(const content::Store& store,
                                                    const image::Descriptor& layer) {
  const auto compression = image::layer_compression(layer.media_type);
  if (compression && *compression == image::Compression::none) return layer.size;
  if (auto info = store.blob_info(layer.digest); info && info->unpacked_size)
    return *info->unpacked_size;
  return std::nullopt;
}

namespace {

// Counted by decompressing the blob.
util::Result<std::int64_t> count_uncompressed_size(const content::Store& store,
                                                   const image::Descriptor& layer) {
  MASON_TRY_ASSIGN(auto fd, store.open_blob(layer.digest));
  archive::FdSource raw(fd.get());
  MASON_TRY_ASSIGN(auto reader, archive::LayerReader::open(raw));
  std::vector<std::byte> buf(1 << 16);
  for (;;) {
    MASON_TRY_ASSIGN(auto n, reader.read(buf));
    if (n == 0) break;
  }
  return reader.uncompressed_size();
}

} // namespace

util::Result<std::string> normalize_tag(std::string_view name) {
  MASON_TRY_ASSIGN(auto ref, image::Reference::parse(name));
  if (ref.has_digest())
    return util::make_error(util::ErrorCode::invalid_argument,
                            "cannot tag with a digest reference: " + std::string(name));
  return ref.str();
}

std::string display_name(std::string_view store_name) {
  if (store_name.starts_with(k_untagged_prefix)) return {};
  auto ref = image::Reference::parse(store_name);
  return ref ? ref->familiar() : std::string(store_name);
}

util::Result<std::vector<LocalImage>> list_local_images(const content::Store& store) {
  MASON_TRY_ASSIGN(auto records, store.list_images());
  std::map<std::string, LocalImage> by_manifest;
  std::vector<std::string> order;
  for (const auto& r : records) {
    auto it = by_manifest.find(r.target.digest.str());
    if (it == by_manifest.end()) {
      auto img = load(store, r.target);
      if (!img) return std::unexpected(img.error().with_context("read image " + r.name));
      it = by_manifest.emplace(r.target.digest.str(), std::move(*img)).first;
      order.push_back(r.target.digest.str());
    }
    it->second.names.push_back(r.name);
  }
  std::vector<LocalImage> out;
  out.reserve(order.size());
  for (const auto& key : order) out.push_back(std::move(by_manifest.at(key)));
  return out;
}

util::Result<LocalImage> find_local_image(const content::Store& store, std::string_view what) {
  if (what.empty()) return std::unexpected(not_found(what));
  // 1. A tagged name.
  if (auto ref = image::Reference::parse(what); ref && !ref->has_digest()) {
    if (auto target = store.resolve(ref->str())) {
      auto img = load(store, *target);
      if (!img) return img;
      auto all = list_local_images(store);
      if (all)
        for (const auto& other : *all)
          if (other.target.digest == img->target.digest) img->names = other.names;
      return img;
    }
  }
  // 2. A digest or an ID prefix.
  std::string_view hex = what;
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  if (!is_hex(hex) || hex.size() < 4) return std::unexpected(not_found(what));
  MASON_TRY_ASSIGN(auto all, list_local_images(store));
  const LocalImage* found = nullptr;
  for (const auto& img : all) {
    const bool match =
        img.config.digest.hex().starts_with(hex) || img.target.digest.hex().starts_with(hex);
    if (!match) continue;
    if (found && found->target.digest != img.target.digest)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "ambiguous image ID prefix: " + std::string(what));
    found = &img;
  }
  if (!found) return std::unexpected(not_found(what));
  return *found;
}

util::Result<LocalImage> store_image(content::Store& store, image::ImageConfig config,
                                     const std::vector<image::Descriptor>& layers,
                                     const std::vector<std::string>& tags,
                                     image::TypeFamily family) {
  if (config.raw.empty()) config.seal(); // a loaded config keeps its bytes (the image ID)
  image::Manifest manifest;
  manifest.media_type = std::string(image::media_type::oci_manifest);
  manifest.config = config.descriptor(image::media_type::oci_config);
  manifest.layers = layers;
  manifest = image::with_family(manifest, family);
  if (manifest.raw.empty()) manifest.seal();
  // Stored and named so before (an unchanged rebuild): nothing is written.
  const image::Digest digest = manifest.digest; // `manifest` moves into the result below
  const auto named = [&](const std::string& name) {
    auto current = store.resolve(name);
    return current && current->digest == digest;
  };
  if (!tags.empty() && std::all_of(tags.begin(), tags.end(), named) &&
      store.has_blob(manifest.config.digest))
    return LocalImage{tags, manifest.descriptor(), std::move(manifest), std::move(config)};
  content::IngestOptions config_opts;
  config_opts.media_type = manifest.config.media_type;
  auto config_desc = store.ingest_bytes(config.raw, config_opts);
  if (!config_desc) return std::unexpected(config_desc.error().with_context("store config"));
  content::IngestOptions manifest_opts;
  manifest_opts.media_type = manifest.media_type;
  const bool stored_before = store.has_blob(manifest.digest);
  auto manifest_desc = store.ingest_bytes(manifest.raw, manifest_opts);
  if (!manifest_desc) return std::unexpected(manifest_desc.error().with_context("store manifest"));
  std::vector<image::Descriptor> children = {manifest.config};
  children.insert(children.end(), manifest.layers.begin(), manifest.layers.end());
  // An image stored before (now named anew) gets no second set of references.
  auto same_children = [&] {
    auto known = store.references(manifest.digest);
    if (!known || known->size() != children.size()) return false;
    for (std::size_t i = 0; i < children.size(); ++i)
      if ((*known)[i].digest != children[i].digest) return false;
    return true;
  };
  if (!stored_before || !same_children())
    MASON_TRY(store.record_references(manifest.digest, children));
  LocalImage img{{}, manifest.descriptor(), std::move(manifest), std::move(config)};
  for (const auto& name : tags) {
    if (!named(name)) MASON_TRY(store.tag(name, img.target));
    img.names.push_back(name);
  }
  return img;
}

util::Result<std::int64_t> layer_uncompressed_size(const content::Store& store,
                                                   const image::Descriptor& layer) {
  if (auto known = known_uncompressed_size(store, layer)) return *known;
  return count_uncompressed_size(store, layer);
}

util::Result<std::int64_t> remember_uncompressed_size(content::Store& store,
                                                      const image::Descriptor& layer) {
  if (auto known = known_uncompressed_size(store, layer)) return *known;
  auto size = count_uncompressed_size(store, layer);
  if (!size) return size;
  content::BlobAnnotation note;
  note.unpacked_size = *size;
  (void)store.annotate_blob(layer.digest, note); // a cache: failing to keep it costs time only
  return size;
}

util::Result<std::int64_t> image_size(content::Store& store, const LocalImage& img) {
  std::int64_t total = 0;
  for (const auto& layer : img.manifest.layers) {
    MASON_TRY_ASSIGN(auto size, remember_uncompressed_size(store, layer));
    total += size;
  }
  return total;
}

} // namespace mason::exporter
