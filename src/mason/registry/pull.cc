// Pull: GET the manifest (Accept: both index and both manifest types),
// check its bytes against the digest asked for (and Docker-Content-Digest),
// refuse schema 1; for an index, select the platform's manifest and fetch
// it by digest. Then the config and layers missing from the store are
// downloaded by up to max_concurrent_transfers threads, each streamed into
// a content::Writer that verifies size and digest on commit. A transfer
// cut short resumes with Range from the bytes already written (a 200
// answer instead of 206, or a 416, restarts the blob); retries follow
// send_retrying's rules, Retry-After included. Only when every blob is in are
// the manifest (and index) stored, their references recorded, and the
// name tagged — to the platform manifest, never the index, so that
// exporter::find_local_image gives back the platform pulled even when it is not
// the host's. A pull is two halves that may be called apart: fetch_image
// (the manifests, kept in memory, and the config) and complete (the
// layers, then the manifests stored and the tag), so that a build resolves
// a base without downloading layers no step reads.
//
// Mirrors: a docker.io reference is pulled (or resolved) from each of
// options.docker_io_mirrors in turn, as dockerd's registry-mirrors: any
// failure of a mirror (network, 404, 5xx, auth, a bad blob) moves on to
// the next one and finally to registry-1.docker.io, whose error is the one
// returned. Blobs a failed attempt committed stay (they were verified).
// Every blob of the pulled manifest is recorded in the store as held by
// "<registry host>/<repository>" (the reference's registry, and the
// mirror's when one served it), for cross-repository mounts on push.
#include <algorithm>
#include <charconv>
#include <set>
#include <thread>

#include "mason/image/manifest.h"
#include "mason/image/media_type.h"
#include "mason/registry/client_impl.h"

namespace mason::registry {

namespace {

constexpr std::int64_t k_manifest_limit = std::int64_t{4} << 20;
constexpr std::int64_t k_progress_step = std::int64_t{256} << 10;

std::string accept_header() {
  return std::string(image::media_type::oci_index) + ", " +
         std::string(image::media_type::oci_manifest) + ", " +
         std::string(image::media_type::docker_manifest_list) + ", " +
         std::string(image::media_type::docker_manifest);
}

std::string content_type(const Response& response) {
  auto type = response.header("content-type");
  if (const auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

struct Fetched {
  std::string raw;
  image::Descriptor descriptor;
};

util::Result<std::string> manifest_type(const Response& response) {
  const auto declared = content_type(response);
  if (image::is_schema1(declared)) return std::unexpected(image::schema1_error());
  if (image::is_manifest(declared) || image::is_index(declared)) return declared;
  return image::detect_media_type(response.body); // refuses schema 1 too
}

util::Status check_digest(const image::Digest& expected, const image::Digest& actual,
                          std::string_view what) {
  if (expected.empty() || expected == actual) return {};
  return util::make_error(util::ErrorCode::corruption,
                          std::string(what) + " digest mismatch: expected " + expected.str() +
                              ", got " + actual.str());
}

std::string blob_label(const image::Descriptor& d) {
  const auto kind = image::is_config(d.media_type)  ? " (config)"
                    : image::is_layer(d.media_type) ? " (layer)"
                                                    : "";
  return d.digest.short_str() + kind;
}

} // namespace

namespace {

util::Result<Fetched> fetch_manifest(ClientState& impl, const Repo& repo, const std::string& key,
                                     const image::Digest& expected) {
  Request request;
  request.url = repo.url("/manifests/" + key);
  request.headers.emplace_back("Accept", accept_header());
  MASON_TRY_ASSIGN(auto response, impl.send_retrying(repo, request));
  if (response.status != 200) return std::unexpected(http_error(repo.endpoint.host, response));
  if (static_cast<std::int64_t>(response.body.size()) > k_manifest_limit)
    return util::make_error(util::ErrorCode::invalid_argument,
                            repo.endpoint.host + ": manifest " + key + " is larger than 4 MiB");
  MASON_TRY_ASSIGN(auto type, manifest_type(response));
  const auto digest = image::Digest::sha256_of(response.body);
  MASON_TRY(check_digest(expected, digest, "manifest " + key));
  if (auto header = image::Digest::parse(response.header("docker-content-digest"));
      header && header->algorithm() == "sha256")
    if (auto ok = check_digest(*header, digest, "manifest " + key + " (Docker-Content-Digest)");
        !ok)
      return std::unexpected(ok.error());
  auto d = make_descriptor(type, digest, static_cast<std::int64_t>(response.body.size()));
  return Fetched{std::move(response.body), std::move(d)};
}

// One blob download, resumable: `have` bytes are already in `writer`.
class BlobDownload {
public:
  BlobDownload(ClientState& impl, content::Store& store, const Repo& repo,
               const image::Descriptor& blob, const std::atomic<bool>& cancelled)
      : m_impl(impl), m_store(store), m_repo(repo), m_blob(blob), m_cancelled(cancelled) {}

  util::Status run() {
    MASON_TRY_ASSIGN(auto writer, m_store.new_writer(m_blob.media_type));
    m_writer.emplace(std::move(writer));
    for (int attempt = 0;; ++attempt) {
      m_refused.reset();
      auto outcome = attempt_once();
      if (outcome) return commit();
      if (m_cancelled || !retryable(outcome.error(), attempt))
        return std::unexpected(outcome.error());
      m_impl.sleep_before(attempt, m_refused ? &*m_refused : nullptr);
    }
  }

private:
  // Network errors and 429/5xx, while attempts are left and no Retry-After
  // asks for more than k_max_retry_after (as send_retrying decides).
  bool retryable(const util::Error& error, int attempt) const {
    if (error.code() != util::ErrorCode::unavailable) return false;
    if (m_refused) return should_retry(*m_refused, attempt, m_impl.options.max_attempts);
    return attempt + 1 < std::max(1, m_impl.options.max_attempts);
  }

  util::Status attempt_once() {
    Request request;
    request.url = m_repo.url("/blobs/" + m_blob.digest.str());
    request.redirects = Redirects::follow;
    const auto offset = m_have;
    if (offset > 0) request.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
    bool first = true;
    request.sink = [&](long status, std::string_view chunk) -> util::Status {
      if (first && status != 206 && m_have > 0) restart();
      first = false;
      return take(chunk);
    };
    MASON_TRY_ASSIGN(auto response, m_impl.send(m_repo, request));
    if (response.status == 200 || response.status == 206) return {};
    auto error = http_error(m_repo.endpoint.host, response);
    if (response.status == 416 && offset > 0) {
      // The rest cannot be served from `offset`: start the blob over, as a
      // retry (416 itself is not retryable).
      restart();
      return util::make_error(util::ErrorCode::unavailable,
                              error.message() + " (resuming at byte " + std::to_string(offset) +
                                  "); starting the blob again");
    }
    m_refused = std::move(response); // for Retry-After
    return std::unexpected(std::move(error));
  }

  void restart() {
    auto writer = m_store.new_writer(m_blob.media_type);
    if (writer) m_writer.emplace(std::move(*writer));
    m_have = 0;
  }

  util::Status take(std::string_view chunk) {
    if (m_cancelled) return util::make_error(util::ErrorCode::cancelled, "another transfer failed");
    if (auto ok = m_writer->write(chunk); !ok) return ok;
    m_have += static_cast<std::int64_t>(chunk.size());
    if (m_have - m_reported >= k_progress_step) {
      m_reported = m_have;
      m_impl.report({blob_label(m_blob), m_have, m_blob.size, false, false});
    }
    return {};
  }

  util::Status commit() {
    auto done = m_writer->commit(m_blob.digest, m_blob.size);
    if (!done) return std::unexpected(done.error().with_context("blob " + m_blob.digest.str()));
    m_impl.report({blob_label(m_blob), m_have, m_blob.size, true, false});
    return {};
  }

  ClientState& m_impl;
  content::Store& m_store;
  const Repo& m_repo;
  const image::Descriptor& m_blob;
  const std::atomic<bool>& m_cancelled;
  std::optional<content::Writer> m_writer;
  std::optional<Response> m_refused; // the last attempt's non-2xx answer
  std::int64_t m_have = 0;
  std::int64_t m_reported = 0;
};

std::vector<image::Descriptor> missing_blobs(ClientState& impl, const content::Store& store,
                                             const std::vector<image::Descriptor>& all) {
  std::set<image::Digest> seen;
  std::vector<image::Descriptor> out;
  for (const auto& d : all) {
    if (!seen.insert(d.digest).second) continue;
    if (store.has_blob(d.digest))
      impl.report({blob_label(d), d.size, d.size, true, true});
    else
      out.push_back(d);
  }
  return out;
}

std::vector<image::Descriptor> blobs_of(const image::Manifest& manifest) {
  std::vector<image::Descriptor> all{manifest.config};
  all.insert(all.end(), manifest.layers.begin(), manifest.layers.end());
  return all;
}

// Downloads `blobs` with up to max_concurrent_transfers threads; the first
// error stops the others and is returned.
util::Status download_all(ClientState& impl, content::Store& store, const Repo& repo,
                          const std::vector<image::Descriptor>& blobs) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::optional<util::Error> first_error;
  auto worker = [&] {
    for (auto i = next++; i < blobs.size() && !failed; i = next++) {
      auto done = BlobDownload(impl, store, repo, blobs[i], failed).run();
      if (done) continue;
      std::lock_guard lock(mutex);
      if (!first_error || first_error->code() == util::ErrorCode::cancelled)
        first_error = done.error();
      failed = true;
    }
  };
  const auto count = std::min<std::size_t>(
      blobs.size(), static_cast<std::size_t>(std::max(1, impl.options.max_concurrent_transfers)));
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 1; t < count; ++t) threads.emplace_back(worker);
    worker();
  }
  if (first_error) return std::unexpected(*first_error);
  return {};
}

util::Result<image::Descriptor> store_manifest(content::Store& store, const Fetched& fetched,
                                               const std::vector<image::Descriptor>& children) {
  content::IngestOptions opts{fetched.descriptor.media_type, fetched.descriptor.digest,
                              fetched.descriptor.size};
  MASON_TRY_ASSIGN(auto stored, store.ingest_bytes(fetched.raw, opts));
  MASON_TRY(store.record_references(stored.digest, children));
  return fetched.descriptor;
}

std::string manifest_key(const image::Reference& ref) {
  return ref.has_digest() ? ref.digest().str() : ref.tag().empty() ? "latest" : ref.tag();
}

} // namespace

namespace {

util::Result<image::Descriptor> resolve_at(ClientState& impl, const Repo& repo,
                                           const image::Reference& ref) {
  Request head;
  head.method = Method::head;
  head.url = repo.url("/manifests/" + manifest_key(ref));
  head.headers.emplace_back("Accept", accept_header());
  auto response = impl.send_retrying(repo, head);
  if (response && response->status == 200) {
    auto digest = image::Digest::parse(response->header("docker-content-digest"));
    const auto type = content_type(*response);
    const auto length = response->header("content-length");
    std::int64_t size = -1;
    std::from_chars(length.data(), length.data() + length.size(), size);
    if (digest && (image::is_manifest(type) || image::is_index(type)) && size >= 0)
      if (auto ok = check_digest(ref.digest(), *digest, "manifest"); ok)
        return make_descriptor(type, *digest, size);
  }
  MASON_TRY_ASSIGN(auto fetched, fetch_manifest(impl, repo, manifest_key(ref), ref.digest()));
  return fetched.descriptor;
}

std::string source_of(const Repo& own) { return own.endpoint.host + "/" + own.path; }

// Downloads those of `blobs` missing from the store from `repo`, and
// records `source` ("host/repository") as a place each can be mounted
// from -- and `repo` too when it is a mirror's: a push to the mirror's
// registry mounts them from there (as BuildKit's distribution sources).
util::Status fetch_into(ClientState& impl, content::Store& store, const Repo& repo,
                        const std::vector<image::Descriptor>& blobs, const std::string& source) {
  MASON_TRY(download_all(impl, store, repo, missing_blobs(impl, store, blobs)));
  const auto served = source_of(repo);
  for (const auto& b : blobs) {
    MASON_TRY(store.record_blob_source(b.digest, source));
    if (served != source) MASON_TRY(store.record_blob_source(b.digest, served));
  }
  return {};
}

// The manifest of `ref` for `platform` from one repository (a mirror's or
// the reference's own), and its config into the store.
util::Result<RemoteImage> fetch_from(ClientState& impl, content::Store& store, const Repo& repo,
                                     const image::Reference& ref, const image::Platform& platform) {
  MASON_TRY_ASSIGN(auto top, fetch_manifest(impl, repo, manifest_key(ref), ref.digest()));
  RemoteImage out;
  out.ref = ref.str();
  auto fetched = std::move(top);
  if (image::is_index(fetched.descriptor.media_type)) {
    MASON_TRY_ASSIGN(auto parsed, image::parse_index(fetched.raw));
    MASON_TRY_ASSIGN(auto chosen, image::select_manifest(parsed, platform));
    MASON_TRY_ASSIGN(auto child, fetch_manifest(impl, repo, chosen.digest.str(), chosen.digest));
    out.index = fetched.descriptor;
    out.index_raw = std::move(fetched.raw);
    out.index_manifests = std::move(parsed.manifests);
    fetched = std::move(child);
  }
  if (!image::is_manifest(fetched.descriptor.media_type))
    return util::make_error(util::ErrorCode::unsupported, "the index selects " +
                                                              fetched.descriptor.media_type +
                                                              ", which is not an image manifest");
  MASON_TRY_ASSIGN(out.manifest, image::parse_manifest(fetched.raw));
  out.descriptor = std::move(fetched.descriptor);
  out.manifest_raw = std::move(fetched.raw);
  MASON_TRY(download_all(impl, store, repo, missing_blobs(impl, store, {out.manifest.config})));
  return out;
}

// The rest of a pull from one repository: the layers, then the manifest
// (and index) and the tag. `source` is what the store records the blobs
// as coming from: the reference's registry even when a mirror served them.
util::Result<image::Descriptor> complete_from(ClientState& impl, content::Store& store,
                                              const Repo& repo, const RemoteImage& image,
                                              const std::string& source) {
  const auto& manifest = image.manifest;
  MASON_TRY(fetch_into(impl, store, repo, blobs_of(manifest), source));
  auto stored =
      store_manifest(store, Fetched{image.manifest_raw, image.descriptor}, blobs_of(manifest));
  if (!stored) return std::unexpected(stored.error());
  if (image.index)
    MASON_TRY(store_manifest(store, Fetched{image.index_raw, *image.index}, image.index_manifests));
  MASON_TRY_ASSIGN(auto ref, image::Reference::parse(image.ref));
  if (!ref.has_digest()) MASON_TRY(store.tag(ref.str(), *stored));
  // The repository of what the reference named (the index of a multi-platform
  // image, as docker shows it), for `mason inspect`'s RepoDigests.
  MASON_TRY(store.record_blob_source(image.index ? image.index->digest : stored->digest, source));
  return stored;
}

// `attempt` on each of `repos` in turn (the mirrors, then the reference's
// own registry) until one succeeds; the last one's error otherwise.
template <typename F>
auto each_repo(const std::vector<Repo>& repos, F&& attempt) -> decltype(attempt(repos.back())) {
  for (std::size_t i = 0; i + 1 < repos.size(); ++i)
    if (auto done = attempt(repos[i])) return done;
  return attempt(repos.back());
}

} // namespace

util::Result<image::Descriptor> ClientState::resolve(const image::Reference& ref) {
  MASON_TRY_ASSIGN(auto repos, pull_repos(ref));
  return each_repo(repos, [&](const Repo& repo) { return resolve_at(*this, repo, ref); });
}

util::Result<image::Descriptor> ClientState::pull(content::Store& store,
                                                  const image::Reference& ref,
                                                  const image::Platform& platform) {
  MASON_TRY_ASSIGN(auto repos, pull_repos(ref));
  const auto source = source_of(repos.back());
  return each_repo(repos, [&](const Repo& repo) -> util::Result<image::Descriptor> {
    MASON_TRY_ASSIGN(auto image, fetch_from(*this, store, repo, ref, platform));
    return complete_from(*this, store, repo, image, source);
  });
}

util::Result<RemoteImage> ClientState::fetch_image(content::Store& store,
                                                   const image::Reference& ref,
                                                   const image::Platform& platform) {
  MASON_TRY_ASSIGN(auto repos, pull_repos(ref));
  return each_repo(repos,
                   [&](const Repo& repo) { return fetch_from(*this, store, repo, ref, platform); });
}

util::Result<image::Descriptor> ClientState::complete(content::Store& store,
                                                      const RemoteImage& image) {
  MASON_TRY_ASSIGN(auto ref, image::Reference::parse(image.ref));
  MASON_TRY_ASSIGN(auto repos, pull_repos(ref));
  const auto source = source_of(repos.back());
  return each_repo(
      repos, [&](const Repo& repo) { return complete_from(*this, store, repo, image, source); });
}

util::Status ClientState::fetch_blobs(content::Store& store, const image::Reference& ref,
                                      const std::vector<image::Descriptor>& blobs) {
  MASON_TRY_ASSIGN(auto repos, pull_repos(ref));
  const auto source = source_of(repos.back());
  return each_repo(repos,
                   [&](const Repo& repo) { return fetch_into(*this, store, repo, blobs, source); });
}

} // namespace mason::registry
