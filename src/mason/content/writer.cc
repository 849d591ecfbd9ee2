// Ingest. A writer appends to <root>/ingest/<random> (created O_EXCL, mode
// 0444, flocked exclusively so gc can tell it is alive) while hashing.
// commit():
//   1. compare size, then digest, with what the caller expected; on a
//      mismatch remove the temp file and report both values;
//   2. fsync the temp file: its bytes are on disk before any name for it is;
//   3. take the store lock shared (gc holds it exclusive) and, in one
//      SQLite transaction, record the blob row and lease it to the Store;
//   4. rename the temp file to blobs/sha256/<hex> (atomic; replaces an
//      existing identical blob) and fsync blobs/sha256.
// A crash before 4 leaves only a temp file (gc removes it once its flock is
// gone) and perhaps rows for an absent blob (gc drops them); a crash after
// 4 leaves a complete blob. No reader can see a partial one.
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "mason/content/store_state.h"

namespace mason::content {

using detail::fail;

Writer::Writer(detail::StoreState* state, UniqueFd fd, std::string temp_name,
               std::string media_type)
    : m_state(state), m_fd(std::move(fd)), m_temp_name(std::move(temp_name)),
      m_media_type(std::move(media_type)) {}

Writer::Writer(Writer&& other) noexcept
    : m_state(other.m_state), m_fd(std::move(other.m_fd)),
      m_temp_name(std::exchange(other.m_temp_name, {})),
      m_media_type(std::move(other.m_media_type)), m_hash(std::move(other.m_hash)),
      m_size(other.m_size), m_broken(other.m_broken) {}

Writer& Writer::operator=(Writer&& other) noexcept {
  if (this != &other) {
    abort();
    m_state = other.m_state;
    m_fd = std::move(other.m_fd);
    m_temp_name = std::exchange(other.m_temp_name, {});
    m_media_type = std::move(other.m_media_type);
    m_hash = std::move(other.m_hash);
    m_size = other.m_size;
    m_broken = other.m_broken;
  }
  return *this;
}

Writer::~Writer() { abort(); }

void Writer::abort() {
  m_fd.reset();
  if (m_temp_name.empty()) return;
  ::unlinkat(m_state->ingest_fd.get(), m_temp_name.c_str(), 0);
  m_temp_name.clear();
}

util::Status Writer::write(const void* data, std::size_t size) {
  if (m_temp_name.empty())
    return util::make_error(util::ErrorCode::invalid_argument, "write blob: writer is finished");
  if (m_broken)
    return util::make_error(util::ErrorCode::internal, "write blob: an earlier write failed");
  // A failed write may have stored part of the chunk: the file no longer
  // matches the hash, so the writer can never commit.
  if (auto ok = fs::write_all(m_fd.get(), data, size, "ingest/" + m_temp_name); !ok) {
    m_broken = true;
    return ok;
  }
  m_hash.update(data, size);
  m_size += static_cast<std::int64_t>(size);
  return {};
}

util::Result<image::Descriptor> Writer::commit(const std::optional<image::Digest>& expected_digest,
                                               std::optional<std::int64_t> expected_size) {
  if (m_temp_name.empty())
    return util::make_error(util::ErrorCode::invalid_argument, "commit blob: writer is finished");
  auto result = finish(expected_digest, expected_size);
  abort(); // no-op after a successful rename
  return result;
}

util::Result<image::Descriptor> Writer::finish(const std::optional<image::Digest>& expected_digest,
                                               std::optional<std::int64_t> expected_size) {
  if (m_broken)
    return util::make_error(util::ErrorCode::internal, "commit blob: an earlier write failed");
  if (expected_digest)
    if (auto ok = detail::check_digest(*expected_digest); !ok) return fail(std::move(ok));
  const auto actual = image::Digest::sha256_hex(m_hash.finish_hex());
  const auto& named = expected_digest ? *expected_digest : actual;
  if (expected_size && *expected_size != m_size)
    return util::make_error(util::ErrorCode::corruption,
                            "commit blob " + named.str() + ": size mismatch: expected " +
                                std::to_string(*expected_size) + " bytes, got " +
                                std::to_string(m_size));
  if (expected_digest && *expected_digest != actual)
    return util::make_error(util::ErrorCode::corruption, "commit blob: digest mismatch: expected " +
                                                             expected_digest->str() + ", got " +
                                                             actual.str());
  const auto context = "commit blob " + actual.str();
  if (auto ok = fs::sync(m_fd.get(), "ingest/" + m_temp_name); !ok)
    return std::unexpected(std::move(ok.error()).with_context(context));

  auto lock = m_state->lock_store(fs::LockMode::shared);
  if (!lock) return std::unexpected(std::move(lock.error()).with_context(context));
  {
    const std::lock_guard guard(m_state->mutex);
    if (auto ok = m_state->protect_blob(actual, m_size, m_media_type); !ok)
      return std::unexpected(std::move(ok.error()).with_context(context));
  }
  const std::string hex(actual.hex());
  if (::renameat(m_state->ingest_fd.get(), m_temp_name.c_str(), m_state->blobs_fd.get(),
                 hex.c_str()) != 0)
    return fs::errno_error(context + ": rename into blobs/sha256", errno);
  m_temp_name.clear();
  if (auto ok = fs::sync(m_state->blobs_fd.get(), "blobs/sha256"); !ok)
    return std::unexpected(std::move(ok.error()).with_context(context));
  image::Descriptor out;
  out.media_type = m_media_type;
  out.digest = actual;
  out.size = m_size;
  return out;
}

util::Result<Writer> Store::new_writer(std::string media_type) {
  // Under the shared store lock so that gc never sees the file between
  // its creation and its flock.
  auto lock = m_state->lock_store(fs::LockMode::shared);
  if (!lock) return fail(std::move(lock));
  const std::string name = fs::random_hex(16);
  auto fd = fs::open_at(m_state->ingest_fd.get(), name, O_RDWR | O_CREAT | O_EXCL, 0444);
  if (!fd) return std::unexpected(std::move(fd.error()).with_context("create ingest file"));
  auto locked = fs::lock(fd->get(), fs::LockMode::exclusive, fs::LockWait::try_only, "ingest file");
  if (!locked || !*locked) {
    ::unlinkat(m_state->ingest_fd.get(), name.c_str(), 0);
    return util::make_error(util::ErrorCode::internal, "lock ingest file " + name);
  }
  return Writer(m_state.get(), std::move(*fd), name, std::move(media_type));
}

util::Result<image::Descriptor> Store::ingest_bytes(std::string_view data,
                                                    const IngestOptions& options) {
  // Bytes already stored (an unchanged rebuild's config and manifest) are
  // leased, not written and synced again.
  const auto digest = image::Digest::sha256_of(data);
  const auto size = static_cast<std::int64_t>(data.size());
  if ((!options.expected_digest || *options.expected_digest == digest) &&
      (!options.expected_size || *options.expected_size == size)) {
    auto lock = m_state->lock_store(fs::LockMode::shared);
    if (!lock) return fail(std::move(lock));
    if (auto stored = detail::stat_blob(*m_state, digest); stored && *stored == size) {
      const std::lock_guard guard(m_state->mutex);
      if (auto ok = m_state->protect_blob(digest, size, options.media_type); !ok)
        return std::unexpected(std::move(ok.error()).with_context("commit blob " + digest.str()));
      image::Descriptor out;
      out.media_type = options.media_type;
      out.digest = digest;
      out.size = size;
      return out;
    }
  }
  auto writer = new_writer(options.media_type);
  if (!writer) return fail(std::move(writer));
  if (auto ok = writer->write(data); !ok) return fail(std::move(ok));
  return writer->commit(options.expected_digest, options.expected_size);
}

util::Result<image::Descriptor> Store::ingest_file(int fd, const IngestOptions& options) {
  auto writer = new_writer(options.media_type);
  if (!writer) return fail(std::move(writer));
  std::vector<char> buffer(std::size_t{1} << 20);
  for (;;) {
    auto n = fs::read_some(fd, buffer.data(), buffer.size(), "ingest source");
    if (!n) return fail(std::move(n));
    if (*n == 0) break;
    if (auto ok = writer->write(buffer.data(), *n); !ok) return fail(std::move(ok));
  }
  return writer->commit(options.expected_digest, options.expected_size);
}

} // namespace mason::content
