// The decompressors.
//
// gzip: zlib inflate in gzip mode, one member after another: at the end of
// a member (Z_STREAM_END) further input must be another member
// (inflateReset; its header is then checked by zlib like the first one's).
// zstd: ZSTD_decompressStream, which walks concatenated frames itself; a
// return value of 0 means a frame ended and was fully flushed.
#include <algorithm>
#include <cstring>
#include <zlib.h>
#include <zstd.h>

#include "mason/archive/codec.h"

namespace mason::archive::detail {

namespace {

std::unexpected<util::Error> corrupt(std::string message) {
  return util::make_error(util::ErrorCode::corruption, std::move(message));
}

class PlainDecoder final : public Decoder {
public:
  util::Result<std::size_t> decode(ConstBytes& in, MutableBytes out) override {
    const std::size_t n = std::min(in.size(), out.size());
    if (n > 0) std::memcpy(out.data(), in.data(), n);
    in = in.subspan(n);
    return n;
  }
  bool at_boundary() const override { return true; }
};

class GzipDecoder final : public Decoder {
public:
  GzipDecoder() = default;
  ~GzipDecoder() override {
    if (m_init) inflateEnd(&m_z);
  }
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  util::Status init() {
    if (inflateInit2(&m_z, 15 + 16) != Z_OK)
      return util::make_error(util::ErrorCode::internal, "zlib inflateInit2 failed");
    m_init = true;
    return {};
  }

  util::Result<std::size_t> decode(ConstBytes& in, MutableBytes out) override {
    if (out.empty() || (m_member_done && in.empty())) return 0;
    // With no input left zlib may still have output pending (bits in its
    // accumulator, the rest of a match), so inflate is called anyway.
    if (m_member_done) {
      if (inflateReset(&m_z) != Z_OK)
        return util::make_error(util::ErrorCode::internal, "zlib inflateReset failed");
      m_member_done = false;
      ++m_members;
    }
    // zlib's next_in is not const-qualified in its API but is only read.
    m_z.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in.data()));
    m_z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 1u << 30));
    m_z.next_out = reinterpret_cast<Bytef*>(out.data());
    m_z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), 1u << 30));
    const uInt avail_in = m_z.avail_in;
    const uInt avail_out = m_z.avail_out;
    const int rc = inflate(&m_z, Z_NO_FLUSH);
    in = in.subspan(avail_in - m_z.avail_in);
    const std::size_t produced = avail_out - m_z.avail_out;
    if (rc == Z_STREAM_END) {
      m_member_done = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const char* why = m_z.msg != nullptr ? m_z.msg : "invalid data";
      return corrupt(std::string("invalid gzip data") +
                     (m_members > 0 ? " after member " + std::to_string(m_members) : "") + ": " +
                     why);
    }
    return produced;
  }

  bool at_boundary() const override { return m_member_done; }

private:
  z_stream m_z{};
  bool m_init = false;
  bool m_member_done = false;
  std::size_t m_members = 0;
};

class ZstdDecoder final : public Decoder {
public:
  ZstdDecoder() : m_ctx(ZSTD_createDCtx()) {}
  ~ZstdDecoder() override { ZSTD_freeDCtx(m_ctx); }
  ZstdDecoder(const ZstdDecoder&) = delete;
  ZstdDecoder& operator=(const ZstdDecoder&) = delete;

  bool ok() const { return m_ctx != nullptr; }

  util::Result<std::size_t> decode(ConstBytes& in, MutableBytes out) override {
    if (out.empty()) return 0;
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    const std::size_t rc = ZSTD_decompressStream(m_ctx, &ob, &ib);
    if (ZSTD_isError(rc))
      return corrupt(std::string("invalid zstd data: ") + ZSTD_getErrorName(rc));
    in = in.subspan(ib.pos);
    if (ib.pos > 0 || ob.pos > 0) m_boundary = rc == 0;
    return ob.pos;
  }

  bool at_boundary() const override { return m_boundary; }

private:
  ZSTD_DCtx* m_ctx;
  bool m_boundary = false;
};

} // namespace

util::Result<std::unique_ptr<Decoder>> make_decoder(Compression compression) {
  switch (compression) {
  case Compression::none: return std::make_unique<PlainDecoder>();
  case Compression::gzip: {
    auto d = std::make_unique<GzipDecoder>();
    MASON_TRY(d->init());
    return d;
  }
  case Compression::zstd: {
    auto d = std::make_unique<ZstdDecoder>();
    if (!d->ok()) return util::make_error(util::ErrorCode::internal, "ZSTD_createDCtx failed");
    return d;
  }
  }
  return util::make_error(util::ErrorCode::internal, "unknown compression");
}

} // namespace mason::archive::detail
