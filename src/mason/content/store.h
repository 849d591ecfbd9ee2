// The local content store: content-addressed blobs on disk, image names,
// the references between blobs and build-cache records in SQLite, leases
// that keep fresh blobs alive, and the garbage collector. Layout,
// crash-safety argument, locking and schema: docs/store.md.
//
// Ownership: Store::open returns the only owner of a Store; it holds the
// root's directory fds and one SQLite connection, and, after the first
// commit, a lease (see below) released by the destructor. A Writer holds a
// pointer to its Store's state: the Store must outlive its Writers.
//
// Thread-safety: every Store member function may be called from several
// threads at once. Several processes may open one root at the same time.
// A Writer is used by one thread at a time. Never use a Store on both sides
// of a fork(): open a new one in the child.
//
// Leases: each blob committed through a Store is leased to that Store
// until the Store is destroyed or release_lease() is called: gc() in any
// process keeps leased blobs (and what they reference). A lease dies with
// its process (kill -9 included): it is bound to an flock the kernel drops.
// So: commit blobs, record_references, tag, and only then drop the Store.
//
// Errors: not_found (no such blob, image name or cache record),
// invalid_argument (bad digest syntax, bad name or cache key, descriptor
// that does not match the blob), unsupported (digest algorithm other than
// sha256, database schema newer than this mason), corruption (content does
// not match its digest, damaged database), unavailable (disk full,
// read-only, database busy past the timeout), unauthorized (permissions),
// internal (anything else).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mason/content/unique_fd.h"
#include "mason/image/descriptor.h"
#include "mason/image/digest.h"
#include "mason/util/error.h"
#include "mason/util/sha256.h"

namespace mason::content {

namespace detail {
struct StoreState;
} // namespace detail

using Seconds = std::chrono::sys_seconds;

struct StoreOptions {
  // How long a database operation waits for another process's write lock.
  std::chrono::milliseconds busy_timeout{std::chrono::seconds(60)};
};

struct IngestOptions {
  std::string media_type{}; // recorded in blob metadata and the returned descriptor
  std::optional<image::Digest> expected_digest{};
  std::optional<std::int64_t> expected_size{};
};

struct ImageRecord {
  std::string name;         // as tagged, e.g. docker.io/library/busybox:latest
  image::Descriptor target; // media_type, digest and size of the manifest or index
  Seconds created;          // when this name was pointed at this digest
};

// What the store knows about a blob besides its bytes.
struct BlobInfo {
  image::Digest digest;
  std::int64_t size = 0;
  std::string media_type;                    // empty when unknown
  std::optional<image::Digest> diff_id;      // uncompressed digest, layers only
  std::optional<std::int64_t> unpacked_size; // uncompressed bytes, layers only
  Seconds created;                           // first recorded
  Seconds last_used;                         // last commit, tag, reference or mark_used
};

struct BlobAnnotation {
  std::optional<std::string> media_type{};
  std::optional<image::Digest> diff_id{};
  std::optional<std::int64_t> unpacked_size{};
};

// A build-cache record: the committed snapshot a build step produced,
// under the step's cache key. `lineage` names the step across builds (so
// that a miss can be explained against the previous record of the same
// step); `info` is the caller's JSON describing the step's inputs. Both
// are opaque to the store.
struct CacheRecord {
  std::string key;       // printable ASCII, no spaces, at most 1024 bytes
  std::string snapshot;  // snapshot id (opaque to the store), not empty
  std::string lineage{}; // empty: the record belongs to no lineage
  std::string info{};
  std::int64_t size = 0; // bytes of the snapshot's own changes, 0 if unknown
  Seconds created{};     // set by the store: when put
  Seconds last_used{};   // set by the store: put or found
};

// The layer blob made from a record's snapshot, per variant (the caller's
// name for the layer's compression, e.g. "gzip").
struct CacheLayer {
  image::Descriptor layer; // media_type, digest, size (other fields are not kept)
  image::Digest diff_id;   // digest of the uncompressed tar
  // The uncompressed size, when known: the blob's metadata learns it in
  // the same transaction (BlobInfo::unpacked_size).
  std::optional<std::int64_t> unpacked_size{};
};

struct Usage {
  std::int64_t count = 0;
  std::int64_t bytes = 0; // apparent sizes (st_size)
};

// A partition of the store's blob bytes, plus ingest and metadata files.
struct DiskUsage {
  Usage manifests;    // reachable from an image name: manifests and indexes
  Usage configs;      // reachable: image configurations
  Usage layers;       // reachable: layers
  Usage other;        // reachable, other or unknown media type
  Usage cache;        // not reachable from an image name, but from a
                      // build-cache layer (kept by gc until the record goes)
  Usage unreferenced; // reachable from neither (what prune frees once no
                      // running build holds a lease on it)
  Usage ingest;       // temp files of writers, live or abandoned
  Usage metadata;     // metadata.db and its WAL files
  std::int64_t total_bytes() const;
};

struct GcOptions {
  // Abandoned ingest temp files younger than this are kept. A temp file
  // whose writer is alive is always kept (it holds an flock on it).
  std::chrono::seconds ingest_min_age{std::chrono::minutes(15)};
  bool dry_run = false; // report what would be freed, delete nothing
};

struct GcReport {
  std::vector<image::Digest> removed_blobs; // sorted
  std::int64_t blob_bytes = 0;
  std::int64_t ingest_files = 0;
  std::int64_t ingest_bytes = 0;
  std::int64_t stale_leases = 0; // leases of dead processes dropped
  std::int64_t total_bytes() const { return blob_bytes + ingest_bytes; }
};

// Streams one blob into the store: bytes go to a temp file in
// <root>/ingest/ while being hashed; commit() verifies, fsyncs and renames
// it into place. Destroying an uncommitted Writer removes its temp file.
// After a failed write() the Writer is broken: commit() fails.
class Writer {
public:
  Writer(Writer&& other) noexcept;
  Writer& operator=(Writer&& other) noexcept;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  util::Status write(const void* data, std::size_t size);
  util::Status write(std::string_view chunk) { return write(chunk.data(), chunk.size()); }
  std::int64_t size() const { return m_size; }

  // Verifies size then digest when given (corruption naming expected and
  // actual values; the temp file is removed), makes the blob durable and
  // visible, and leases it to the Store. The Writer is finished either way.
  // If the blob already exists it is replaced by this identical copy.
  util::Result<image::Descriptor> commit(const std::optional<image::Digest>& expected_digest = {},
                                         std::optional<std::int64_t> expected_size = {});
  // Removes the temp file; idempotent.
  void abort();

private:
  friend class Store;
  Writer(detail::StoreState* state, UniqueFd fd, std::string temp_name, std::string media_type);
  util::Result<image::Descriptor> finish(const std::optional<image::Digest>& expected_digest,
                                         std::optional<std::int64_t> expected_size);

  detail::StoreState* m_state = nullptr;
  UniqueFd m_fd;
  std::string m_temp_name; // under <root>/ingest/; empty once finished
  std::string m_media_type;
  util::Sha256 m_hash;
  std::int64_t m_size = 0;
  bool m_broken = false;
};

class Store {
public:
  // Default limit of read_blob: configs and manifests are far smaller.
  static constexpr std::int64_t k_read_limit = std::int64_t{64} << 20;

  // Creates the layout if needed (root directory 0700) and opens or
  // migrates metadata.db. A relative root is made absolute.
  static util::Result<std::unique_ptr<Store>> open(const std::filesystem::path& root,
                                                   const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::filesystem::path& root() const;

  // --- blobs ---
  util::Result<Writer> new_writer(std::string media_type = {});
  util::Result<image::Descriptor> ingest_bytes(std::string_view data,
                                               const IngestOptions& options = {});
  // Reads `fd` from its current offset to end of file; does not close it.
  util::Result<image::Descriptor> ingest_file(int fd, const IngestOptions& options = {});

  // A read-only fd positioned at 0; the content is not verified.
  util::Result<UniqueFd> open_blob(const image::Digest& digest) const;
  // The whole blob (invalid_argument if larger than `limit`); not verified.
  util::Result<std::string> read_blob(const image::Digest& digest,
                                      std::int64_t limit = k_read_limit) const;
  // false for absent blobs, invalid digests, and when the blob cannot be
  // examined (the next open_blob reports why).
  bool has_blob(const image::Digest& digest) const;
  util::Result<std::int64_t> blob_size(const image::Digest& digest) const;
  // Rehashes the blob: corruption naming expected and actual digests.
  util::Status verify_blob(const image::Digest& digest) const;
  // Removes the blob and its metadata (the references it records, and the
  // build-cache layers that name it) whether or not anything still refers
  // to it: for repair, not for GC.
  util::Status delete_blob(const image::Digest& digest);

  // --- blob metadata ---
  // The blob must be present. Unset fields are left as they are.
  util::Status annotate_blob(const image::Digest& digest, const BlobAnnotation& annotation);
  // not_found when nothing was ever recorded for the digest.
  util::Result<BlobInfo> blob_info(const image::Digest& digest) const;
  // Sets last_used to now for the recorded ones among `digests`.
  util::Status mark_used(std::span<const image::Digest> digests);

  // Records that the blob (present in the store) is held by the registry
  // repository `registry_repo`, "host/repository" (e.g.
  // "registry-1.docker.io/library/busybox"): where it was pulled from or
  // pushed to. A hint for cross-repository mounts, not content: const so
  // that a push, which only reads the store, can record it. Recording it
  // again refreshes it; the rows go with the blob.
  util::Status record_blob_source(const image::Digest& digest,
                                  std::string_view registry_repo) const;
  // The recorded sources of the blob, most recently recorded first; empty
  // when none.
  util::Result<std::vector<std::string>> blob_sources(const image::Digest& digest) const;

  // Records what `parent` (a manifest or an index, present in the store)
  // points at, replacing what was recorded before; order is kept. Children
  // need not be present (an index may name platforms never pulled). The
  // caller parses the manifest; GC walks these edges.
  util::Status record_references(const image::Digest& parent,
                                 std::span<const image::Descriptor> children);
  util::Result<std::vector<image::Descriptor>> references(const image::Digest& parent) const;
  // The blobs that record `child` among their references (the indexes
  // holding a manifest, the manifests holding a layer), sorted.
  util::Result<std::vector<image::Digest>> referrers(const image::Digest& child) const;

  // --- image names ---
  // `name` is a normalised reference chosen by the caller (printable ASCII,
  // no spaces, at most 1024 bytes). The target blob must be present and of
  // the descriptor's size; media_type must be set. Re-tagging moves the
  // name; `created` changes only when the digest does.
  util::Status tag(std::string_view name, const image::Descriptor& target);
  util::Status untag(std::string_view name); // not_found if not tagged
  util::Result<image::Descriptor> resolve(std::string_view name) const;
  util::Result<std::vector<ImageRecord>> list_images() const; // sorted by name

  // --- build cache ---
  // Records are kept in metadata.db; the cache keys and what they hash are
  // the caller's. A record's layers (set_cache_layer) are GC roots: gc keeps
  // their blobs until the record is replaced or deleted.

  // Inserts the record under record.key, or replaces the one there (its
  // layers are dropped: they were made from the old snapshot). created and
  // last_used are set to now; those fields of `record` are ignored.
  // invalid_argument for a bad key, an empty snapshot or a negative size.
  util::Status put_cache_record(const CacheRecord& record);
  // The record under `key`, or nullopt. Finding does not mark it used:
  // mark_cache_records_used does, once per build for all of its hits.
  util::Result<std::optional<CacheRecord>> find_cache_record(std::string_view key) const;
  // Sets last_used to now for the records under `keys` last used more than
  // `slack` ago, in one transaction (none when all are recent, so that an
  // unchanged rebuild writes nothing here). Keys not present are ignored.
  util::Status mark_cache_records_used(std::span<const std::string> keys,
                                       std::chrono::seconds slack);
  // The most recently created record of `lineage`, or nullopt (also for an
  // empty lineage). Does not mark it used.
  util::Result<std::optional<CacheRecord>> latest_cache_record(std::string_view lineage) const;
  // Every record, most recently used first (then most recently created).
  util::Result<std::vector<CacheRecord>> list_cache_records() const;
  // Deletes the records under `keys` and their layers, in one transaction;
  // keys not present are ignored. Their layer blobs become garbage unless
  // something else holds them.
  util::Status delete_cache_records(std::span<const std::string> keys);
  // Records the layer made from `key`'s snapshot under `variant` (printable
  // ASCII, no spaces, at most 1024 bytes), replacing the one recorded for
  // that variant. The blob must be present (not_found) with the
  // descriptor's size (invalid_argument); media_type must be set; the
  // record must exist (not_found). The blob's metadata learns the media
  // type and diff_id when unknown.
  util::Status set_cache_layer(std::string_view key, std::string_view variant,
                               const CacheLayer& layer);
  // The layer recorded for (key, variant), or nullopt, also when its blob
  // is no longer present (removed by delete_blob or by hand) or not of the
  // recorded size: a caller may always use what this returns.
  util::Result<std::optional<CacheLayer>> cache_layer(std::string_view key,
                                                      std::string_view variant) const;

  // --- leases and maintenance ---
  // Drops this Store's lease now; the next commit starts a new one.
  util::Status release_lease();
  // Deletes blobs reachable neither from an image name, nor from a
  // build-cache layer, nor from a live lease; drops leases of dead
  // processes, build-cache layer rows whose blob file is missing, and
  // abandoned ingest temp files. Waits for in-flight commits, tags and
  // set_cache_layer calls, which wait for it.
  util::Result<GcReport> gc(const GcOptions& options = {});
  // A snapshot, taken without locks: concurrent commits may be missed.
  util::Result<DiskUsage> disk_usage() const;
  // Database integrity and foreign keys, and that every image name's
  // target blob and every build-cache layer's blob is present: corruption
  // listing what is wrong.
  util::Status check() const;

private:
  explicit Store(std::unique_ptr<detail::StoreState> state);
  std::unique_ptr<detail::StoreState> m_state;
};

} // namespace mason::content
