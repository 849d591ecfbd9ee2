// The build driver: parse → lower → prune → resolve bases → solve → export.
// Each step is one call; the detail lives in the callees (stage.cc,
// run_step.cc, copy_step.cc, export.cc).
#include "mason/engine/build.h"
#include "mason/content/layout.h"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/engine/cache_transfer.h"
#include "mason/engine/engine.h"
#include "mason/engine/export.h"
#include "mason/engine/sandbox.h"
#include "mason/gc/gc.h"
#include "mason/image/config.h"
#include "mason/image/platform.h"
#include "mason/image/reference.h"
#include "mason/sys/dir.h"
#include "mason/sys/file.h"
#include "mason/util/sha256.h"
#include "mason/util/strings.h"

namespace mason::engine {
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The Dockerfile: -f (relative to the current directory, as docker takes
// it), else <context>/Dockerfile, else <context>/dockerfile.
util::Result<std::pair<std::string, std::string>> dockerfile_of(const BuildOptions& o) {
  if (o.dockerfile_text) return std::pair{std::string("Dockerfile"), *o.dockerfile_text};
  std::string path = o.dockerfile_path;
  if (path.empty()) {
    path = o.context_dir + "/Dockerfile";
    if (!sys::is_regular_file(path) && sys::is_regular_file(o.context_dir + "/dockerfile"))
      path = o.context_dir + "/dockerfile";
  }
  auto text = sys::read_file(path);
  if (!text) return std::unexpected(std::move(text.error()).with_context("load build definition"));
  return std::pair{path, std::move(*text)};
}

std::string now_rfc3339(const std::optional<std::int64_t>& epoch) {
  if (epoch) return image::format_timestamp(*epoch);
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return image::format_timestamp(ts.tv_sec, static_cast<std::uint32_t>(ts.tv_nsec));
}

util::Status open_context(Engine& e, const std::string& dockerfile_path) {
  e.context_path = e.options.context_dir;
  if (e.context_path.empty()) { // `docker build -`: a Dockerfile and no context
    e.context_path = e.work_dir + "/no-context";
    if (::mkdir(e.context_path.c_str(), 0755) != 0 && errno != EEXIST)
      return util::errno_error("create " + e.context_path, errno);
  }
  e.context_fd = util::UniqueFd(::open(e.context_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!e.context_fd)
    return util::errno_error("build context " + e.context_path + " is not a directory", errno);
  auto ignore_file =
      frontend::choose_dockerignore(dockerfile_path, e.context_path, sys::is_regular_file);
  if (!ignore_file) return {};
  MASON_TRY_ASSIGN(auto text, sys::read_file(*ignore_file));
  MASON_TRY_ASSIGN(auto matcher, frontend::IgnoreMatcher::from_dockerignore(text, *ignore_file));
  e.ignore = std::move(matcher);
  return {};
}

// Reads `ref` from its registry: the manifest and the config, not the
// layers (Engine::image_layers pulls them when a step or an output needs
// them). nullopt with --pull when the local copy is the registry's.
util::Result<std::optional<registry::RemoteImage>>
fetch_image(Engine& e, const std::string& ref, const progress::Reporter& vertex, bool have_local) {
  MASON_TRY_ASSIGN(auto parsed, image::Reference::parse(ref));
  MASON_TRY_ASSIGN(auto client, e.registry());
  if (have_local) {
    MASON_TRY_ASSIGN(auto remote, client->resolve(parsed));
    if (e.store.has_blob(remote.digest)) return std::nullopt; // the same manifest or index
  }
  vertex.status("resolving " + parsed.str());
  e.report_transfers_to(vertex);
  MASON_TRY_ASSIGN(auto fetched, client->fetch_image(e.store, parsed, image::host_platform()));
  vertex.status("resolved " + fetched.descriptor.digest.str());
  return fetched;
}

util::Result<exporter::LocalImage> remote_image(Engine& e, const registry::RemoteImage& remote) {
  MASON_TRY_ASSIGN(auto raw, e.store.read_blob(remote.manifest.config.digest));
  MASON_TRY_ASSIGN(auto config, image::parse_image_config(raw));
  if (config.rootfs.diff_ids.size() != remote.manifest.layers.size())
    return util::make_error(util::ErrorCode::corruption,
                            fmt::format("{}: the config lists {} layers, the manifest {}",
                                        remote.ref, config.rootfs.diff_ids.size(),
                                        remote.manifest.layers.size()));
  return exporter::LocalImage{{}, remote.descriptor, remote.manifest, std::move(config)};
}

util::Status resolve_image(Engine& e, const std::string& ref) {
  if (e.images.contains(ref)) return {};
  auto vertex = e.progress.vertex();
  vertex.started("[internal] load metadata for " + ref);
  auto source = std::make_unique<ImageSource>();
  auto resolved = [&]() -> util::Status {
    auto img = exporter::find_local_image(e.store, ref);
    if (img && !e.options.pull) {
      source->image = std::move(*img);
      return {};
    }
    auto fetched = fetch_image(e, ref, vertex, img.has_value());
    if (!fetched) return std::unexpected(std::move(fetched.error()).with_context("FROM " + ref));
    if (!*fetched) {
      source->image = std::move(*img);
      return {};
    }
    MASON_TRY_ASSIGN(source->image, remote_image(e, **fetched));
    source->remote = std::move(**fetched);
    return {};
  }();
  if (!resolved) {
    vertex.failed(resolved.error().to_string());
    return resolved;
  }
  e.images.emplace(ref, std::move(source));
  vertex.done();
  return {};
}

// resolve bases: every image a needed stage uses, found in the local store.
util::Status resolve_bases(Engine& e) {
  for (const auto& s : e.graph.stages) {
    if (!s.needed) continue;
    if (s.base_kind == df::BaseKind::image)
      if (auto r = resolve_image(e, s.base); !r) return r;
    for (const auto& img : s.images)
      if (auto r = resolve_image(e, img); !r) return r;
  }
  return {};
}

// solve: one job per needed stage, after the stages it depends on.
util::Status solve(Engine& e) {
  std::vector<solver::Job> jobs;
  std::vector<std::size_t> job_of(e.graph.stages.size(), 0);
  std::vector<int> stage_of;
  for (const auto& s : e.graph.stages) {
    if (!s.needed) continue;
    job_of[static_cast<std::size_t>(s.index)] = jobs.size();
    stage_of.push_back(s.index);
    jobs.push_back(solver::Job{s.name.empty() ? fmt::format("stage-{}", s.index) : s.name, {}, {}});
  }
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const int index = stage_of[j];
    for (int dep : e.graph.stages[static_cast<std::size_t>(index)].depends_on)
      jobs[j].deps.push_back(job_of[static_cast<std::size_t>(dep)]);
    jobs[j].run = [&e, index](const solver::CancelToken& c) { return run_stage(e, index, c); };
  }
  solver::CancelToken cancel;
  // By default every stage that is ready runs (as BuildKit): stages often
  // wait (downloads, sleeps, single-threaded tools) more than they compute.
  const std::size_t at_once =
      e.options.jobs != 0 ? e.options.jobs : std::max<std::size_t>(1, jobs.size());
  return solver::solve(jobs, {.jobs = at_once}, cancel);
}

// A stage's size for the table: its file tree, or, when its root was never
// made (deferred), its layers' uncompressed sizes as the store knows them
// (compressed sizes where it does not: then the size is a lower bound).
util::Status stage_size(Engine& e, const StageResult& r, StageSummary& out) {
  if (!r.deferred) {
    MASON_TRY_ASSIGN(out.size, tree_size(e, r.snapshot));
    return {};
  }
  out.size = 0;
  for (const auto& l : r.layers) {
    if (!l.blob) continue;
    const auto known = exporter::known_uncompressed_size(e.store, *l.blob);
    out.size += known.value_or(l.blob->size);
    out.size_exact = out.size_exact && known.has_value();
  }
  return {};
}

util::Status summarize(Engine& e, BuildResult& out) {
  for (const auto& s : e.graph.stages) {
    const auto& r = e.results[static_cast<std::size_t>(s.index)];
    if (!s.needed || !r) continue;
    StageSummary summary{s.index, s.name.empty() ? fmt::format("stage-{}", s.index) : s.name,
                         s.base, s.index == e.graph.target};
    MASON_TRY(stage_size(e, *r, summary));
    out.stages.push_back(std::move(summary));
  }
  return {};
}

// The context's stat cache and the lineage of this Dockerfile's records,
// both named after the real paths of the context and the Dockerfile.
void open_cache_state(Engine& e, const std::string& root, const std::string& dockerfile) {
  auto real = [](const std::string& p) {
    char* r = ::realpath(p.c_str(), nullptr);
    std::string out = r ? r : p;
    std::free(r); // NOLINT(cppcoreguidelines-no-malloc): realpath's buffer
    return out;
  };
  const std::string context = real(e.context_path);
  const content::StoreLayout layout(root);
  ::mkdir(layout.cache_dir().c_str(), 0700);
  ::mkdir(layout.context_stats().c_str(), 0700);
  e.context_stats = cache::StatCache::load(layout.context_stats() + "/" +
                                           util::Sha256::hex_of(context).substr(0, 32) + ".stat");
  e.lineage = util::Sha256::hex_of(context + '\0' + (dockerfile == "-" ? "-" : real(dockerfile)))
                  .substr(0, 32);
}

// The automatic size limit (cache_size_limit): the least recently used
// records go when the cache has grown past it. Skipped while another build
// runs (it holds the cache lock shared).
void keep_cache_in_bounds(Engine& e, const std::string& root) {
  auto records = e.store.list_cache_records();
  if (!records) return;
  std::int64_t total = 0;
  for (const auto& r : *records) total += r.size;
  const auto limit = gc::cache_size_limit(root, e.options.cache_max_size);
  if (total <= limit) return;
  auto lock = gc::UsageLock::take(root, gc::UsageLock::Guards::build_cache,
                                  gc::UsageLock::Mode::exclusive, gc::UsageLock::Wait::try_only);
  if (!lock) return;
  gc::PruneOptions o;
  o.keep_bytes = limit;
  o.mounts = false;
  auto vertex = e.progress.vertex();
  vertex.started("[internal] pruning the build cache");
  auto report = gc::prune_cache(e.store, e.snapshots, root, o);
  if (!report) {
    vertex.failed(report.error().to_string());
    return;
  }
  vertex.status(fmt::format("{} records, {} snapshots, {} freed (limit {})", report->records,
                            report->snapshots, util::human_size(report->bytes),
                            util::human_size(limit)));
  vertex.done();
}

// Cache records used within this long are not marked used again: LRU
// order does not need finer time, and an unchanged rebuild writes nothing.
constexpr std::chrono::seconds k_mark_used_slack{60};

void cleanup(Engine& e, bool ok) {
  (void)e.store.mark_cache_records_used(e.hits, k_mark_used_slack);
  if (ok) e.context_stats.drop_unused(); // entries of files no build step selected
  (void)e.context_stats.save();
  for (auto it = e.discard_at_end.rbegin(); it != e.discard_at_end.rend(); ++it)
    (void)e.snapshots.remove(*it);
  util::UniqueFd dir(::open(e.work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) (void)sys::remove_children(dir.get());
  ::rmdir(e.work_dir.c_str());
}

// Work directories of builds that died (killed, power loss) are removed by
// the next build: their names are the builds' pids.
void remove_stale_work_dirs(const std::string& parent) {
  util::UniqueFd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return;
  auto names = sys::read_dir_names(dir.get());
  if (!names) return;
  for (const auto& name : *names) {
    char* end = nullptr;
    const long pid = std::strtol(name.c_str(), &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    (void)sys::remove_all_at(dir.get(), name);
  }
}

util::Status make_dirs(const std::string& root, Engine& e) {
  const content::StoreLayout layout(root);
  e.work_dir = fmt::format("{}/{}", layout.build_tmp(), ::getpid());
  e.cache_dir = layout.cache_mounts();
  for (const auto& d : {layout.build_tmp(), e.work_dir, e.cache_dir})
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST)
      return util::errno_error("create " + d, errno);
  remove_stale_work_dirs(layout.build_tmp());
  return {};
}

} // namespace

util::Result<BuildResult> run_build(content::Store& store, const BuildOptions& options,
                                    progress::Progress& progress) {
  enter_private_mount_namespace();
  // parse → lower → prune (the frontend marks the stages the target needs)
  auto def = progress.vertex();
  def.started("[internal] load build definition from Dockerfile");
  MASON_TRY_ASSIGN(auto dockerfile, dockerfile_of(options));
  df::LowerOptions lower{options.target, options.build_args, "linux/amd64", "linux/amd64"};
  auto fe = df::load_and_lower(base_name(dockerfile.first), dockerfile.second, lower);
  if (!fe) {
    def.failed(fe.error().message());
    return std::unexpected(fe.error());
  }
  for (const auto& stage : options.no_cache_filter)
    if (stage_for_from(fe->graph, stage) < 0) {
      def.failed("--no-cache-filter " + stage + ": no such stage");
      return util::make_error(util::ErrorCode::invalid_argument, "--no-cache-filter " + stage +
                                                                     ": no such stage in " +
                                                                     base_name(dockerfile.first));
    }
  def.done();
  for (const auto& unused : fe->graph.unused_build_args)
    progress.message(fmt::format("[warning]: The build-arg \"{}\" was not consumed", unused));

  const std::string root = store.root().string();
  // Held until the end: no cache prune removes what this build uses.
  auto cache_lock =
      gc::UsageLock::take(root, gc::UsageLock::Guards::build_cache, gc::UsageLock::Mode::shared);
  if (!cache_lock) return std::unexpected(cache_lock.error());
  auto layers_lock =
      gc::UsageLock::take(root, gc::UsageLock::Guards::image_layers, gc::UsageLock::Mode::shared);
  if (!layers_lock) return std::unexpected(layers_lock.error());
  std::string why;
  const content::StoreLayout layout(root);
  MASON_TRY_ASSIGN(auto snapshots,
                   snapshot::open_snapshotter(
                       layout.snapshots(options.snapshotter == snapshot::KindChoice::copy),
                       options.snapshotter, &why));
  if (snapshots->kind() == snapshot::Kind::copy &&
      options.snapshotter == snapshot::KindChoice::automatic)
    progress.message(fmt::format("[warning]: {}; {}", why, snapshot::k_copy_fallback_hint));
  std::unique_ptr<executor::Executor> runtime;
  if (options.executor == nullptr) {
    MASON_TRY_ASSIGN(auto made,
                     executor::make_runtime_executor(
                         {options.runtime, layout.runtime_state(), options.runtime_search_path}));
    runtime = std::move(made);
  }
  executor::Executor& exec = options.executor != nullptr ? *options.executor : *runtime;

  Engine e{.store = store,
           .options = options,
           .progress = progress,
           .snapshots = *snapshots,
           .executor = exec,
           .dockerfile = fe->loaded.dockerfile,
           .graph = fe->graph,
           .dockerfile_label = base_name(dockerfile.first),
           .dockerfile_text = dockerfile.second,
           .build_time = now_rfc3339(options.source_date_epoch)};
  e.results.resize(fe->graph.stages.size());
  MASON_TRY(make_dirs(root, e));
  e.downloads = std::make_unique<Downloads>(e.work_dir + "/downloads", layout.http_cache());
  MASON_TRY(open_context(e, options.dockerfile_text ? "" : dockerfile.first));
  open_cache_state(e, root, options.dockerfile_text ? "-" : dockerfile.first);

  BuildResult out;
  out.snapshotter = snapshots->kind() == snapshot::Kind::overlay ? "overlay" : "copy";
  auto status = resolve_bases(e);
  if (status) load_cache_sources(e);
  if (status) status = solve(e);
  if (status) status = export_target(e, fe->graph.target, out);
  if (status) status = export_cache(e, fe->graph.target);
  if (status) status = summarize(e, out);
  cleanup(e, status.has_value());
  cache_lock->release();
  if (status) keep_cache_in_bounds(e, root);
  if (!status) return std::unexpected(status.error());
  if (!options.iidfile.empty()) {
    util::UniqueFd fd(
        ::open(options.iidfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    const auto id = out.image_id.str();
    if (!fd || ::write(fd.get(), id.data(), id.size()) != static_cast<ssize_t>(id.size()))
      return util::errno_error("write " + options.iidfile, errno);
  }
  return out;
}

std::string size_table(const BuildResult& result) {
  // ">=": layers this build never unpacked (an all-cached CI build) are
  // counted compressed rather than read only to be measured.
  auto size = [](std::int64_t bytes, bool exact) {
    return (exact ? "" : ">=") + util::human_size(bytes);
  };
  bool lower_bound = !result.image_size_exact && result.image;
  std::string out = fmt::format("{:<20} {:<36} {:>12}  {}\n", "STAGE", "FROM", "SIZE", "");
  for (const auto& s : result.stages) {
    out += fmt::format("{:<20} {:<36} {:>12}  {}\n", s.name, s.base, size(s.size, s.size_exact),
                       s.target ? "the house (exported)" : "construction site (left behind)");
    lower_bound = lower_bound || !s.size_exact;
  }
  if (result.image)
    out += fmt::format("image {}  {}\n", result.image_id.str().substr(0, 19),
                       size(result.image_size, result.image_size_exact));
  if (lower_bound)
    out += "(>=: layers not unpacked by this build are counted compressed; `mason images` "
           "counts them)\n";
  return out;
}

} // namespace mason::engine
