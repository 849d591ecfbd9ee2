// Step keys: one KeyBuilder per step, fields in the order docs/cache-keys.md
// gives. Every field of the instruction structs that can change a step's
// result is written; tests/unit/build/step_key_test.cc changes each one and
// expects a new key.
#include "mason/engine/step_key.h"

#include <fcntl.h>
#include <random>

#include <fmt/format.h>

#include "mason/cache/key.h"
#include "mason/ops/add_remote.h"
#include "mason/ops/image_source.h"
#include "mason/ops/source_hash.h"
#include "mason/util/sha256.h"

namespace mason::engine {

namespace {

using nlohmann::json;

std::vector<std::string> env_strings(const df::EnvList& env) {
  std::vector<std::string> out;
  out.reserve(env.items().size());
  for (const auto& [k, v] : env.items()) out.push_back(k + "=" + v);
  return out;
}

json env_json(const df::EnvList& env) {
  json out = json::object();
  for (const auto& [k, v] : env.items()) out[k] = v;
  return out;
}

// A value that never repeats: steps whose inputs cannot be known before
// they run (ADD of a git source, which fails anyway) get a fresh key every
// build, so neither they nor anything after them is ever taken from the
// cache.
std::string never_again() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

class StepKeyer {
public:
  StepKeyer(const KeySources& sources, const KeyScope& scope) : m_sources(sources), m_scope(scope) {
    m_key.add("parent", scope.parent);
    m_inputs["parent"] = scope.parent;
    m_inputs["base"] = scope.base;
  }

  util::Result<StepKey> run(const df::Instruction& instr) {
    m_inputs["step"] = instr.original;
    util::Status ok;
    if (const auto* run = std::get_if<df::RunInstr>(&instr.kind))
      ok = add_run(*run);
    else if (const auto* copy = std::get_if<df::CopyInstr>(&instr.kind))
      ok = add_copy(*copy);
    else if (const auto* add = std::get_if<df::AddInstr>(&instr.kind))
      ok = add_add(*add);
    else if (std::holds_alternative<df::WorkdirInstr>(instr.kind))
      ok = add_workdir();
    else
      return util::make_error(util::ErrorCode::internal, "no cache key for " + instr.keyword);
    if (!ok) return std::unexpected(std::move(ok.error()));
    return StepKey{m_key.finish(), std::move(m_inputs)};
  }

private:
  const image::ContainerConfig& config() const { return m_scope.config.config; }

  util::Status add_run(const df::RunInstr& run) {
    m_key.add("op", "run");
    m_key.add_list("args", run.cmd.args);
    m_key.add("shell-form", run.cmd.prepend_shell);
    m_key.add("files", static_cast<std::int64_t>(run.cmd.files.size()));
    for (const auto& f : run.cmd.files) {
      m_key.add("file-name", f.name);
      m_key.add("file-data", f.data);
      m_key.add("file-chomp", f.chomp);
    }
    m_key.add_list("shell", config().shell);
    m_key.add("user", config().user);
    m_key.add("workdir", config().working_dir);
    m_key.add_list("env", env_strings(m_scope.env));
    m_inputs["env"] = env_json(m_scope.env);
    json args = json::array();
    for (const auto& a : m_scope.build_args) args.push_back(a.key);
    m_inputs["args"] = std::move(args);
    std::string network = run.network;
    if (network == "default")
      network = m_sources.default_network == executor::NetworkMode::none ? "none" : "default";
    m_key.add("network", network);
    m_key.add("security", run.security);
    m_key.add("devices", static_cast<std::int64_t>(run.devices.size()));
    for (const auto& d : run.devices) {
      m_key.add("device", d.name);
      m_key.add("device-required", d.required);
    }
    m_key.add("mounts", static_cast<std::int64_t>(run.resolved_mounts.size()));
    MASON_TRY_ASSIGN(auto places, df::place_mounts(run.resolved_mounts, config().working_dir));
    for (std::size_t i = 0; i < places.size(); ++i)
      if (auto r = add_mount(run.resolved_mounts[i], (places)[i]); !r) return r;
    return {};
  }

  // `place`: where the mount lands (targets relative to the WORKDIR
  // resolved, as the step runs it) and its id.
  util::Status add_mount(const df::Mount& m, const df::MountPlacement& place) {
    m_key.add("mount-type", df::to_string(m.type));
    m_key.add("mount-target", place.target.value_or(""));
    m_key.add("mount-readonly", m.read_only);
    m_key.add("mount-source", m.source);
    m_key.add("mount-from", m.from);
    switch (m.type) {
    case df::MountType::bind: {
      auto source =
          source_key(m.from, {m.source.empty() ? "/" : m.source}, "mount " + *place.target);
      if (!source) return std::unexpected(std::move(source.error()));
      m_key.add("mount-content", *source);
      break;
    }
    case df::MountType::tmpfs: m_key.add("mount-size", m.size_limit); break;
    case df::MountType::cache:
      // The cache's contents are not an input (BuildKit: a cache mount
      // never invalidates); its identity and shape are.
      m_key.add("mount-id", place.id);
      m_key.add("mount-sharing", static_cast<std::int64_t>(m.sharing));
      m_key.add("mount-mode", static_cast<std::int64_t>(m.mode.value_or(0755)));
      m_key.add("mount-uid", static_cast<std::int64_t>(m.uid.value_or(0)));
      m_key.add("mount-gid", static_cast<std::int64_t>(m.gid.value_or(0)));
      break;
    case df::MountType::secret:
    case df::MountType::ssh:
      m_key.add("mount-id", place.id);
      m_key.add("mount-required", m.required);
      m_key.add("mount-env", m.env.value_or(""));
      m_key.add("mount-mode", static_cast<std::int64_t>(m.mode.value_or(0400)));
      m_key.add("mount-uid", static_cast<std::int64_t>(m.uid.value_or(0)));
      m_key.add("mount-gid", static_cast<std::int64_t>(m.gid.value_or(0)));
      break;
    }
    return {};
  }

  void add_files(const df::SourcesAndDest& files) {
    m_key.add_list("sources", files.sources);
    m_key.add("contents", static_cast<std::int64_t>(files.contents.size()));
    for (const auto& c : files.contents) {
      m_key.add("content-path", c.path);
      m_key.add("content-data", c.data);
      m_key.add("content-expand", c.expand);
    }
    m_key.add("dest", files.dest);
    m_key.add("workdir", config().working_dir);
  }

  util::Status add_copy(const df::CopyInstr& copy) {
    m_key.add("op", "copy");
    add_files(copy.files);
    m_key.add("from", copy.from);
    m_key.add("chown", copy.chown);
    m_key.add("chmod", copy.chmod);
    m_key.add("link", copy.link);
    m_key.add("parents", copy.parents);
    m_key.add_list("excludes", copy.excludes);
    if (copy.files.sources.empty()) return {};
    auto source = source_key(copy.from, copy.files.sources, "COPY");
    if (!source) return std::unexpected(std::move(source.error()));
    m_key.add("source-content", *source);
    return {};
  }

  util::Status add_add(const df::AddInstr& add) {
    m_key.add("op", "add");
    add_files(add.files);
    m_key.add("chown", add.chown);
    m_key.add("chmod", add.chmod);
    m_key.add("checksum", add.checksum);
    m_key.add("link", add.link);
    m_key.add("keep-git-dir", add.keep_git_dir ? (*add.keep_git_dir ? "1" : "0") : "-");
    m_key.add("unpack", add.unpack ? (*add.unpack ? "1" : "0") : "-");
    m_key.add_list("excludes", add.excludes);
    std::vector<std::string> local;
    for (const auto& s : add.files.sources) {
      const auto kind = ops::classify_source(s);
      if (kind == ops::SourceKind::local) {
        local.push_back(s);
      } else if (!add.checksum.empty()) {
        continue; // the checksum (above) is the content
      } else if (kind == ops::SourceKind::http && m_sources.remote) {
        auto content = m_sources.remote(s, m_inputs);
        if (!content) return std::unexpected(std::move(content.error()));
        m_key.add("remote-url", s);
        m_key.add("remote-content", *content);
      } else {
        m_key.add("remote-unknown", never_again());
        m_inputs["remote-unknown"] = s;
      }
    }
    if (local.empty()) return {};
    auto source = source_key("", local, "ADD");
    if (!source) return std::unexpected(std::move(source.error()));
    m_key.add("source-content", *source);
    return {};
  }

  util::Status add_workdir() {
    m_key.add("op", "workdir");
    m_key.add("workdir", config().working_dir);
    m_key.add("user", config().user);
    return {};
  }

  util::Result<std::string> source_key(const std::string& from,
                                       const std::vector<std::string>& paths,
                                       const std::string& what) {
    auto key = m_sources.source(from, paths, m_inputs);
    if (!key) return std::unexpected(std::move(key.error()).with_context(what));
    return key;
  }

  const KeySources& m_sources;
  const KeyScope& m_scope;
  cache::KeyBuilder m_key;
  json m_inputs = json::object();
};

// "a, b and 3 more"
std::string some(const std::vector<std::string>& names) {
  std::string out;
  const std::size_t shown = std::min<std::size_t>(names.size(), 3);
  for (std::size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += fmt::format(" and {} more", names.size() - shown);
  return out;
}

std::vector<std::string> changed_keys(const json& before, const json& now) {
  std::vector<std::string> out;
  if (!before.is_object() || !now.is_object()) return out;
  for (const auto& [k, v] : now.items())
    if (!before.contains(k) || before[k] != v) out.push_back(k);
  for (const auto& [k, v] : before.items())
    if (!now.contains(k)) out.push_back(k);
  return out;
}

} // namespace

std::string base_key(std::string_view kind, std::string_view identity) {
  cache::KeyBuilder key;
  key.add("base", kind);
  key.add("identity", identity);
  return key.finish();
}

const std::string& link_parent_key() {
  static const std::string key = base_key("link", "");
  return key;
}

std::string link_merge_key(std::string_view parent, std::string_view link_key) {
  cache::KeyBuilder key;
  key.add("merge", parent);
  key.add("link", link_key);
  return key.finish();
}

KeySources engine_sources(Engine& engine) {
  KeySources out;
  out.default_network = engine.options.network;
  out.source = [&engine](const std::string& from, const std::vector<std::string>& paths,
                         json& inputs) -> util::Result<std::string> {
    if (!from.empty()) {
      const int stage = stage_for_from(engine.graph, from);
      if (stage >= 0) {
        const auto& result = engine.results.at(static_cast<std::size_t>(stage));
        if (!result)
          return util::make_error(util::ErrorCode::internal,
                                  fmt::format("stage {} was not built", stage));
        inputs["from"][from] = result->cache_key;
        return "stage:" + result->cache_key;
      }
      auto it = engine.images.find(from);
      if (it == engine.images.end())
        return util::make_error(util::ErrorCode::internal,
                                fmt::format("image {} was not resolved", from));
      const auto chain = ops::chain_ids(it->second->image.config.rootfs.diff_ids);
      const auto identity = chain.empty() ? std::string("no layers") : chain.back().str();
      inputs["from"][from] = identity;
      return "image:" + identity;
    }
    auto digest = engine.hash_context(paths);
    if (!digest) return std::unexpected(std::move(digest.error()));
    json& files = inputs["files"];
    if (!files.is_object()) files = json::object();
    for (const auto& [path, hex] : digest->entries) files[path] = hex;
    if (digest->truncated) inputs["files-truncated"] = true;
    return "context:" + digest->digest;
  };
  out.remote = [&engine](const std::string& url, json& inputs) -> util::Result<std::string> {
    auto got = engine.downloads->prefetch(url);
    if (!got) return std::unexpected(std::move(got.error()).with_context("ADD " + url));
    const std::string content =
        "sha256:" + got->sha256_hex + " modified " +
        (got->last_modified ? std::to_string(*got->last_modified) : std::string("-"));
    inputs["remote"][url] = content;
    return content;
  };
  return out;
}

util::Result<StepKey> step_key(const KeySources& sources, const KeyScope& scope,
                               const df::Instruction& instr) {
  return StepKeyer(sources, scope).run(instr);
}

std::string explain_miss(const json& before, const json& now) {
  auto field = [](const json& j, const char* name) {
    return j.is_object() && j.contains(name) ? j[name] : json();
  };
  if (!before.is_object() || before.empty()) return "no cache record";
  if (field(before, "step") != field(now, "step")) return "instruction changed";
  if (field(before, "base") != field(now, "base"))
    return fmt::format("base changed: {} -> {}", field(before, "base").dump(),
                       field(now, "base").dump());
  if (auto files = changed_keys(field(before, "files"), field(now, "files")); !files.empty())
    return "file changed: " + some(files);
  if (auto env = changed_keys(field(before, "env"), field(now, "env")); !env.empty()) {
    std::vector<std::string> args, vars;
    const auto declared = field(now, "args");
    for (const auto& name : env) {
      const bool is_arg =
          declared.is_array() && std::ranges::find(declared, json(name)) != declared.end();
      (is_arg ? args : vars).push_back(name);
    }
    if (!args.empty()) return "build arg changed: " + some(args);
    return "environment changed: " + some(vars);
  }
  if (auto from = changed_keys(field(before, "from"), field(now, "from")); !from.empty())
    return "source changed: " + some(from);
  if (auto remote = changed_keys(field(before, "remote"), field(now, "remote")); !remote.empty())
    return "remote source changed: " + some(remote);
  if (now.contains("remote-unknown"))
    return "remote source " + field(now, "remote-unknown").get<std::string>() +
           " is fetched every build";
  if (field(before, "parent") != field(now, "parent")) return "a previous step changed";
  return "inputs changed";
}

} // namespace mason::engine
