// One stage, step by step.
//
// The stage starts from its base (scratch, an image unpacked into
// snapshots, or another stage's result), runs the base's ONBUILD triggers,
// expands its instructions with the base's environment, and then applies
// each instruction in order:
//   - config instructions change the image config (config_ops);
//   - WORKDIR changes the config and makes the directory in a new snapshot;
//   - RUN, COPY and ADD each prepare a writable snapshot over the current
//     one, do their work in it and commit it as the stage's new top.
// Every step that makes a snapshot is a progress vertex named like
// BuildKit's: "[builder 2/4] RUN go build".
#include <algorithm>
#include <fcntl.h>

#include <fmt/format.h>

#include "mason/engine/cache_transfer.h"
#include "mason/engine/config_ops.h"
#include "mason/engine/engine.h"
#include "mason/engine/export.h"
#include "mason/engine/sandbox.h"
#include "mason/engine/step_key.h"
#include "mason/engine/steps.h"
#include "mason/gc/gc.h"
#include "mason/image/platform.h"
#include "mason/ops/image_source.h"
#include "mason/ops/user.h"
#include "mason/sys/in_root.h"
#include "mason/util/strings.h"

namespace mason::engine {
namespace {

bool env_has(const std::vector<std::string>& env, std::string_view key) {
  return std::any_of(env.begin(), env.end(), [&](const std::string& kv) {
    return kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=';
  });
}

df::EnvList env_list(const std::vector<std::string>& env) {
  df::EnvList out;
  for (const auto& kv : env) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos)
      out.set(kv, "");
    else
      out.set(std::string_view(kv).substr(0, eq), std::string_view(kv).substr(eq + 1));
  }
  return out;
}

// The empty image BuildKit starts `FROM scratch` with.
image::ImageConfig scratch_config() {
  image::ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  c.config.working_dir = "/";
  return c;
}

std::string stage_label(const df::StageNode& node) {
  return node.name.empty() ? fmt::format("stage-{}", node.index) : node.name;
}

class StageRunner {
public:
  StageRunner(Engine& engine, int index)
      : m_engine(engine), m_index(index),
        m_node(engine.graph.stages.at(static_cast<std::size_t>(index))),
        m_stage(engine.dockerfile.stages.at(static_cast<std::size_t>(index))) {}

  util::Status run(const solver::CancelToken& cancel) {
    if (auto r = init_base(); !r) return r;
    set_base_key();
    MASON_TRY_ASSIGN(auto commands, expand());
    m_total = static_cast<int>(commands.size()) + 1;
    for (const auto& instr : commands) {
      if (cancel.cancelled()) return util::make_error(util::ErrorCode::cancelled, "cancelled");
      ++m_step;
      if (auto r = apply(instr); !r) return r;
    }
    m_result.env = m_env;
    m_result.build_args = m_build_args;
    m_result.deferred = m_deferred;
    m_engine.results[static_cast<std::size_t>(m_index)] = std::move(m_result);
    return {};
  }

private:
  util::Status init_base() {
    auto vertex = m_engine.progress.vertex();
    vertex.started(fmt::format("[{} 1/{}] FROM {}", stage_label(m_node),
                               m_stage.commands.size() + 1, m_node.base));
    auto r = load_base();
    if (!r) {
      vertex.failed(r.error().to_string());
      return r;
    }
    // make sure that PATH is always set (as BuildKit does)
    if (!env_has(m_result.config.config.env, "PATH"))
      m_result.config.config.env.push_back("PATH=" + std::string(k_default_path));
    if (m_node.base_kind != df::BaseKind::stage) m_env = env_list(m_result.config.config.env);
    vertex.done();
    return {};
  }

  // The base's key and description (for miss explanations).
  void set_base_key() {
    const std::string platform = m_node.platform.value_or("");
    switch (m_node.base_kind) {
    case df::BaseKind::scratch:
      m_base = "scratch";
      m_result.cache_key = base_key("scratch", platform);
      break;
    case df::BaseKind::image: {
      // By the ChainID of its layers, as BuildKit: the file system, not
      // how it is compressed or which manifest carries it. (What the
      // config adds -- ENV, USER, WORKDIR, SHELL -- is in each RUN's key.)
      const auto& img = m_engine.images.at(m_node.base)->image;
      const auto chain = ops::chain_ids(img.config.rootfs.diff_ids);
      const std::string identity = chain.empty() ? "no layers" : chain.back().str();
      m_base = "image " + m_node.base + " " + identity;
      m_result.cache_key = base_key("image", identity);
      break;
    }
    case df::BaseKind::stage:
      m_base = "stage " + m_node.base;
      break; // m_result.cache_key is the parent stage's
    }
  }

  bool cache_disabled() const {
    const auto& o = m_engine.options;
    if (o.no_cache) return true;
    for (const auto& s : o.no_cache_filter)
      if (stage_for_from(m_engine.graph, s) == m_index) return true;
    return false;
  }

  // Only the host's platform is built (no emulation).
  util::Status check_platform() const {
    if (!m_node.platform || m_node.platform->empty()) return {};
    MASON_TRY_ASSIGN(auto wanted, image::parse_platform(*m_node.platform));
    const auto host = image::host_platform();
    if (image::format_platform(image::normalize_platform(wanted)) != image::format_platform(host))
      return util::make_error(util::ErrorCode::unsupported,
                              fmt::format("FROM --platform={}: only the host platform ({}) can be "
                                          "built",
                                          *m_node.platform, image::format_platform(host)));
    return {};
  }

  util::Status load_base() {
    if (auto r = check_platform(); !r) return r;
    switch (m_node.base_kind) {
    case df::BaseKind::scratch:
      m_result.config = scratch_config();
      if (!m_engine.imported.empty()) m_deferred = std::make_shared<DeferredRoot>();
      return {};
    case df::BaseKind::stage: {
      const auto& parent = m_engine.results.at(static_cast<std::size_t>(m_node.base_stage));
      if (!parent)
        return util::make_error(util::ErrorCode::internal,
                                fmt::format("stage {} was not built", m_node.base_stage));
      m_result = *parent;
      if (parent->deferred) { // continue from the base stage's root, made when needed
        m_deferred = std::make_shared<DeferredRoot>();
        m_deferred->parent_stage = parent->deferred;
        m_result.deferred = nullptr;
      }
      m_env = parent->env;
      m_build_args = parent->build_args; // BuildKit's dispatchState.init (frontend 1.9+)
      return {};
    }
    case df::BaseKind::image: return load_image_base();
    }
    return {};
  }

  util::Status load_image_base() {
    auto& source = *m_engine.images.at(m_node.base);
    if (m_engine.imported.empty()) {
      MASON_TRY_ASSIGN(m_result.snapshot, m_engine.image_snapshot(source));
    } else { // with --cache-from, the base is unpacked only if a step needs its files
      m_deferred = std::make_shared<DeferredRoot>();
      m_deferred->image = &source;
    }
    m_result.config = source.image.config;
    m_result.config.raw.clear();
    const auto& layers = source.image.manifest.layers;
    for (std::size_t i = 0; i < layers.size(); ++i)
      m_result.layers.push_back(
          LayerRef{layers[i], source.image.config.rootfs.diff_ids.at(i), std::nullopt});
    return {};
  }

  // The stage's instructions expanded, with the base's ONBUILD triggers
  // first (they are consumed: the new image has none).
  util::Result<std::vector<df::Instruction>> expand() {
    df::Dockerfile dockerfile = m_engine.dockerfile;
    auto& stage = dockerfile.stages.at(static_cast<std::size_t>(m_index));
    if (!m_result.config.config.on_build.empty()) {
      MASON_TRY_ASSIGN(auto triggers, onbuild_triggers(m_result.config.config.on_build));
      stage.commands.insert(stage.commands.begin(), triggers.begin(), triggers.end());
      m_result.config.config.on_build.clear();
    }
    const auto config_env = env_list(m_result.config.config.env);
    auto expanded = df::expand_stage(dockerfile, m_engine.graph, m_index, m_env, config_env);
    if (!expanded.ok())
      return util::make_error(util::ErrorCode::invalid_argument,
                              df::format_diagnostics(m_engine.dockerfile_label,
                                                     m_engine.dockerfile_text, expanded.errors));
    return std::move(expanded.stage.commands);
  }

  util::Result<std::vector<df::Instruction>>
  onbuild_triggers(const std::vector<std::string>& triggers) {
    std::string text = "FROM scratch\n";
    for (const auto& t : triggers) text += t + "\n";
    auto loaded = df::load_dockerfile("ONBUILD trigger", text);
    if (!loaded)
      return std::unexpected(std::move(loaded.error()).with_context("base image ONBUILD"));
    auto commands = loaded->dockerfile.stages.at(0).commands;
    for (auto& c : commands) {
      c.start_line = m_stage.start_line; // reported at the FROM line
      c.end_line = m_stage.start_line;
    }
    return commands;
  }

  util::Status apply(const df::Instruction& instr) {
    if (const auto* arg = std::get_if<df::ArgInstr>(&instr.kind)) return apply_arg(*arg);
    if (std::holds_alternative<df::RunInstr>(instr.kind) ||
        std::holds_alternative<df::CopyInstr>(instr.kind) ||
        std::holds_alternative<df::AddInstr>(instr.kind) ||
        std::holds_alternative<df::WorkdirInstr>(instr.kind))
      return snapshot_step(instr);
    if (const auto* env = std::get_if<df::EnvInstr>(&instr.kind))
      for (const auto& kv : env->vars) m_env.set(kv.key, kv.value);
    auto r = apply_to_config(m_result.config, m_config_state, instr);
    if (!r) return std::unexpected(std::move(r.error()).with_context(where(instr)));
    return {};
  }

  util::Status apply_arg(const df::ArgInstr& arg) {
    std::string text = "ARG";
    for (const auto& def : arg.args) {
      text += " " + def.key;
      if (def.value) {
        text += "=" + *def.value;
        m_env.set(def.key, *def.value);
      }
      m_build_args.push_back(def);
    }
    add_history(text, false);
    return {};
  }

  void add_history(std::string created_by, bool adds_layer, std::string created = {}) {
    image::HistoryEntry h;
    h.created = std::move(created);
    h.created_by = std::move(created_by);
    h.comment = "buildkit.dockerfile.v0";
    h.empty_layer = !adds_layer;
    m_result.config.history.push_back(std::move(h));
  }

  std::string where(const df::Instruction& instr) const {
    return fmt::format("{}:{}", m_engine.dockerfile_label, instr.start_line);
  }

  std::string vertex_name(const df::Instruction& instr) const {
    std::string line = instr.original;
    std::replace(line.begin(), line.end(), '\n', ' ');
    return fmt::format("[{} {}/{}] {}", stage_label(m_node), m_step + 1, m_total, line);
  }

  // RUN, COPY, ADD, WORKDIR: one new snapshot over the current top, or the
  // snapshot the cache has under the step's key.
  util::Status snapshot_step(const df::Instruction& instr) {
    auto vertex = m_engine.progress.vertex();
    vertex.started(vertex_name(instr));
    auto r = snapshot_step_in(instr, vertex);
    if (!r) {
      // The step's line says what failed; the final error repeats it with
      // the Dockerfile line and the last lines of output, once.
      const auto text = r.error().to_string();
      vertex.failed(text.substr(0, text.find('\n')));
      return std::unexpected(std::move(r.error()).with_context(where(instr)));
    }
    if (*r)
      vertex.cached();
    else
      vertex.done();
    return {};
  }

  // The record's name for this step across builds: this Dockerfile in this
  // context, this stage, this position.
  std::string lineage() const {
    return fmt::format("{}|{}|{}", m_engine.lineage, stage_label(m_node), m_step);
  }

  // true: answered from the cache.
  util::Result<bool> snapshot_step_in(const df::Instruction& instr,
                                      const progress::Reporter& vertex) {
    if (is_link(instr)) return link_step(instr, vertex);
    if (const auto* wd = std::get_if<df::WorkdirInstr>(&instr.kind)) {
      df::Instruction config_part{*wd, "WORKDIR", "WORKDIR " + wd->path, 0, 0};
      MASON_TRY(apply_to_config(m_result.config, m_config_state, config_part, false));
    }
    const KeyScope scope{m_result.cache_key, m_base, m_result.config, m_env, m_build_args};
    auto key = step_key(m_sources, scope, instr);
    if (!key) return std::unexpected(key.error());
    if (!cache_disabled()) {
      MASON_TRY_ASSIGN(auto hit, lookup(*key));
      if (hit) return true;
      if (auto it = m_engine.imported.find(key->key); it != m_engine.imported.end()) {
        MASON_TRY_ASSIGN(auto used, use_imported(it->second, std::nullopt, vertex));
        if (used) return true;
      }
    }
    explain(*key, vertex);
    MASON_TRY(make_root());
    MASON_TRY_ASSIGN(auto active, m_engine.snapshots.prepare(m_result.snapshot));
    StepContext ctx{m_engine,     m_index, m_result.config, m_env,
                    m_build_args, vertex,  active->path()};
    MASON_TRY_ASSIGN(auto history, run_op(ctx, instr));
    MASON_TRY_ASSIGN(auto id, m_engine.snapshots.commit(std::move(active)));
    cache::RecordInfo info{history.created_by, history.adds_layer, m_engine.build_time};
    info.inputs = key->inputs;
    if (inputs_unchanged(*key, scope, instr, vertex))
      record(*key, id, info);
    else
      m_engine.discard_at_end_of_build(id);
    apply_step(key->key, id, info);
    return false;
  }

  // The context is read twice (hashed for the key, then copied or bound):
  // a file changed in between would put new content under the old key.
  // The key is computed again after the step (the stat cache makes that
  // cheap) and the result is recorded only if it is the same.
  bool inputs_unchanged(const StepKey& key, const KeyScope& scope, const df::Instruction& instr,
                        const progress::Reporter& vertex) {
    if (!key.inputs.contains("files")) return true;
    auto again = step_key(m_sources, scope, instr);
    if (again && again->key == key.key) return true;
    vertex.status("the build context changed while the step ran: its result is not cached");
    return false;
  }

  // info.created: when the step's result was made (this build, or the
  // build that made the cached record).
  // `layer`: the image's layer for the step when it is not the snapshot's
  // diff (a --link step's).
  void apply_step(const std::string& key, const std::string& snapshot,
                  const cache::RecordInfo& info, std::optional<LayerRef> layer = {}) {
    m_result.snapshot = snapshot;
    m_deferred.reset(); // `snapshot` is the whole root
    add_step(key, snapshot, info,
             layer ? *layer : LayerRef{std::nullopt, std::nullopt, snapshot, key});
  }

  // An imported step (`layer`: the image's layer for it when not its own
  // blob or snapshot). While the root is deferred its layer joins the image
  // as the blob it is, applied only if a later step needs the files;
  // otherwise it is applied now. false: it could not be used (said why).
  util::Result<bool> use_imported(const ImportedStep& step, std::optional<LayerRef> layer,
                                  const progress::Reporter& vertex) {
    if (m_deferred) {
      if (auto usable = usable_imported_blob(m_engine, step); !usable) {
        vertex.status("imported cache not used: " + usable.error().to_string());
        return false;
      }
      vertex.status("cached layer " + step.blob.digest.str() + " (imported; applied when needed)");
      defer_apply(step, layer ? *layer : LayerRef{step.blob, step.diff_id, std::nullopt, step.key});
      return true;
    }
    vertex.status("importing cached layer " + step.blob.digest.str());
    MASON_TRY_ASSIGN(auto snap, import_step(m_engine, step, m_result.snapshot, vertex));
    if (!snap) return false;
    apply_step(step.key, *snap, step.info, std::move(layer));
    return true;
  }

  // `step`'s layer noted over the deferred root (applied when made).
  void defer_apply(const ImportedStep& step, LayerRef layer) {
    m_deferred->imports.push_back(step);
    add_step(step.key, "", step.info, std::move(layer));
  }

  // The step's place in the stage: its key, its cache chain entry (""
  // snapshot: not made), its layer when it adds one, its history.
  void add_step(const std::string& key, const std::string& snapshot, const cache::RecordInfo& info,
                LayerRef layer) {
    m_result.cache_key = key;
    const bool own_layer = layer.snapshot && layer.snapshot == snapshot && layer.cache_key == key;
    m_result.steps.push_back(
        CachedStep{key, snapshot, cache::RecordInfo{info.created_by, info.adds_layer, info.created},
                   own_layer ? std::nullopt : std::optional(layer)});
    if (info.adds_layer) {
      m_result.layers.push_back(std::move(layer));
      m_result.last_layer_time = info.created;
    }
    add_history(info.created_by, info.adds_layer, info.adds_layer ? info.created : std::string());
  }

  // COPY/ADD --link (without --chmod, as BuildKit: --chmod makes it a
  // plain copy): the files are copied onto an empty root, and that tree,
  // the link layer, is put over the stage as the step's layer. The layer
  // depends on nothing below it: it is keyed without the parent
  // (link_key), so a changed base or earlier step reuses it without
  // copying again, and only the merge (the layer applied over the new
  // parent, keyed by both) is redone. The image gets the link layer
  // itself; parent directories the copy made are in it, owned by the
  // --chown user (a name is looked up in the empty root: 0), and replace
  // the parent's, as BuildKit's merge.
  static bool is_link(const df::Instruction& instr) {
    if (const auto* c = std::get_if<df::CopyInstr>(&instr.kind)) return c->link && c->chmod.empty();
    if (const auto* a = std::get_if<df::AddInstr>(&instr.kind)) return a->link && a->chmod.empty();
    return false;
  }

  // The link layer: a snapshot over nothing (local) or an imported blob.
  struct LinkLayer {
    std::string key;
    cache::RecordInfo info; // created_by and created of the step that made it
    std::optional<std::string> snapshot;
    std::optional<ImportedStep> imported;
    bool known() const { return snapshot || imported; }
  };

  // A --chown name cannot be looked up in the empty root a --link copy
  // starts from: BuildKit fails the step ("invalid user index"); so does
  // mason, saying why.
  static util::Status check_link_chown(const df::Instruction& instr) {
    const auto* c = std::get_if<df::CopyInstr>(&instr.kind);
    const auto* a = std::get_if<df::AddInstr>(&instr.kind);
    const std::string& chown = c ? c->chown : a->chown;
    if (!ops::chown_names_someone(chown)) return {};
    return util::make_error(util::ErrorCode::invalid_argument,
                            "--chown=" + chown +
                                " with --link: a --link layer is made on an empty root, which has "
                                "no /etc/passwd or /etc/group to look a name up in; give numeric "
                                "ids (--chown=UID:GID) or drop --link");
  }

  util::Result<bool> link_step(const df::Instruction& instr, const progress::Reporter& vertex) {
    MASON_TRY(check_link_chown(instr));
    const KeyScope link_scope{link_parent_key(), "scratch", m_result.config, m_env, m_build_args};
    MASON_TRY_ASSIGN(auto lkey, step_key(m_sources, link_scope, instr));
    StepKey mkey{"", lkey.inputs};
    if (!lkey.key.empty()) mkey.key = link_merge_key(m_result.cache_key, lkey.key);
    mkey.inputs["parent"] = m_result.cache_key;
    mkey.inputs["base"] = m_base;
    LinkLayer layer{lkey.key, {}, std::nullopt, std::nullopt};
    if (!cache_disabled() && !mkey.key.empty()) {
      MASON_TRY_ASSIGN(auto found, find_record(lkey.key));
      if (found) {
        layer.snapshot = found->first;
        layer.info = found->second;
      } else if (auto it = m_engine.imported.find(lkey.key); it != m_engine.imported.end()) {
        layer.imported = it->second;
      } else if (auto m = m_engine.imported.find(mkey.key); m != m_engine.imported.end()) {
        layer.imported = m->second; // the merge's layer is the link layer
      }
      if (layer.imported) {
        layer.info = layer.imported->info;
        if (auto usable = usable_imported_blob(m_engine, *layer.imported); !usable) {
          vertex.status("imported cache not used: " + usable.error().to_string());
          layer.imported.reset();
        }
      }
      if (layer.known()) {
        MASON_TRY_ASSIGN(auto merged, merge_cached(mkey, layer, vertex));
        if (merged) return true;
        vertex.status("the --link layer is cached: putting it over the new parent");
      }
    }
    if (!layer.known()) {
      explain(mkey, vertex);
      MASON_TRY_ASSIGN(auto active, m_engine.snapshots.prepare(std::nullopt));
      image::ImageConfig config = m_result.config; // a copy reads it (WORKDIR), never changes it
      StepContext ctx{m_engine, m_index, config, m_env, m_build_args, vertex, active->path()};
      MASON_TRY_ASSIGN(auto history, run_op(ctx, instr));
      MASON_TRY_ASSIGN(auto id, m_engine.snapshots.commit(std::move(active)));
      layer.info = cache::RecordInfo{history.created_by, true, m_engine.build_time};
      layer.info.inputs = lkey.inputs;
      layer.snapshot = id;
      if (!lkey.key.empty() && inputs_unchanged(lkey, link_scope, instr, vertex)) {
        record(lkey, id, layer.info, "|link");
      } else {
        m_engine.discard_at_end_of_build(id);
        layer.key.clear();
        mkey.key.clear(); // neither is recorded
      }
    }
    MASON_TRY(merge_link(mkey, layer, vertex));
    return false;
  }

  // The merge under `mkey` from the cache: a local record, or an imported
  // one (deferred, or applied now). true: done.
  util::Result<bool> merge_cached(const StepKey& mkey, const LinkLayer& layer,
                                  const progress::Reporter& vertex) {
    MASON_TRY_ASSIGN(auto found, find_record(mkey.key));
    auto it = m_engine.imported.find(mkey.key);
    if (!found && it == m_engine.imported.end()) return false;
    note_link_layer(layer); // before the merge in the chain (kept if the merge is redone)
    if (found) {
      apply_step(mkey.key, found->first, found->second, link_layer_ref(layer));
      return true;
    }
    return use_imported(it->second, link_layer_ref(layer), vertex);
  }

  // The link layer as the image's layer: its snapshot's diff (over
  // nothing), or the imported blob.
  static LayerRef link_layer_ref(const LinkLayer& layer) {
    if (layer.snapshot)
      return LayerRef{std::nullopt, std::nullopt, *layer.snapshot,
                      layer.key.empty() ? std::nullopt : std::optional(layer.key)};
    return LayerRef{layer.imported->blob, layer.imported->diff_id, std::nullopt};
  }

  // The link layer joins the stage's cache chain (what --cache-to exports)
  // under its own key, before the merge, so that a build over another
  // base finds it.
  void note_link_layer(const LinkLayer& layer) {
    if (layer.key.empty() || (!layer.snapshot && !m_engine.imported.contains(layer.key))) return;
    const auto& steps = m_result.steps;
    if (std::any_of(steps.begin(), steps.end(),
                    [&](const CachedStep& s) { return s.key == layer.key; }))
      return;
    m_result.steps.push_back(
        CachedStep{layer.key, layer.snapshot.value_or(""),
                   cache::RecordInfo{layer.info.created_by, true, layer.info.created}});
  }

  // The link layer put over the stage: its blob (made now from the
  // snapshot when it has none) applied over the parent and recorded under
  // `mkey`; only noted while the stage's root is deferred.
  util::Status merge_link(const StepKey& mkey, const LinkLayer& layer,
                          const progress::Reporter& vertex) {
    cache::RecordInfo info{layer.info.created_by, true, layer.info.created};
    info.inputs = mkey.inputs;
    note_link_layer(layer);
    if (layer.snapshot && !m_deferred) { // stacked: the layer's files linked, not copied
      MASON_TRY_ASSIGN(auto stacked, m_engine.snapshots.stack(m_result.snapshot, *layer.snapshot));
      if (stacked) {
        if (mkey.key.empty())
          m_engine.discard_at_end_of_build(*stacked);
        else
          record(mkey, *stacked, info);
        apply_step(mkey.key, *stacked, info, link_layer_ref(layer));
        return {};
      }
    }
    // Else the layer's blob applied over the parent (now, or when a step
    // needs the deferred root).
    ImportedStep step;
    if (layer.imported) {
      step = *layer.imported;
    } else {
      MASON_TRY_ASSIGN(auto made,
                       step_layer(m_engine, *layer.snapshot,
                                  layer.key.empty() ? std::nullopt : std::optional(layer.key)));
      step.blob = made.descriptor;
      step.diff_id = made.diff_id;
    }
    step.key = mkey.key;
    step.info = info;
    step.lineage = lineage();
    if (m_deferred && !mkey.key.empty()) {
      defer_apply(step, link_layer_ref(layer));
      return {};
    }
    MASON_TRY(make_root());
    MASON_TRY_ASSIGN(auto snap, import_step(m_engine, step, m_result.snapshot, vertex));
    if (!snap)
      return util::make_error(util::ErrorCode::corruption, "the --link layer " +
                                                               step.blob.digest.str() +
                                                               " could not be applied");
    if (mkey.key.empty()) m_engine.discard_at_end_of_build(*snap);
    apply_step(mkey.key, *snap, step.info, link_layer_ref(layer));
    return {};
  }

  // Makes the deferred root (a step is about to run on it).
  util::Status make_root() {
    if (!m_deferred) return {};
    MASON_TRY_ASSIGN(m_result.snapshot, m_engine.make_root(*m_deferred));
    m_deferred.reset();
    return {};
  }

  // A usable record under the key: its snapshot still there.
  util::Result<bool> lookup(const StepKey& key) {
    MASON_TRY_ASSIGN(auto found, find_record(key.key));
    if (!found) return false;
    apply_step(key.key, found->first, found->second);
    return true;
  }

  // The snapshot and info of a usable record under `key` (counted as a hit).
  util::Result<std::optional<std::pair<std::string, cache::RecordInfo>>>
  find_record(const std::string& key) {
    MASON_TRY_ASSIGN(auto found, m_engine.store.find_cache_record(key));
    if (!found) return std::nullopt;
    MASON_TRY_ASSIGN(auto there, m_engine.snapshots.exists(found->snapshot));
    if (!there) return std::nullopt;
    auto info = cache::RecordInfo::decode(found->info);
    if (!info) return std::nullopt;
    if (info->created.empty()) info->created = m_engine.build_time;
    const std::lock_guard guard(m_engine.scratch_mutex);
    m_engine.hits.push_back(key);
    return std::pair{found->snapshot, std::move(*info)};
  }

  // "cache miss: <why>" on the step's vertex (plain progress shows it).
  void explain(const StepKey& key, const progress::Reporter& vertex) {
    if (cache_disabled()) {
      vertex.status(m_engine.options.no_cache ? "cache disabled: --no-cache"
                                              : "cache disabled: --no-cache-filter");
      return;
    }
    auto before = m_engine.store.latest_cache_record(lineage());
    std::optional<cache::RecordInfo> info;
    if (before && *before) info = cache::RecordInfo::decode((*before)->info);
    vertex.status("cache miss: " +
                  explain_miss(info ? info->inputs : nlohmann::json(), key.inputs));
  }

  // Keeps the step's snapshot under its key; without a record the snapshot
  // is removed at the end of the build.
  void record(const StepKey& key, const std::string& snapshot, const cache::RecordInfo& info,
              const std::string& suffix = "") {
    content::CacheRecord rec;
    rec.key = key.key;
    rec.snapshot = snapshot;
    rec.lineage = lineage() + suffix;
    rec.info = info.encode();
    if (auto used = m_engine.snapshots.usage(snapshot)) rec.size = used->bytes;
    if (cache_disabled()) (void)gc::drop_dependents(m_engine.store, key.key);
    if (auto ok = m_engine.store.put_cache_record(rec); !ok)
      m_engine.discard_at_end_of_build(snapshot);
  }

  util::Result<StepHistory> run_op(StepContext& ctx, const df::Instruction& instr) {
    if (const auto* run = std::get_if<df::RunInstr>(&instr.kind)) return run_step(ctx, *run);
    if (const auto* copy = std::get_if<df::CopyInstr>(&instr.kind)) return copy_step(ctx, *copy);
    if (const auto* add = std::get_if<df::AddInstr>(&instr.kind)) return copy_step(ctx, *add);
    if (std::holds_alternative<df::WorkdirInstr>(instr.kind)) return workdir_step(ctx);
    return util::make_error(util::ErrorCode::internal, "not a snapshot step");
  }

  Engine& m_engine;
  int m_index;
  const df::StageNode& m_node;
  const df::Stage& m_stage;
  StageResult m_result;
  df::EnvList m_env;
  std::vector<df::ArgDef> m_build_args;
  StageConfigState m_config_state;
  int m_step = 0;
  int m_total = 0;
  std::string m_base; // the base, for miss explanations
  KeySources m_sources = engine_sources(m_engine);
  std::shared_ptr<DeferredRoot> m_deferred; // the root while nothing needed its files
};

} // namespace

util::Status run_stage(Engine& engine, int index, const solver::CancelToken& cancel) {
  return StageRunner(engine, index).run(cancel);
}

} // namespace mason::engine
