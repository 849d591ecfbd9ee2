// Push, children first so the registry never holds a manifest whose blobs
// are missing: for each blob of a manifest (config, then layers; each
// digest once) HEAD tells whether the registry has it (skipped); if not,
// an upload session is opened (POST .../blobs/uploads/) and the blob sent
// from the store's file: in one PUT ?digest= when at most 64 MiB, else in
// 32 MiB PATCH chunks (Content-Range) closed by an empty PUT ?digest=. A
// failed session is retried from the POST with backoff. Then the manifest
// is PUT under the tag (or its digest). An index pushes each child
// manifest present in the store by digest, then itself.
//
// Cross-repository mounts: a blob the repository lacks (HEAD 404) whose
// store records (Store::blob_sources) name another repository on the same
// registry host is first asked for with POST .../blobs/uploads/?mount=
// <digest>&from=<repository> (the token scope also asks to pull the
// source): 201 means mounted (reported as skipped); 202 means the registry
// opened an upload session instead, which the upload then uses. Any other
// answer leaves the ordinary upload to do the work. A blob pushed or found
// present is recorded as held by "<host>/<repository>" (a hint: failing
// to record it does not fail the push).
#include <algorithm>
#include <set>
#include <utility>

#include "mason/image/manifest.h"
#include "mason/image/media_type.h"
#include "mason/registry/client_impl.h"

namespace mason::registry {

namespace {

constexpr std::int64_t k_monolithic_limit = std::int64_t{64} << 20;
constexpr std::int64_t k_chunk_size = std::int64_t{32} << 20;
constexpr std::size_t k_max_mount_tries = 3; // sources tried per blob

std::string label(const image::Descriptor& d) {
  const auto kind = image::is_config(d.media_type)  ? " (config)"
                    : image::is_layer(d.media_type) ? " (layer)"
                                                    : "";
  return d.digest.short_str() + kind;
}

std::string absolute(const Repo& repo, const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://")) return location;
  return repo.endpoint.base + location;
}

std::string with_query(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

util::Error no_location(const Repo& repo) {
  return {util::ErrorCode::unavailable,
          repo.endpoint.host + ": upload answer without a Location header"};
}

class BlobUpload {
public:
  BlobUpload(ClientState& impl, const Repo& repo, const image::Descriptor& blob, int fd)
      : m_impl(impl), m_repo(repo), m_blob(blob), m_fd(fd) {}

  // The response of the closing PUT (or the error that stopped it).
  // `started`: the absolute URL of an upload session the registry already
  // opened (a refused mount), else "" to open one.
  util::Result<Response> run(const std::string& started) {
    auto location = started;
    if (location.empty()) {
      Request post;
      post.method = Method::post;
      post.url = m_repo.url("/blobs/uploads/");
      auto opened = m_impl.send(m_repo, post);
      if (!opened || opened->status != 202) return opened;
      location = opened->header("location");
      if (location.empty()) return std::unexpected(no_location(m_repo));
      location = absolute(m_repo, location);
    }
    std::int64_t sent = 0;
    if (m_blob.size > k_monolithic_limit) {
      auto patched = patch_chunks(location, sent);
      if (!patched || patched->status != 202) return patched;
    }
    return put(location, sent);
  }

private:
  util::Result<Response> patch_chunks(std::string& location, std::int64_t& sent) {
    Response last;
    while (sent < m_blob.size) {
      const auto n = std::min(k_chunk_size, m_blob.size - sent);
      Request patch = body_request(Method::patch, location, sent, n);
      patch.headers.emplace_back("Content-Range",
                                 std::to_string(sent) + "-" + std::to_string(sent + n - 1));
      auto response = m_impl.send(m_repo, patch);
      if (!response || response->status != 202) return response;
      if (auto next = response->header("location"); !next.empty())
        location = absolute(m_repo, next);
      sent += n;
      m_impl.report({label(m_blob), sent, m_blob.size, false, false});
      last = std::move(*response);
    }
    return last;
  }

  util::Result<Response> put(const std::string& location, std::int64_t sent) {
    const auto url = with_query(location, "digest=" + query_escape(m_blob.digest.str()));
    return m_impl.send(m_repo, body_request(Method::put, url, sent, m_blob.size - sent));
  }

  Request body_request(Method method, const std::string& url, std::int64_t offset,
                       std::int64_t size) const {
    Request r;
    r.method = method;
    r.url = url;
    r.headers.emplace_back("Content-Type", "application/octet-stream");
    r.body_fd = m_fd;
    r.body_offset = offset;
    r.body_size = size;
    return r;
  }

  ClientState& m_impl;
  const Repo& m_repo;
  const image::Descriptor& m_blob;
  int m_fd;
};

util::Result<bool> registry_has(ClientState& impl, const Repo& repo, const image::Digest& d) {
  Request head;
  head.method = Method::head;
  head.url = repo.url("/blobs/" + d.str());
  MASON_TRY_ASSIGN(auto response, impl.send_retrying(repo, head));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return std::unexpected(http_error(repo.endpoint.host, response));
}

// What a mount request came to: mounted, an upload session the registry
// opened instead (its absolute URL), or neither.
struct Mount {
  bool mounted = false;
  std::string started;
};

// "host/repository" as Store::blob_sources records it.
std::string source_of(const Repo& repo) { return repo.endpoint.host + "/" + repo.path; }

// The repositories on repo's host other than repo itself that the store
// says hold `blob`, most recent first, at most k_max_mount_tries.
std::vector<std::string> mount_sources(const content::Store& store, const Repo& repo,
                                       const image::Digest& blob) {
  auto sources = store.blob_sources(blob);
  std::vector<std::string> out;
  if (!sources) return out;
  const auto prefix = repo.endpoint.host + "/";
  for (const auto& source : *sources) {
    if (!source.starts_with(prefix) || source == source_of(repo)) continue;
    out.push_back(source.substr(prefix.size()));
    if (out.size() == k_max_mount_tries) break;
  }
  return out;
}

Mount try_mount(ClientState& impl, const content::Store& store, const Repo& repo,
                const image::Descriptor& blob) {
  for (const auto& from : mount_sources(store, repo, blob.digest)) {
    Repo both = repo;
    both.scopes.push_back(pull_scope(from));
    Request post;
    post.method = Method::post;
    post.url = repo.url("/blobs/uploads/?mount=" + query_escape(blob.digest.str()) +
                        "&from=" + query_escape(from));
    auto response = impl.send(both, post);
    if (!response) continue;
    if (response->status == 201) return {true, {}};
    if (auto location = response->header("location"); response->status == 202 && !location.empty())
      return {false, absolute(repo, location)};
  }
  return {};
}

// `started`: an upload session already open for the first attempt, or "".
util::Status upload(ClientState& impl, const content::Store& store, const Repo& repo,
                    const image::Descriptor& blob, std::string started) {
  MASON_TRY_ASSIGN(auto fd, store.open_blob(blob.digest));
  impl.report({label(blob), 0, blob.size, false, false});
  for (int attempt = 0;; ++attempt) {
    auto response = BlobUpload(impl, repo, blob, fd.get()).run(std::exchange(started, {}));
    if (response && (response->status == 201 || response->status == 204)) break;
    if (!should_retry(response, attempt, impl.options.max_attempts)) {
      if (!response) return std::unexpected(response.error());
      return std::unexpected(http_error(repo.endpoint.host, *response));
    }
    impl.sleep_before(attempt, response ? &*response : nullptr);
  }
  impl.report({label(blob), blob.size, blob.size, true, false});
  return {};
}

util::Status push_blob(ClientState& impl, const content::Store& store, const Repo& repo,
                       const image::Descriptor& blob) {
  MASON_TRY_ASSIGN(auto present, registry_has(impl, repo, blob.digest));
  if (present) {
    impl.report({label(blob), blob.size, blob.size, true, true});
    (void)store.record_blob_source(blob.digest, source_of(repo));
    return {};
  }
  auto mount = try_mount(impl, store, repo, blob);
  if (mount.mounted) {
    impl.report({label(blob), blob.size, blob.size, true, true});
  } else if (auto done = upload(impl, store, repo, blob, std::move(mount.started)); !done) {
    return std::unexpected(done.error().with_context("blob " + blob.digest.str()));
  }
  (void)store.record_blob_source(blob.digest, source_of(repo));
  return {};
}

util::Status put_manifest(ClientState& impl, const Repo& repo, const std::string& raw,
                          const std::string& media_type, const std::string& key) {
  Request put;
  put.method = Method::put;
  put.url = repo.url("/manifests/" + key);
  put.headers.emplace_back("Content-Type", media_type);
  put.body = raw;
  MASON_TRY_ASSIGN(auto response, impl.send_retrying(repo, put));
  if (response.status != 201 && response.status != 200 && response.status != 202)
    return std::unexpected(http_error(repo.endpoint.host, response));
  // The registry says which digest it stored: it must be ours (a registry
  // that rewrote the manifest would make the pushed digest a lie).
  const auto ours = image::Digest::sha256_of(raw);
  if (auto theirs = image::Digest::parse(response.header("docker-content-digest"));
      theirs && theirs->algorithm() == "sha256" && *theirs != ours)
    return util::make_error(util::ErrorCode::corruption, repo.endpoint.host + " stored manifest " +
                                                             key + " as " + theirs->str() +
                                                             ", not " + ours.str());
  return {};
}

struct Loaded {
  std::string raw;
  std::string media_type;
};

util::Result<Loaded> load(const content::Store& store, const image::Descriptor& d) {
  MASON_TRY_ASSIGN(auto raw, store.read_blob(d.digest));
  std::string type = d.media_type;
  if (type.empty()) {
    MASON_TRY_ASSIGN(auto detected, image::detect_media_type(raw));
    type = detected;
  }
  return Loaded{std::move(raw), std::move(type)};
}

util::Status push_image_blobs(ClientState& impl, const content::Store& store, const Repo& repo,
                              const std::string& raw) {
  MASON_TRY_ASSIGN(auto manifest, image::parse_manifest(raw));
  std::vector<image::Descriptor> blobs{manifest.config};
  blobs.insert(blobs.end(), manifest.layers.begin(), manifest.layers.end());
  std::set<image::Digest> seen;
  for (const auto& blob : blobs) {
    if (!seen.insert(blob.digest).second) continue;
    if (auto ok = push_blob(impl, store, repo, blob); !ok) return ok;
  }
  return {};
}

// Pushes what `d` needs, then `d` itself under `key`.
util::Result<image::Descriptor> push_tree(ClientState& impl, const content::Store& store,
                                          const Repo& repo, const image::Descriptor& d,
                                          const std::string& key) {
  MASON_TRY_ASSIGN(auto loaded, load(store, d));
  if (image::is_index(loaded.media_type)) {
    MASON_TRY_ASSIGN(auto index, image::parse_index(loaded.raw));
    for (const auto& child : index.manifests)
      if (store.has_blob(child.digest))
        if (auto ok = push_tree(impl, store, repo, child, child.digest.str()); !ok) return ok;
  } else if (image::is_manifest(loaded.media_type)) {
    MASON_TRY(push_image_blobs(impl, store, repo, loaded.raw));
  } else {
    return util::make_error(util::ErrorCode::invalid_argument, "cannot push " + d.digest.str() +
                                                                   " of type " + loaded.media_type +
                                                                   ": not a manifest or an index");
  }
  // By digest first (it makes the manifest addressable before the tag
  // moves to it), then by tag.
  const auto digest = image::Digest::sha256_of(loaded.raw);
  MASON_TRY(put_manifest(impl, repo, loaded.raw, loaded.media_type, digest.str()));
  if (key != digest.str()) MASON_TRY(put_manifest(impl, repo, loaded.raw, loaded.media_type, key));
  return make_descriptor(loaded.media_type, digest, static_cast<std::int64_t>(loaded.raw.size()));
}

} // namespace

util::Result<image::Descriptor> ClientState::push(const content::Store& store,
                                                  const image::Descriptor& manifest,
                                                  const image::Reference& dest) {
  MASON_TRY_ASSIGN(auto repo, this->repo(dest, {push_scope(dest.path())}));
  const auto key = dest.tag().empty() ? manifest.digest.str() : dest.tag();
  auto pushed = push_tree(*this, store, repo, manifest, key);
  if (pushed) (void)store.record_blob_source(pushed->digest, source_of(repo)); // RepoDigests
  return pushed;
}

} // namespace mason::registry
