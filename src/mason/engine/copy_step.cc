// COPY, ADD and WORKDIR steps: the file work is ops::copy_files; here the
// source root is chosen (context, stage or image), the request is filled
// from the instruction, and the history text is BuildKit's.
#include <fcntl.h>

#include <fmt/format.h>

#include "mason/engine/steps.h"
#include "mason/ops/copy.h"
#include "mason/ops/copy_paths.h"
#include "mason/ops/user.h"
#include "mason/sys/in_root.h"

namespace mason::engine {
namespace {

util::Result<util::UniqueFd> open_dir(const std::string& path) {
  util::UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return util::errno_error("open " + path, errno);
  return fd;
}

std::string history_text(std::string_view keyword, const df::SourcesAndDest& files, bool parents,
                         const std::string& chown, const std::string& chmod) {
  std::string text(keyword);
  if (parents) text += " --parents";
  if (!chown.empty()) text += " --chown=" + chown;
  if (!chmod.empty()) text += " --chmod=" + chmod;
  for (const auto& s : files.sources) text += " " + s;
  for (const auto& c : files.contents) text += " <<" + c.path;
  return text + " " + files.dest + " # buildkit";
}

ops::CopyRequest base_request(const StepContext& ctx, const df::SourcesAndDest& files) {
  ops::CopyRequest req;
  req.sources = files.sources;
  req.contents = files.contents;
  req.dest = files.dest;
  req.workdir = ctx.config.config.working_dir.empty() ? "/" : ctx.config.config.working_dir;
  req.scratch_dir = ctx.engine.work_dir;
  return req;
}

util::Result<StepHistory> do_copy(StepContext& ctx, const std::string& from,
                                  const ops::CopyRequest& req, std::string history) {
  MASON_TRY_ASSIGN(auto source, open_source(ctx.engine, from));
  ops::SourceRoot root;
  root.root_fd = source.fd.get();
  root.origin = source.context ? ops::SourceOrigin::context : ops::SourceOrigin::stage;
  if (source.context) root.ignore = ctx.engine.ignore;
  MASON_TRY_ASSIGN(auto dest, open_dir(ctx.root));
  MASON_TRY(ops::copy_files(root, dest.get(), req));
  return StepHistory{std::move(history), true};
}

} // namespace

util::Result<SourceView> open_source(Engine& engine, const std::string& from) {
  SourceView out;
  if (from.empty()) {
    out.context = true;
    out.path = engine.context_path;
    out.fd = util::UniqueFd(::fcntl(engine.context_fd.get(), F_DUPFD_CLOEXEC, 0));
    return out;
  }
  std::optional<std::string> snap;
  if (const int stage = stage_for_from(engine.graph, from); stage >= 0) {
    const auto& result = engine.results.at(static_cast<std::size_t>(stage));
    if (!result)
      return util::make_error(util::ErrorCode::internal,
                              fmt::format("stage {} has not been built", from));
    MASON_TRY_ASSIGN(snap, engine.root_of(*result));
  } else {
    auto it = engine.images.find(from);
    if (it == engine.images.end())
      return util::make_error(util::ErrorCode::not_found, "image " + from + " was not resolved");
    MASON_TRY_ASSIGN(auto s, engine.image_snapshot(*it->second));
    snap = s;
  }
  MASON_TRY_ASSIGN(auto view, engine.snapshots.view(snap));
  out.path = view->path();
  out.view = std::move(view);
  MASON_TRY_ASSIGN(auto fd, open_dir(out.path));
  out.fd = std::move(fd);
  return out;
}

util::Result<StepHistory> copy_step(StepContext& ctx, const df::CopyInstr& copy) {
  auto req = base_request(ctx, copy.files);
  req.kind = ops::CopyKind::copy;
  req.chown = copy.chown;
  req.chmod = copy.chmod;
  req.parents = copy.parents;
  req.link = copy.link;
  req.excludes = copy.excludes;
  return do_copy(ctx, copy.from, req,
                 history_text("COPY", copy.files, copy.parents, copy.chown, copy.chmod));
}

util::Result<StepHistory> copy_step(StepContext& ctx, const df::AddInstr& add) {
  auto req = base_request(ctx, add.files);
  req.kind = ops::CopyKind::add;
  req.chown = add.chown;
  req.chmod = add.chmod;
  req.link = add.link;
  req.excludes = add.excludes;
  req.unpack = add.unpack;
  req.checksum = add.checksum;
  req.fetcher = ctx.engine.downloads.get();
  if (add.keep_git_dir)
    return util::make_error(util::ErrorCode::unsupported,
                            "ADD --keep-git-dir: git sources are not supported yet");
  return do_copy(ctx, "", req, history_text("ADD", add.files, false, add.chown, add.chmod));
}

// WORKDIR: the config changes, and the directory is made (missing parts
// owned by the config's user, as BuildKit's mkdir WithUser does).
util::Result<StepHistory> workdir_step(StepContext& ctx) {
  const std::string written = ctx.config.config.working_dir;
  MASON_TRY_ASSIGN(auto cleaned, sys::clean_path(written));
  const std::string wd = "/" + cleaned; // the directory made (BuildKit's mkdir cleans)
  if (wd == "/" || written.empty()) return StepHistory{"WORKDIR " + written, false};
  auto root = open_dir(ctx.root);
  if (!root) return std::unexpected(root.error());
  // BuildKit's mkdir WithUser: the lenient --chown rules (unknown names are 0)
  ops::Owner owner;
  if (!ctx.config.config.user.empty()) {
    MASON_TRY_ASSIGN(auto id, ops::resolve_chown(root->get(), ctx.config.config.user));
    owner = id;
  }
  // As BuildKit's mkdir: symlinks on the way resolved inside the root
  // (fs.RootPath), then every missing directory of the resolved path made:
  // a link to a missing absolute path gets its target made in the root.
  auto resolved = ops::resolve_in_root(root->get(), cleaned);
  if (!resolved) return std::unexpected(std::move(resolved.error()).with_context("WORKDIR " + wd));
  if (!resolved->empty()) {
    auto made = ops::mkdir_all(root->get(), *resolved, 0755, owner);
    if (!made) return std::unexpected(std::move(made.error()).with_context("WORKDIR " + wd));
  }
  return StepHistory{"WORKDIR " + written, true};
}

} // namespace mason::engine
