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
// Import reads the lists first (and, for a registry, downloads the
// blobs); a step is used when the build reaches its key: its layer is
// applied over the snapshot of the step before (whose key the chain
// already matched), committed, and recorded like a local cache hit.
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

// Puts the layer blob of imported step `step` in the store (from its OCI
// layout; a registry cache's blobs are pulled when the cache is read).
// The blob's digest and size are verified; its diff_id is checked when the
// layer is applied (a layer never applied keeps the cache's, as BuildKit).
util::Status ensure_imported_blob(Engine& engine, const ImportedStep& step);

// The snapshot for imported step `step` over `parent` (the snapshot of the
// step before), recorded in the local cache; nullopt when the layer could
// not be used (a warning on `vertex`).
util::Result<std::optional<std::string>> import_step(Engine& engine, const ImportedStep& step,
                                                     const std::optional<std::string>& parent,
                                                     const progress::Reporter& vertex);

} // namespace mason::engine
