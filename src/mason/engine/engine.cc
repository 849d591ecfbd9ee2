// The Engine's shared services (engine.h): unpacked base images, the
// registry client made on first use, context hashing, transfer progress,
// and the snapshots to discard at the end; deferred stage roots; and stage
// lookup by name.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "mason/engine/cache_transfer.h"
#include "mason/engine/engine.h"
#include "mason/ops/image_source.h"
#include "mason/util/strings.h"

namespace mason::engine {

int stage_for_from(const df::StageGraph& graph, const std::string& from) {
  std::string lower = from;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& s : graph.stages)
    if (!s.name.empty() && s.name == lower) return s.index;
  if (!from.empty() &&
      std::all_of(from.begin(), from.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const auto n = std::stoul(from.size() > 6 ? std::string("999999") : from);
    if (n < graph.stages.size()) return static_cast<int>(n);
  }
  return -1;
}

util::Status Engine::image_layers(ImageSource& source) {
  if (!source.remote) return {};
  std::call_once(source.pulled, [&] {
    source.layers = [&]() -> util::Status {
      auto vertex = progress.vertex();
      vertex.started("[internal] pulling the layers of " + source.remote->ref);
      report_transfers_to(vertex);
      auto client = registry();
      auto done = client ? (*client)->complete(store, *source.remote)
                         : util::Result<image::Descriptor>(std::unexpected(client.error()));
      if (!done) {
        vertex.failed(done.error().to_string());
        return std::unexpected(done.error());
      }
      vertex.done();
      return {};
    }();
  });
  return source.layers;
}

util::Status Engine::fetch_layers(const std::vector<LayerRef>& layers) {
  std::set<image::Digest> missing;
  for (const auto& l : layers)
    if (l.blob && !store.has_blob(l.blob->digest)) missing.insert(l.blob->digest);
  for (auto& [name, source] : images) {
    if (!source->remote || missing.empty()) continue;
    // A base all of whose missing layers are wanted is pulled whole (and
    // tagged); of one that shares only some (node:18-slim's with node:18),
    // just those are fetched.
    std::vector<image::Descriptor> wanted;
    bool all = true;
    for (const auto& d : source->image.manifest.layers) {
      if (missing.contains(d.digest))
        wanted.push_back(d);
      else if (!store.has_blob(d.digest))
        all = false;
    }
    if (wanted.empty()) continue;
    if (all) {
      MASON_TRY(image_layers(*source));
    } else {
      MASON_TRY_ASSIGN(auto ref, image::Reference::parse(source->remote->ref));
      MASON_TRY_ASSIGN(auto client, registry());
      MASON_TRY(client->fetch_blobs(store, ref, wanted));
    }
    for (const auto& d : wanted) missing.erase(d.digest);
  }
  if (missing.empty()) return {};
  std::vector<image::Descriptor> blobs;
  for (const auto& l : layers)
    if (l.blob && missing.contains(l.blob->digest)) blobs.push_back(*l.blob);
  return fetch_imported_layers(*this, blobs);
}

util::Result<std::optional<std::string>> Engine::image_snapshot(ImageSource& source) {
  std::call_once(source.unpacked, [&] {
    source.snapshot = [&]() -> util::Result<std::optional<std::string>> {
      MASON_TRY(image_layers(source));
      return ops::unpack_image(snapshots, store, source.image.manifest, source.image.config);
    }();
  });
  return source.snapshot;
}

util::Result<std::optional<std::string>> Engine::root_of(const StageResult& result) {
  if (!result.deferred) return result.snapshot;
  return make_root(*result.deferred);
}

util::Result<std::optional<std::string>> Engine::make_root(DeferredRoot& deferred) {
  std::call_once(deferred.made, [&] {
    deferred.root = [&]() -> util::Result<std::optional<std::string>> {
      std::optional<std::string> root;
      if (deferred.image) {
        MASON_TRY_ASSIGN(root, image_snapshot(*deferred.image));
      } else if (deferred.parent_stage) {
        MASON_TRY_ASSIGN(root, make_root(*deferred.parent_stage));
      }
      if (deferred.imports.empty()) return root;
      auto vertex = progress.vertex();
      vertex.started(fmt::format("[internal] applying {} cached layer(s) a later step reads",
                                 deferred.imports.size()));
      for (const auto& step : deferred.imports) {
        auto applied = import_step(*this, step, root, vertex);
        if (applied && !*applied)
          applied = util::make_error(util::ErrorCode::corruption,
                                     "cached layer " + step.blob.digest.str() +
                                         " of the imported cache could not be applied");
        if (!applied) {
          vertex.failed(applied.error().to_string());
          return std::unexpected(applied.error());
        }
        root = *applied;
      }
      vertex.done();
      return root;
    }();
  });
  return deferred.root;
}

util::Result<registry::Client*> Engine::registry() {
  if (!registry_client) {
    auto client_options = options.registry;
    client_options.progress = [this](const registry::TransferEvent& t) {
      if (!t.finished) return;
      std::lock_guard lock(transfer_mutex);
      transfer_vertex.status(
          t.what + (t.skipped ? ": already exists" : ": done " + util::human_size(t.done)));
    };
    MASON_TRY_ASSIGN(auto c, registry::Client::create(client_options));
    registry_client = std::move(c);
  }
  return registry_client.get();
}

util::Result<ops::SourcesDigest> Engine::hash_context(const std::vector<std::string>& paths) {
  ops::SourceHashOptions o;
  o.ignore = &ignore;
  o.stats = &context_stats;
  o.threads = 4;
  return ops::hash_sources(context_fd.get(), paths, o);
}

void Engine::report_transfers_to(const progress::Reporter& vertex) {
  std::lock_guard lock(transfer_mutex);
  transfer_vertex = vertex;
}

void Engine::discard_at_end_of_build(const std::string& snapshot_id) {
  std::lock_guard lock(scratch_mutex);
  discard_at_end.push_back(snapshot_id);
}

} // namespace mason::engine
