// The compressors.
//
// gzip, members framing: input is cut into fixed-size chunks (the cut
// points depend only on gzip_member_size, never on the thread count, so the
// output is the same with 1 or N threads); each chunk becomes one complete
// gzip member made by libdeflate (whole-buffer, about 2-3x zlib's speed).
// With threads > 1, chunks go to a TaskPool; at most 2 x threads chunks
// are in flight and members are written in input order as they complete.
// Each worker borrows a libdeflate compressor from a free list.
//
// gzip, single stream: zlib deflate with a gzip wrapper, streaming.
// zstd: ZSTD_compressStream2 with nbWorkers >= 1 when libzstd has threads
// (then its output does not depend on the number of workers) and the
// frame checksum on.
#include <algorithm>
#include <deque>
#include <libdeflate.h>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>
#include <zlib.h>
#include <zstd.h>

#include "mason/archive/codec.h"
#include "mason/archive/task_pool.h"

namespace mason::archive::detail {

namespace {

constexpr std::size_t k_out_chunk = std::size_t{256} << 10;

std::unexpected<util::Error> internal(std::string message) {
  return util::make_error(util::ErrorCode::internal, std::move(message));
}

class IdentityEncoder final : public Encoder {
public:
  explicit IdentityEncoder(Sink& out) : m_out(out) {}
  util::Status write(ConstBytes data) override { return m_out.write(data); }
  util::Status finish() override { return {}; }

private:
  Sink& m_out;
};

class GzipMembersEncoder final : public Encoder {
public:
  GzipMembersEncoder(Sink& out, int level, std::size_t member_size, unsigned threads)
      : m_out(out), m_level(level), m_member_size(member_size), m_threads(threads) {
    if (m_threads > 1) m_pool = std::make_unique<TaskPool>(m_threads);
    m_chunk.reserve(m_member_size);
  }

  ~GzipMembersEncoder() override {
    m_pool.reset(); // joins the workers before the compressors go
    for (auto* c : m_compressors) libdeflate_free_compressor(c);
  }

  util::Status write(ConstBytes data) override {
    while (!data.empty()) {
      const std::size_t take = std::min(data.size(), m_member_size - m_chunk.size());
      m_chunk.append(as_chars(data.first(take)));
      data = data.subspan(take);
      if (m_chunk.size() == m_member_size)
        if (auto st = submit(); !st) return st;
    }
    return {};
  }

  util::Status finish() override {
    if (!m_chunk.empty() || !m_any)
      if (auto st = submit(); !st) return st;
    while (!m_pending.empty())
      if (auto st = write_front(); !st) return st;
    return {};
  }

private:
  struct Job {
    std::string in;
    std::string out;
    bool failed = false;
  };
  struct Pending {
    std::shared_ptr<Job> job;
    std::future<void> done;
  };

  libdeflate_compressor* acquire() {
    {
      const std::lock_guard lock(m_mutex);
      if (!m_free.empty()) {
        auto* c = m_free.back();
        m_free.pop_back();
        return c;
      }
    }
    auto* c = libdeflate_alloc_compressor(m_level);
    if (c != nullptr) {
      const std::lock_guard lock(m_mutex);
      m_compressors.push_back(c);
    }
    return c;
  }

  void release(libdeflate_compressor* c) {
    const std::lock_guard lock(m_mutex);
    m_free.push_back(c);
  }

  void compress(Job& job) {
    auto* c = acquire();
    if (c == nullptr) {
      job.failed = true;
      return;
    }
    job.out.resize(libdeflate_gzip_compress_bound(c, job.in.size()));
    const std::size_t n =
        libdeflate_gzip_compress(c, job.in.data(), job.in.size(), job.out.data(), job.out.size());
    release(c);
    job.failed = n == 0;
    job.out.resize(n);
    job.in = std::string(); // free the input early
  }

  util::Status emit(const Job& job) {
    if (job.failed) return internal("gzip compression failed");
    return m_out.write(as_bytes(job.out));
  }

  util::Status submit() {
    m_any = true;
    auto job = std::make_shared<Job>();
    job->in = std::exchange(m_chunk, std::string());
    m_chunk.reserve(m_member_size);
    if (!m_pool) {
      compress(*job);
      return emit(*job);
    }
    auto done = m_pool->submit([this, job] { compress(*job); });
    m_pending.push_back({std::move(job), std::move(done)});
    while (m_pending.size() > 2 * static_cast<std::size_t>(m_threads))
      if (auto st = write_front(); !st) return st;
    return {};
  }

  util::Status write_front() {
    Pending p = std::move(m_pending.front());
    m_pending.pop_front();
    p.done.wait();
    return emit(*p.job);
  }

  Sink& m_out;
  int m_level;
  std::size_t m_member_size;
  unsigned m_threads;
  std::string m_chunk;
  bool m_any = false;
  std::deque<Pending> m_pending;
  std::mutex m_mutex;
  std::vector<libdeflate_compressor*> m_compressors; // all, for freeing
  std::vector<libdeflate_compressor*> m_free;
  std::unique_ptr<TaskPool> m_pool; // last: destroyed (joined) first
};

class GzipStreamEncoder final : public Encoder {
public:
  explicit GzipStreamEncoder(Sink& out) : m_out(out), m_buf(k_out_chunk) {}
  ~GzipStreamEncoder() override {
    if (m_init) deflateEnd(&m_z);
  }
  GzipStreamEncoder(const GzipStreamEncoder&) = delete;
  GzipStreamEncoder& operator=(const GzipStreamEncoder&) = delete;

  util::Status init(int level) {
    if (deflateInit2(&m_z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return internal("zlib deflateInit2 failed");
    m_init = true;
    return {};
  }

  util::Status write(ConstBytes data) override { return run(data, Z_NO_FLUSH); }
  util::Status finish() override { return run({}, Z_FINISH); }

private:
  util::Status run(ConstBytes data, int flush) {
    // zlib's next_in is not const-qualified in its API but is only read.
    m_z.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(data.data()));
    m_z.avail_in = static_cast<uInt>(data.size());
    for (;;) {
      m_z.next_out = reinterpret_cast<Bytef*>(m_buf.data());
      m_z.avail_out = static_cast<uInt>(m_buf.size());
      const int rc = deflate(&m_z, flush);
      if (rc == Z_STREAM_ERROR) return internal("zlib deflate failed");
      const std::size_t produced = m_buf.size() - m_z.avail_out;
      if (produced > 0)
        if (auto st = m_out.write(std::span(m_buf).first(produced)); !st) return st;
      if (flush == Z_FINISH ? rc == Z_STREAM_END : m_z.avail_in == 0 && m_z.avail_out != 0)
        return {};
    }
  }

  Sink& m_out;
  std::vector<std::byte> m_buf;
  z_stream m_z{};
  bool m_init = false;
};

class ZstdEncoder final : public Encoder {
public:
  explicit ZstdEncoder(Sink& out) : m_out(out), m_buf(ZSTD_CStreamOutSize()) {}
  ~ZstdEncoder() override { ZSTD_freeCCtx(m_ctx); }
  ZstdEncoder(const ZstdEncoder&) = delete;
  ZstdEncoder& operator=(const ZstdEncoder&) = delete;

  util::Status init(int level, unsigned threads) {
    m_ctx = ZSTD_createCCtx();
    if (m_ctx == nullptr) return internal("ZSTD_createCCtx failed");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_checksumFlag, 1)))
      return util::make_error(util::ErrorCode::invalid_argument, "invalid zstd level");
    // Ignored (stays single-threaded) if libzstd was built without threads.
    static_cast<void>(
        ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_nbWorkers, static_cast<int>(std::max(threads, 1u))));
    return {};
  }

  util::Status write(ConstBytes data) override { return run(data, ZSTD_e_continue); }
  util::Status finish() override { return run({}, ZSTD_e_end); }

private:
  util::Status run(ConstBytes data, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{m_buf.data(), m_buf.size(), 0};
      const std::size_t left = ZSTD_compressStream2(m_ctx, &out, &in, mode);
      if (ZSTD_isError(left)) return internal(std::string("zstd: ") + ZSTD_getErrorName(left));
      if (out.pos > 0)
        if (auto st = m_out.write(std::span(m_buf).first(out.pos)); !st) return st;
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return {};
    }
  }

  Sink& m_out;
  std::vector<std::byte> m_buf;
  ZSTD_CCtx* m_ctx = nullptr;
};

} // namespace

unsigned effective_threads(unsigned requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

util::Result<std::unique_ptr<Encoder>> make_encoder(const CompressOptions& o, Sink& out) {
  const unsigned threads = effective_threads(o.threads);
  switch (o.compression) {
  case Compression::none: return std::make_unique<IdentityEncoder>(out);
  case Compression::gzip: {
    const int level = o.level < 0 ? 6 : o.level;
    if (level > 12)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "gzip level must be 0..12, not " + std::to_string(level));
    if (o.gzip_framing == GzipFraming::single_stream) {
      if (level > 9)
        return util::make_error(util::ErrorCode::invalid_argument,
                                "single-stream gzip level must be 0..9");
      auto enc = std::make_unique<GzipStreamEncoder>(out);
      MASON_TRY(enc->init(level));
      return enc;
    }
    if (o.gzip_member_size == 0 || o.gzip_member_size > (std::size_t{1} << 30))
      return util::make_error(util::ErrorCode::invalid_argument,
                              "gzip member size must be 1 byte .. 1 GiB");
    return std::make_unique<GzipMembersEncoder>(out, level, o.gzip_member_size, threads);
  }
  case Compression::zstd: {
    auto enc = std::make_unique<ZstdEncoder>(out);
    MASON_TRY(enc->init(o.level < 0 ? 3 : o.level, threads));
    return enc;
  }
  }
  return internal("unknown compression");
}

} // namespace mason::archive::detail
