// copy_files: BuildKit's COPY/ADD as one pass over the instruction.
//
//  1. validate: --chmod, --checksum (ADD, one http(s)/git source), the
//     source kinds (COPY takes neither URLs nor git), --exclude patterns,
//     and resolve --chown in the destination root;
//  2. plan every local source: the --parents split at "/./", wildcard
//     expansion, symlink resolution and existence checks — so that a
//     missing source fails before anything is written;
//  3. run the sources in order: a local source is extracted (ADD, a tar
//     archive) or copied by a TreeCopier; a URL is downloaded into a
//     scratch directory and copied (or extracted with --unpack=true);
//  4. heredocs: each written to a scratch directory, then copied.
#include "mason/ops/copy.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/ops/add_archive.h"
#include "mason/ops/add_remote.h"
#include "mason/ops/copy_match.h"
#include "mason/ops/copy_paths.h"
#include "mason/ops/copy_tree.h"
#include "mason/ops/fetch_http.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/sys/temp_dir.h"

namespace mason::ops {

namespace {

std::unexpected<util::Error> invalid(std::string message) {
  return util::make_error(util::ErrorCode::invalid_argument, std::move(message));
}

// One resolved source of a local source word.
struct Job {
  std::string match;    // as matched (root-relative), for the destination name
  std::string resolved; // symlinks followed
  struct stat st {};
};

struct LocalPlan {
  std::string source; // as written
  std::optional<frontend::IgnoreMatcher> include;
  std::vector<std::string> include_patterns;
  std::vector<Job> jobs;
};

// --parents: "a/./b/c" copies b/c from a; without a pivot the whole path
// is kept, from the root. Returns the copy source; fills the include.
util::Result<std::string> split_parents(const std::string& src, LocalPlan& plan,
                                        std::string& required) {
  std::string base = "/";
  std::string pattern = src;
  if (const auto pivot = src.find("/./"); pivot != std::string::npos) {
    base = src.substr(0, pivot);
    pattern = src.substr(pivot + 3);
  }
  const std::string clean = normalize_source(pattern).substr(1);
  plan.include_patterns = {clean};
  auto m = frontend::IgnoreMatcher::create(plan.include_patterns);
  if (!m) return std::unexpected(std::move(m.error()).with_context("--parents " + sys::quote(src)));
  plan.include.emplace(std::move(*m));
  if (!contains_wildcards(base) && !contains_wildcards(pattern))
    required = normalize_source(base + "/" + pattern).substr(1);
  return base;
}

class CopyRun {
public:
  CopyRun(const SourceRoot& source, int dest_root_fd, const CopyRequest& request)
      : m_source(source), m_dest_root(dest_root_fd), m_request(request),
        m_tree(source.root_fd, source.origin == SourceOrigin::context ? &source.ignore : nullptr),
        m_keyword(request.kind == CopyKind::add ? "ADD" : "COPY") {}

  util::Result<CopyStats> run() {
    MASON_TRY(validate());
    std::vector<LocalPlan> plans;
    for (const auto& src : m_request.sources) {
      if (classify_source(src) != SourceKind::local) continue;
      MASON_TRY_ASSIGN(auto plan, plan_local(src));
      plans.push_back(std::move(plan));
    }
    std::size_t next_plan = 0;
    for (const auto& src : m_request.sources) {
      auto st =
          classify_source(src) == SourceKind::local ? run_local(plans[next_plan++]) : copy_url(src);
      if (!st) return std::unexpected(std::move(st.error()));
    }
    for (const auto& content : m_request.contents) MASON_TRY(copy_content(content));
    return m_stats;
  }

private:
  // 1. Everything that can be refused before touching a file.
  util::Status validate() {
    MASON_TRY_ASSIGN(auto mode, ModeSpec::parse(m_request.chmod));
    m_policy.mode = std::move(mode);
    if (auto st = validate_checksum(); !st) return st;
    if (auto st = validate_kinds(); !st) return st;
    if (!m_request.excludes.empty()) {
      auto m = frontend::IgnoreMatcher::create(m_request.excludes);
      if (!m) return std::unexpected(std::move(m.error()).with_context("--exclude"));
      m_exclude.emplace(std::move(*m));
      m_policy.exclude = &*m_exclude;
    }
    if (!m_request.chown.empty()) {
      MASON_TRY_ASSIGN(auto owner, resolve_chown(m_dest_root, m_request.chown));
      m_policy.chown = owner;
    }
    m_policy.set_owners = m_policy.chown.has_value() || ::geteuid() == 0;
    m_dest = normalize_dest(m_request.dest, m_request.workdir);
    return {};
  }

  util::Status validate_checksum() {
    if (m_request.checksum.empty()) return {};
    if (m_request.kind != CopyKind::add) return invalid("checksum can't be specified for COPY");
    if (m_request.sources.size() != 1)
      return invalid("checksum can't be specified for multiple sources");
    const auto kind = classify_source(m_request.sources.front());
    if (kind == SourceKind::local) return invalid("checksum requires HTTP(S) or Git sources");
    if (kind == SourceKind::git) return {};
    MASON_TRY_ASSIGN(auto sum, parse_checksum(m_request.checksum));
    if (sum.algorithm != "sha256")
      return util::make_error(util::ErrorCode::unsupported,
                              "checksum " + sys::quote(m_request.checksum) +
                                  ": only sha256 checksums can be verified");
    m_checksum = sum;
    return {};
  }

  util::Status validate_kinds() const {
    for (const auto& src : m_request.sources) {
      const auto kind = classify_source(src);
      if (kind == SourceKind::git && m_request.kind == CopyKind::copy)
        return invalid("COPY " + sys::quote(src) + ": source can't be a git ref for COPY");
      if (kind == SourceKind::git)
        return util::make_error(util::ErrorCode::unsupported,
                                "ADD " + sys::quote(src) + ": git sources are not supported");
      if (kind == SourceKind::http && m_request.kind == CopyKind::copy)
        return invalid("COPY " + sys::quote(src) + ": source can't be a URL for COPY");
    }
    return {};
  }

  std::unexpected<util::Error> not_found(const std::string& src) const {
    const char* where =
        m_source.origin == SourceOrigin::context ? ": not found in build context" : ": not found";
    return util::make_error(util::ErrorCode::not_found,
                            std::string(m_keyword) + " source " + sys::quote(src) + where, ENOENT);
  }

  // 2. A local source word into resolved jobs.
  util::Result<LocalPlan> plan_local(const std::string& src) const {
    LocalPlan plan;
    plan.source = src;
    std::string word = src;
    std::string required;
    if (m_request.parents) {
      MASON_TRY_ASSIGN(auto base, split_parents(src, plan, required));
      word = base;
    }
    const std::string path = normalize_source(word);
    std::vector<std::string> matches{path.substr(1)};
    if (contains_wildcards(path)) {
      auto m = m_tree.expand(path);
      if (!m && m.error().code() == util::ErrorCode::not_found) return not_found(src);
      if (!m) return std::unexpected(std::move(m.error()));
      matches = std::move(*m);
    }
    for (auto& match : matches) {
      MASON_TRY_ASSIGN(auto job, resolve_job(std::move(match)));
      if (!job) return not_found(src);
      plan.jobs.push_back(std::move(*job));
    }
    if (!required.empty()) {
      MASON_TRY_ASSIGN(auto ok, m_tree.exists_no_follow(required));
      if (!ok) return not_found("/" + required);
    }
    return plan;
  }

  util::Result<std::optional<Job>> resolve_job(std::string match) const {
    auto resolved = m_tree.resolve(match);
    if (!resolved && resolved.error().code() == util::ErrorCode::not_found)
      return std::optional<Job>(); // a file in the middle of the path
    if (!resolved) return std::unexpected(std::move(resolved.error()));
    MASON_TRY_ASSIGN(auto st, m_tree.stat(*resolved));
    if (!st) return std::optional<Job>();
    return std::optional<Job>(Job{std::move(match), std::move(*resolved), *st});
  }

  // 3. One planned local source.
  util::Status run_local(const LocalPlan& plan) {
    CopyPolicy policy = m_policy;
    policy.source_owner_is_root = m_source.origin == SourceOrigin::context;
    policy.include = plan.include ? &*plan.include : nullptr;
    policy.include_patterns = plan.include_patterns;
    const bool unpack = m_request.kind == CopyKind::add && m_request.unpack.value_or(true);
    for (const auto& job : plan.jobs) {
      if (unpack && S_ISREG(job.st.st_mode)) {
        auto done = try_unpack(m_tree, job.resolved);
        if (!done) return with_source(std::move(done.error()), plan.source);
        if (*done) continue;
      }
      TreeCopier copier(m_tree, m_dest_root, policy, m_stats);
      if (auto st = copier.copy(job.resolved, base_name(job.match), m_dest); !st)
        return with_source(std::move(st.error()), plan.source);
    }
    return {};
  }

  std::unexpected<util::Error> with_source(util::Error e, const std::string& src) const {
    return std::unexpected(std::move(e).with_context(
        std::string(m_keyword) + " " + sys::quote(src) + " to " + sys::quote(m_request.dest)));
  }

  // ADD's extraction of `path` when it is a tar archive; false otherwise.
  util::Result<bool> try_unpack(const SourceTree& tree, const std::string& path) {
    MASON_TRY_ASSIGN(auto fd, sys::open_in_root(tree.root_fd(), path, O_RDONLY | O_NOFOLLOW));
    auto is_tar = is_tar_archive(fd.get());
    if (!is_tar || !*is_tar) return is_tar;
    MASON_TRY_ASSIGN(auto again, sys::open_in_root(tree.root_fd(), path, O_RDONLY | O_NOFOLLOW));
    MASON_TRY_ASSIGN(auto dest, resolve_in_root(m_dest_root, m_dest));
    MASON_TRY_ASSIGN(auto dir, mkdir_all(m_dest_root, dest, 0755, m_policy.chown));
    MASON_TRY_ASSIGN(auto stats,
                     extract_archive(again.get(), dir.get(), ExtractOptions{m_policy.chown}));
    m_stats.files += stats.files;
    m_stats.directories += stats.directories;
    m_stats.bytes += stats.bytes;
    return true;
  }

  util::Result<sys::TempDir> scratch() const {
    if (m_request.scratch_dir.empty())
      return util::make_error(util::ErrorCode::internal, "ADD: no scratch directory given");
    return sys::TempDir::create_in(m_request.scratch_dir, "mason-add-");
  }

  // A file in a scratch directory copied like a stage's file (owner kept).
  util::Status copy_scratch_file(const sys::TempDir& dir, const std::string& name, bool unpack,
                                 const std::string& what) {
    const SourceTree tree(dir.fd(), nullptr);
    if (unpack) {
      auto done = try_unpack(tree, name);
      if (!done) return with_source(std::move(done.error()), what);
      if (*done) return {};
    }
    CopyPolicy policy = m_policy;
    TreeCopier copier(tree, m_dest_root, policy, m_stats);
    if (auto st = copier.copy(name, name, m_dest); !st)
      return with_source(std::move(st.error()), what);
    return {};
  }

  util::Status copy_url(const std::string& url) {
    const std::string name = url_file_name(url);
    MASON_TRY_ASSIGN(auto dir, scratch());
    if (auto st = download(url, dir, name); !st) return st;
    return copy_scratch_file(dir, name, m_request.unpack.value_or(false), url);
  }

  // BuildKit's http source: 0600, sha256 checked, mtime Last-Modified or 0.
  util::Status download(const std::string& url, const sys::TempDir& dir, const std::string& name) {
    sys::UniqueFd fd(::openat(dir.fd(), name.c_str(),
                              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return sys::errno_error("create " + sys::quote(dir.path() + "/" + name), errno);
    HttpFetcher& fetcher =
        m_request.fetcher != nullptr ? *m_request.fetcher : default_http_fetcher();
    auto got = fetcher.fetch(url, fd.get());
    if (!got) return std::unexpected(std::move(got.error()).with_context("ADD " + sys::quote(url)));
    if (m_checksum && got->sha256_hex != m_checksum->hex)
      return util::make_error(util::ErrorCode::corruption,
                              "ADD " + sys::quote(url) + ": digest mismatch for " + url +
                                  ": sha256:" + got->sha256_hex +
                                  " (expected: " + m_checksum->text() + ")");
    const timespec mtime{got->last_modified.value_or(0), 0};
    const timespec times[2] = {mtime, mtime};
    if (::fchmod(fd.get(), 0600) != 0 || ::futimens(fd.get(), times) != 0)
      return sys::errno_error("set metadata of " + sys::quote(name), errno);
    return fd.close();
  }

  // 4. A heredoc: a 0644 file named after it.
  util::Status copy_content(const frontend::dockerfile::SourceContent& content) {
    auto name = sys::clean_path(content.path);
    if (!name || name->empty() || name->find('/') != std::string::npos)
      return invalid(std::string(m_keyword) + " heredoc " + sys::quote(content.path) +
                     ": not a file name");
    MASON_TRY_ASSIGN(auto dir, scratch());
    sys::UniqueFd fd(::openat(dir.fd(), name->c_str(),
                              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) return sys::errno_error("create heredoc " + sys::quote(*name), errno);
    for (std::size_t off = 0; off < content.data.size();) {
      const ssize_t n = ::write(fd.get(), content.data.data() + off, content.data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys::errno_error("write heredoc " + sys::quote(*name), errno);
      off += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), 0644) != 0) return sys::errno_error("chmod heredoc", errno);
    if (auto st = fd.close(); !st) return st;
    return copy_scratch_file(dir, *name, false, "<<" + content.path);
  }

  const SourceRoot& m_source;
  int m_dest_root;
  const CopyRequest& m_request;
  SourceTree m_tree;
  const char* m_keyword;
  CopyPolicy m_policy;
  std::optional<frontend::IgnoreMatcher> m_exclude;
  std::optional<Checksum> m_checksum;
  std::string m_dest;
  CopyStats m_stats;
};

} // namespace

util::Result<CopyStats> copy_files(const SourceRoot& source, int dest_root_fd,
                                   const CopyRequest& request) {
  return CopyRun(source, dest_root_fd, request).run();
}

} // namespace mason::ops
