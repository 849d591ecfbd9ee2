// Exporting and importing the build cache (--cache-to, --cache-from), so
// that a machine with an empty store reuses what another one built.
//
// The format is an OCI image manifest whose config
// (application/vnd.mason.buildcache.config.v2+json) lists the steps in
// chain order -- {"key", "blob" (index into the manifest's layers),
// "diff_id", and cache::RecordInfo's "created_by", "adds_layer",
// "created"} -- and whose layers are
// the steps' layers (gzip tars, the same blobs the images use). It lives in
// an OCI layout directory (type=local; index.json names it by tag, so that
// several targets share a directory without overwriting each other) or in
// a registry (type=registry,ref=...).
//
// Import reads the lists first (for a registry: the manifest and the
// config, no layer); a step is used when the build reaches its key: its
// layer is applied over the snapshot of the step before (whose key the
// chain already matched), committed, and recorded like a local cache hit --
// or, while the stage's root is deferred (engine.h), only noted, its blob
// fetched when an output or a later step needs it.
// Everything read is verified: blob digests, diff_ids, key syntax.
#pragma once

#include "mason/engine/engine.h"

namespace mason::engine {

// v2: records spell their fields as cache::RecordInfo does. A v1 cache
// (an older mason's) is refused with a message that says to export again.
inline constexpr std::string_view k_cache_config_type =
    "application/vnd.mason.buildcache.config.v2+json";
inline constexpr std::string_view k_cache_config_type_v1 =
    "application/vnd.mason.buildcache.config.v1+json";

// Reads every --cache-from into engine.imported. A source that cannot be
// read is a warning (as BuildKit: the build goes on without it).
void load_cache_sources(Engine& engine);

// Writes every --cache-to for the build whose target stage is `target`.
util::Status export_cache(Engine& engine, int target);

// Whether the layer of imported step `step` can be used while the stage's
// root is deferred: one from an OCI layout is put in the store and so
// verified now (a damaged local cache is not used: the step runs); a
// registry cache's layer is taken as the cache lists it and fetched when
// needed (a damaged one then fails the build, as BuildKit's lazy blobs).
util::Status usable_imported_blob(Engine& engine, const ImportedStep& step);

// Puts the layer blob of imported step `step` in the store (from its OCI
// layout, or fetched from its registry cache).
// The blob's digest and size are verified; its diff_id is checked when the
// layer is applied (a layer never applied keeps the cache's, as BuildKit).
util::Status ensure_imported_blob(Engine& engine, const ImportedStep& step);

// Puts those of `blobs` that are layers of imported steps in the store
// (an image or a cache export holds them); a registry cache's are fetched
// together. Blobs of no imported step are left alone.
util::Status fetch_imported_layers(Engine& engine, const std::vector<image::Descriptor>& blobs);

// The snapshot for imported step `step` over `parent` (the snapshot of the
// step before), recorded in the local cache; nullopt when the layer could
// not be used (a warning on `vertex`).
util::Result<std::optional<std::string>> import_step(Engine& engine, const ImportedStep& step,
                                                     const std::optional<std::string>& parent,
                                                     const progress::Reporter& vertex);

} // namespace mason::engine
