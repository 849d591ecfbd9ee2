#include "mason/engine/cache_transfer.h"

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mason/archive/layer.h"
#include "mason/archive/stream.h"
#include "mason/engine/export.h"
#include "mason/image/manifest.h"
#include "mason/image/reference.h"
#include "mason/sys/dir.h"
#include "mason/sys/file.h"
#include "mason/util/sha256.h"

namespace mason::engine {

namespace {

using nlohmann::json;

constexpr std::string_view k_ref_annotation = "org.opencontainers.image.ref.name";

bool valid_key(const std::string& key) {
  return key.size() == 71 && key.starts_with("sha256:") &&
         key.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

std::string default_tag(const Engine& engine, int target) {
  const auto& name = engine.graph.stages.at(static_cast<std::size_t>(target)).name;
  return engine.options.target.empty() || name.empty() ? "latest" : name;
}

// The layer of a cached step (export.cc's step_layer).
util::Result<content::CacheLayer> layer_of(Engine& engine, const CachedStep& step) {
  if (step.layer) { // another snapshot's (a --link merge's link layer) or a blob
    if (step.layer->blob) return content::CacheLayer{*step.layer->blob, *step.layer->diff_id};
    MASON_TRY_ASSIGN(auto layer, step_layer(engine, *step.layer->snapshot, step.layer->cache_key));
    return content::CacheLayer{layer.descriptor, layer.diff_id};
  }
  if (step.snapshot.empty()) { // imported, never applied: its layer is the imported blob
    const auto& imported = engine.imported.at(step.key);
    return content::CacheLayer{imported.blob, imported.diff_id};
  }
  MASON_TRY_ASSIGN(auto layer, step_layer(engine, step.snapshot, step.key));
  return content::CacheLayer{layer.descriptor, layer.diff_id};
}

// The steps to export: the target's chain (min) or every built stage's.
std::vector<CachedStep> steps_to_export(const Engine& engine, int target, bool max) {
  std::vector<CachedStep> out;
  std::set<std::string> seen;
  auto add = [&](const StageResult& r) {
    for (const auto& s : r.steps)
      if (seen.insert(s.key).second) out.push_back(s);
  };
  if (max) {
    for (const auto& r : engine.results)
      if (r) add(*r);
  } else if (const auto& r = engine.results.at(static_cast<std::size_t>(target))) {
    add(*r);
  }
  return out;
}

// Config + manifest of the cache, stored as blobs; returns the manifest.
util::Result<image::Descriptor> make_cache_image(Engine& engine,
                                                 const std::vector<CachedStep>& steps,
                                                 std::vector<image::Descriptor>& layers) {
  json records = json::array();
  std::map<std::string, std::size_t> index_of; // layer digest -> position
  for (const auto& step : steps) {
    auto layer = layer_of(engine, step);
    if (!layer) return std::unexpected(std::move(layer.error()).with_context("step " + step.key));
    auto [it, added] = index_of.try_emplace(layer->layer.digest.str(), layers.size());
    if (added) layers.push_back(layer->layer);
    json record = {{"key", step.key}, {"blob", it->second}, {"diff_id", layer->diff_id.str()}};
    step.info.write_to(record);
    records.push_back(std::move(record));
  }
  const std::string config = json{{"records", records}}.dump();
  MASON_TRY_ASSIGN(auto config_desc,
                   engine.store.ingest_bytes(config, {std::string(k_cache_config_type)}));
  image::Manifest m;
  m.media_type = std::string(image::media_type::oci_manifest);
  m.config = config_desc;
  m.config.media_type = std::string(k_cache_config_type);
  m.layers = layers;
  m.seal();
  MASON_TRY_ASSIGN(auto stored, engine.store.ingest_bytes(
                                    m.raw, {std::string(image::media_type::oci_manifest)}));
  std::vector<image::Descriptor> children{m.config};
  children.insert(children.end(), layers.begin(), layers.end());
  MASON_TRY(engine.store.record_references(stored.digest, children));
  stored.media_type = std::string(image::media_type::oci_manifest);
  return stored;
}

// Copies blob `d` from the store into <dir>/blobs/sha256/ unless there.
util::Status copy_blob_out(Engine& engine, const std::string& dir, const image::Digest& d) {
  const std::string path = dir + "/blobs/sha256/" + std::string(d.hex());
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return {};
  MASON_TRY_ASSIGN(auto fd, engine.store.open_blob(d));
  MASON_TRY_ASSIGN(auto out, sys::AtomicFile::create(path));
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0) return util::errno_error("read blob " + d.str(), errno);
    MASON_TRY(out.write(std::string_view(buf, static_cast<std::size_t>(n))));
  }
  return out.commit();
}

util::Status export_local(Engine& engine, const CacheSpec& spec, const std::string& tag,
                          const image::Descriptor& manifest,
                          const std::vector<image::Descriptor>& blobs) {
  const std::string& dir = spec.dir;
  for (const auto& d : {dir, dir + "/blobs", dir + "/blobs/sha256"})
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
      return util::errno_error("create " + d, errno);
  for (const auto& b : blobs)
    if (auto ok = copy_blob_out(engine, dir, b.digest); !ok) return ok;
  if (auto ok = sys::write_file_atomic(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
      !ok)
    return ok;
  json index = {{"schemaVersion", 2},
                {"mediaType", image::media_type::oci_index},
                {"manifests", json::array()}};
  std::ifstream in(dir + "/index.json");
  if (in) {
    auto old = json::parse(in, nullptr, false);
    if (old.is_object() && old.contains("manifests") && old["manifests"].is_array())
      for (const auto& m : old["manifests"]) {
        const bool same_tag = m.is_object() && m.contains("annotations") &&
                              m["annotations"].is_object() &&
                              m["annotations"].value(std::string(k_ref_annotation), "") == tag;
        if (!same_tag) index["manifests"].push_back(m);
      }
  }
  index["manifests"].push_back({{"mediaType", image::media_type::oci_manifest},
                                {"digest", manifest.digest.str()},
                                {"size", manifest.size},
                                {"annotations", {{std::string(k_ref_annotation), tag}}}});
  return sys::write_file_atomic(dir + "/index.json", index.dump());
}

// Whether manifest `m` is a mason build cache this version reads.
util::Result<bool> is_cache_manifest(const image::Manifest& m, const std::string& what) {
  if (m.config.media_type == k_cache_config_type_v1)
    return util::make_error(util::ErrorCode::invalid_argument,
                            what + ": a build cache in an older mason's format (" +
                                std::string(k_cache_config_type_v1) +
                                "); export it again with --cache-to");
  return m.config.media_type == k_cache_config_type;
}

// Adds the records of a cache config to engine.imported.
// The blobs are in the OCI layout `layout_dir`, or at `registry_ref`.
util::Status read_config(Engine& engine, const std::string& config, const image::Manifest& m,
                         const std::string& layout_dir, const std::string& registry_ref,
                         const std::string& what) {
  auto j = json::parse(config, nullptr, false);
  if (!j.is_object() || !j.contains("records") || !j["records"].is_array())
    return util::make_error(util::ErrorCode::corruption, what + ": not a mason build cache");
  for (const auto& r : j["records"]) {
    auto info = cache::RecordInfo::read_from(r);
    if (!info || !r.contains("key") || !r["key"].is_string() || !r.contains("blob") ||
        !r["blob"].is_number_unsigned() || !r.contains("diff_id") || !r["diff_id"].is_string())
      return util::make_error(util::ErrorCode::corruption, what + ": a malformed record");
    ImportedStep s;
    s.key = r["key"].get<std::string>();
    const auto blob = r["blob"].get<std::size_t>();
    auto diff_id = image::Digest::parse(r["diff_id"].get<std::string>());
    if (!valid_key(s.key) || blob >= m.layers.size() || !diff_id)
      return util::make_error(util::ErrorCode::corruption,
                              what + ": a record with a bad key, blob or diff_id");
    s.blob = m.layers[blob];
    s.diff_id = *diff_id;
    s.info = std::move(*info);
    s.info.imported = true;
    s.layout_dir = layout_dir;
    s.registry_ref = registry_ref;
    engine.imported.try_emplace(s.key, std::move(s));
  }
  return {};
}

// A blob of a layout directory, verified.
util::Result<std::string> layout_blob(const std::string& dir, const image::Digest& d) {
  auto data = sys::read_file(dir + "/blobs/sha256/" + std::string(d.hex()), 64 << 20);
  if (!data) return std::unexpected(data.error());
  if (image::Digest::sha256_of(*data) != d)
    return util::make_error(util::ErrorCode::corruption,
                            dir + ": blob " + d.str() + " does not match its digest");
  return data;
}

util::Status load_local(Engine& engine, const CacheSpec& spec) {
  MASON_TRY_ASSIGN(auto text, sys::read_file(spec.dir + "/index.json", 16 << 20));
  auto index = json::parse(text, nullptr, false);
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
    return util::make_error(util::ErrorCode::corruption, spec.dir + "/index.json: not an index");
  int found = 0;
  for (const auto& entry : index["manifests"]) {
    if (!entry.is_object() || !entry.contains("digest") || !entry["digest"].is_string()) continue;
    const std::string tag = entry.contains("annotations") && entry["annotations"].is_object()
                                ? entry["annotations"].value(std::string(k_ref_annotation), "")
                                : "";
    if (!spec.tag.empty() && tag != spec.tag) continue;
    auto digest = image::Digest::parse(entry["digest"].get<std::string>());
    if (!digest) continue;
    MASON_TRY_ASSIGN(auto raw, layout_blob(spec.dir, *digest));
    MASON_TRY_ASSIGN(auto m, image::parse_manifest(raw));
    MASON_TRY_ASSIGN(auto usable, is_cache_manifest(m, spec.dir + " (" + tag + ")"));
    if (!usable) continue;
    MASON_TRY_ASSIGN(auto config, layout_blob(spec.dir, m.config.digest));
    if (auto ok = read_config(engine, config, m, spec.dir, "", spec.dir + " (" + tag + ")"); !ok)
      return ok;
    ++found;
  }
  if (found == 0)
    return util::make_error(util::ErrorCode::not_found,
                            spec.dir + ": no build cache" +
                                (spec.tag.empty() ? std::string() : " tagged " + spec.tag));
  return {};
}

// Only the manifest and the config are read: a layer is fetched when a
// step reads its files or an output holds it (fetch_imported_layers).
util::Status load_registry(Engine& engine, const CacheSpec& spec) {
  MASON_TRY_ASSIGN(auto ref, image::Reference::parse(spec.ref));
  MASON_TRY_ASSIGN(auto client, engine.registry());
  MASON_TRY_ASSIGN(auto remote, client->resolve(ref));
  // By digest: the cache is not an image and gets no name in the store.
  const std::string by_digest = ref.name() + "@" + remote.digest.str();
  MASON_TRY_ASSIGN(auto parsed, image::Reference::parse(by_digest));
  MASON_TRY_ASSIGN(auto fetched, client->fetch_image(engine.store, parsed, image::host_platform()));
  MASON_TRY_ASSIGN(auto usable, is_cache_manifest(fetched.manifest, spec.ref));
  if (!usable)
    return util::make_error(util::ErrorCode::invalid_argument,
                            spec.ref + " is not a mason build cache");
  MASON_TRY_ASSIGN(auto config, engine.store.read_blob(fetched.manifest.config.digest));
  return read_config(engine, config, fetched.manifest, "", by_digest, spec.ref);
}

} // namespace

void load_cache_sources(Engine& engine) {
  for (const auto& spec : engine.options.cache_from) {
    auto vertex = engine.progress.vertex();
    const std::string name = spec.type == CacheSpec::Type::local ? spec.dir : spec.ref;
    vertex.started("importing cache manifest from " + name);
    engine.report_transfers_to(vertex);
    const auto before = engine.imported.size();
    auto ok = spec.type == CacheSpec::Type::local ? load_local(engine, spec)
                                                  : load_registry(engine, spec);
    if (!ok) {
      engine.progress.message("[warning]: --cache-from " + name + ": " + ok.error().to_string());
      vertex.done();
      continue;
    }
    vertex.status(fmt::format("{} steps", engine.imported.size() - before));
    vertex.done();
  }
}

util::Status usable_imported_blob(Engine& engine, const ImportedStep& step) {
  if (!step.registry_ref.empty()) return {}; // fetched when needed
  return ensure_imported_blob(engine, step);
}

util::Status ensure_imported_blob(Engine& engine, const ImportedStep& step) {
  if (engine.store.has_blob(step.blob.digest)) return {};
  if (!step.registry_ref.empty()) {
    MASON_TRY_ASSIGN(auto ref, image::Reference::parse(step.registry_ref));
    MASON_TRY_ASSIGN(auto client, engine.registry());
    return client->fetch_blobs(engine.store, ref, {step.blob});
  }
  if (step.layout_dir.empty())
    return util::make_error(util::ErrorCode::not_found, "no layer " + step.blob.digest.str());
  const std::string path = step.layout_dir + "/blobs/sha256/" + std::string(step.blob.digest.hex());
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return util::errno_error("open " + path, errno);
  content::IngestOptions o;
  o.media_type = step.blob.media_type;
  o.expected_digest = step.blob.digest;
  o.expected_size = step.blob.size;
  MASON_TRY(engine.store.ingest_file(fd.get(), o));
  return {};
}

util::Status fetch_imported_layers(Engine& engine, const std::vector<image::Descriptor>& blobs) {
  std::map<std::string, std::vector<image::Descriptor>> from_registry; // by cache reference
  std::set<image::Digest> wanted;
  for (const auto& b : blobs)
    if (!engine.store.has_blob(b.digest)) wanted.insert(b.digest);
  for (const auto& [key, step] : engine.imported) {
    if (!wanted.contains(step.blob.digest)) continue;
    wanted.erase(step.blob.digest);
    if (step.registry_ref.empty())
      MASON_TRY(ensure_imported_blob(engine, step));
    else
      from_registry[step.registry_ref].push_back(step.blob);
  }
  for (const auto& [name, layers] : from_registry) { // a cache's layers download concurrently
    MASON_TRY_ASSIGN(auto ref, image::Reference::parse(name));
    MASON_TRY_ASSIGN(auto client, engine.registry());
    MASON_TRY(client->fetch_blobs(engine.store, ref, layers));
  }
  return {};
}

util::Result<std::optional<std::string>> import_step(Engine& engine, const ImportedStep& step,
                                                     const std::optional<std::string>& parent,
                                                     const progress::Reporter& vertex) {
  auto warn = [&](const util::Error& e) -> util::Result<std::optional<std::string>> {
    vertex.status("imported cache not used: " + e.to_string());
    return std::optional<std::string>();
  };
  if (auto ok = ensure_imported_blob(engine, step); !ok) return warn(ok.error());
  MASON_TRY_ASSIGN(auto active, engine.snapshots.prepare(parent));
  {
    auto blob = engine.store.open_blob(step.blob.digest);
    if (!blob) return warn(blob.error());
    util::UniqueFd root(::open(active->path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return util::errno_error("open " + active->path(), errno);
    archive::FdSource source(blob->get());
    archive::ApplyOptions options;
    options.target = archive::ApplyTarget::merged;
    options.read.expected_digest = step.blob.digest;
    options.read.expected_diff_id = step.diff_id;
    auto applied = archive::apply_layer(source, root.get(), options);
    if (!applied) return warn(applied.error());
    content::BlobAnnotation note; // what the size table counts (a cache: may be lost)
    note.unpacked_size = applied->uncompressed_size;
    (void)engine.store.annotate_blob(step.blob.digest, note);
  }
  MASON_TRY_ASSIGN(auto id, engine.snapshots.commit(std::move(active)));
  if (step.key.empty()) return std::optional<std::string>(id); // not to be recorded
  content::CacheRecord rec;
  rec.key = step.key;
  rec.snapshot = id;
  rec.lineage = step.lineage;
  rec.info = step.info.encode();
  if (auto used = engine.snapshots.usage(id)) rec.size = used->bytes;
  if (auto ok = engine.store.put_cache_record(rec); !ok) {
    engine.discard_at_end_of_build(id);
    return warn(ok.error());
  }
  (void)engine.store.set_cache_layer(step.key, k_layer_variant,
                                     content::CacheLayer{step.blob, step.diff_id});
  return std::optional<std::string>(id);
}

util::Status export_cache(Engine& engine, int target) {
  for (const auto& spec : engine.options.cache_to) {
    auto vertex = engine.progress.vertex();
    const std::string name = spec.type == CacheSpec::Type::local ? spec.dir : spec.ref;
    vertex.started("exporting cache to " + name);
    auto steps = steps_to_export(engine, target, spec.max);
    std::vector<image::Descriptor> layers;
    auto manifest = make_cache_image(engine, steps, layers);
    util::Status ok;
    if (!manifest) {
      ok = std::unexpected(manifest.error());
    } else if (auto fetched = fetch_imported_layers(engine, layers); !fetched) {
      ok = fetched;
    } else if (spec.type == CacheSpec::Type::local) {
      std::vector<image::Descriptor> blobs = layers;
      MASON_TRY_ASSIGN(auto raw, engine.store.read_blob(manifest->digest));
      MASON_TRY_ASSIGN(auto m, image::parse_manifest(raw));
      blobs.push_back(m.config);
      blobs.push_back(*manifest);
      ok = export_local(engine, spec, spec.tag.empty() ? default_tag(engine, target) : spec.tag,
                        *manifest, blobs);
    } else {
      auto ref = image::Reference::parse(spec.ref);
      auto client = engine.registry();
      if (!ref)
        ok = std::unexpected(ref.error());
      else if (!client)
        ok = std::unexpected(client.error());
      else if (auto pushed = (*client)->push(engine.store, *manifest, *ref); !pushed)
        ok = std::unexpected(pushed.error());
    }
    if (!ok) {
      vertex.failed(ok.error().to_string());
      return std::unexpected(std::move(ok.error()).with_context("--cache-to " + name));
    }
    vertex.status(fmt::format("{} steps, {} layers", steps.size(), layers.size()));
    vertex.done();
  }
  return {};
}

} // namespace mason::engine
