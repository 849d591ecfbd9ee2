// Cache keys of build steps (docs/cache-keys.md has the exact format).
//
// A stage starts from its base key (scratch, an image by manifest digest,
// or another stage's final key); each RUN/COPY/ADD/WORKDIR step's key is
// the digest of the previous key and everything the step's result depends
// on: the instruction's expanded fields, the config it runs under (RUN:
// environment with the ARGs in scope, USER, WORKDIR, SHELL, network), and
// its file inputs: content digests of the context paths it selects
// (ops::hash_sources), the final key of a stage it reads from, the digest
// of an image it reads from. Secrets, cache mounts' contents and the proxy
// build args are not part of a key (as BuildKit).
//
// Besides the key, each step describes its inputs as JSON ("inputs"), kept
// in the cache record so that a later miss of the same step can say what
// changed (explain_miss).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mason/engine/engine.h"

namespace mason::engine {

struct StepKey {
  std::string key; // "sha256:<hex>"; empty: the step is never cached
  nlohmann::json inputs = nlohmann::json::object();
};

// What a step runs under besides its instruction.
struct KeyScope {
  const std::string& parent; // the previous step's key (or the base key)
  const std::string& base;   // "image golang:1.21@sha256:…", "scratch", "stage builder"
  const image::ImageConfig& config;
  const df::EnvList& env;                    // ARG and ENV values in scope
  const std::vector<df::ArgDef>& build_args; // ARGs declared so far
};

// The key of a stage's base.
std::string base_key(std::string_view kind, std::string_view identity);

// COPY/ADD --link: the link layer is keyed as the step over an empty
// parent (link_parent_key(), in place of the previous key); putting it
// over the stage is keyed by both (link_merge_key).
const std::string& link_parent_key();
std::string link_merge_key(std::string_view parent, std::string_view link_key);

// Where a step's file inputs come from: the key part of what `paths`
// select in `from` (a stage, an image, or the context when empty), adding
// what it used to `inputs` ("files", "from"). The engine's reads the
// context and the results of earlier stages (engine_sources); tests fake it.
using SourceKeyFn = std::function<util::Result<std::string>(
    const std::string& from, const std::vector<std::string>& paths, nlohmann::json& inputs)>;

// The key part of an ADD'ed URL without --checksum: its content's digest
// and Last-Modified (the engine's downloads it: Engine::downloads), adding
// the digest to `inputs` ("remote").
using RemoteKeyFn =
    std::function<util::Result<std::string>(const std::string& url, nlohmann::json& inputs)>;

struct KeySources {
  SourceKeyFn source;
  RemoteKeyFn remote;
  executor::NetworkMode default_network = executor::NetworkMode::host; // --network
};

KeySources engine_sources(Engine& engine);

// The key of a RUN, COPY, ADD or WORKDIR step (WORKDIR: after its config
// change is applied to scope.config).
util::Result<StepKey> step_key(const KeySources& sources, const KeyScope& scope,
                               const df::Instruction& instr);

// Why the step with `now` inputs missed, given the inputs of the last
// record of the same step (same Dockerfile, stage and position), e.g.
// "file changed: src/main.go", "build arg VERSION changed", "base changed:
// image a@sha256:… -> image a@sha256:…".
std::string explain_miss(const nlohmann::json& before, const nlohmann::json& now);

} // namespace mason::engine
