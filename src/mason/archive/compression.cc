// LayerWriter and LayerReader: one pass, three jobs.
//
// LayerWriter: bytes in → sha256 (diff_id) → Encoder → DigestingSink
// (sha256 + byte count = digest, size) → the caller's Sink.
// LayerReader: peek the first bytes to pick the Decoder; then raw bytes →
// sha256 + count → Decoder → sha256 + count of the output. When the raw
// stream ends with the decoder at a member/frame boundary, compare the
// digests with the expected ones before reporting the end.
#include "mason/archive/compression.h"

#include <array>
#include <vector>

#include "mason/archive/codec.h"
#include "mason/util/sha256.h"

namespace mason::archive {

std::string_view to_string(Compression c) {
  switch (c) {
  case Compression::none: return "none";
  case Compression::gzip: return "gzip";
  case Compression::zstd: return "zstd";
  }
  return "unknown";
}

std::string_view media_type_of(Compression c) {
  switch (c) {
  case Compression::none: return image::media_type::oci_layer;
  case Compression::gzip: return image::media_type::oci_layer_gzip;
  case Compression::zstd: return image::media_type::oci_layer_zstd;
  }
  return image::media_type::oci_layer;
}

std::optional<Compression> compression_of_media_type(std::string_view mt) {
  namespace m = image::media_type;
  if (mt == m::oci_layer || mt == "application/vnd.oci.image.layer.nondistributable.v1.tar")
    return Compression::none;
  if (mt == m::oci_layer_gzip || mt == m::docker_layer_gzip || mt == m::docker_layer_foreign_gzip ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
    return Compression::gzip;
  if (mt == m::oci_layer_zstd ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")
    return Compression::zstd;
  return std::nullopt;
}

util::Result<Compression> detect_compression(ConstBytes head) {
  const auto starts = [&](std::initializer_list<unsigned> magic) {
    if (head.size() < magic.size()) return false;
    std::size_t i = 0;
    for (const unsigned byte : magic)
      if (std::to_integer<unsigned>(head[i++]) != byte) return false;
    return true;
  };
  if (starts({0x1f, 0x8b})) return Compression::gzip;
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return Compression::zstd;
  if (starts({'B', 'Z', 'h'}))
    return util::make_error(util::ErrorCode::unsupported,
                            "bzip2-compressed layers are not supported");
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00}))
    return util::make_error(util::ErrorCode::unsupported, "xz-compressed layers are not supported");
  return Compression::none;
}

image::Descriptor LayerInfo::descriptor() const {
  image::Descriptor d;
  d.media_type = media_type;
  d.digest = digest;
  d.size = size;
  return d;
}

namespace {

class DigestingSink final : public Sink {
public:
  explicit DigestingSink(Sink& out) : m_out(out) {}
  util::Status write(ConstBytes data) override {
    m_hash.update(data.data(), data.size());
    m_size += static_cast<std::int64_t>(data.size());
    return m_out.write(data);
  }
  image::Digest finish() { return image::Digest::sha256_hex(m_hash.finish_hex()); }
  std::int64_t size() const { return m_size; }

private:
  Sink& m_out;
  util::Sha256 m_hash;
  std::int64_t m_size = 0;
};

std::unexpected<util::Error> mismatch(const char* what, const image::Digest& want,
                                      const image::Digest& got) {
  return util::make_error(util::ErrorCode::corruption, std::string(what) + " mismatch: expected " +
                                                           want.str() + ", got " + got.str());
}

} // namespace

struct LayerWriter::Impl {
  explicit Impl(Sink& out) : compressed(out) {}
  DigestingSink compressed;
  util::Sha256 diff;
  std::int64_t uncompressed = 0;
  std::unique_ptr<detail::Encoder> encoder;
  CompressOptions options;
  bool finished = false;
};

LayerWriter::LayerWriter(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
LayerWriter::LayerWriter(LayerWriter&&) noexcept = default;
LayerWriter& LayerWriter::operator=(LayerWriter&&) noexcept = default;
LayerWriter::~LayerWriter() = default;

util::Result<LayerWriter> LayerWriter::open(Sink& out, const CompressOptions& options) {
  auto impl = std::make_unique<Impl>(out);
  impl->options = options;
  MASON_TRY_ASSIGN(auto enc, detail::make_encoder(options, impl->compressed));
  impl->encoder = std::move(enc);
  return LayerWriter(std::move(impl));
}

util::Status LayerWriter::write(ConstBytes data) {
  m_impl->diff.update(data.data(), data.size());
  m_impl->uncompressed += static_cast<std::int64_t>(data.size());
  return m_impl->encoder->write(data);
}

util::Result<LayerInfo> LayerWriter::finish() {
  if (m_impl->finished)
    return util::make_error(util::ErrorCode::internal, "LayerWriter::finish called twice");
  m_impl->finished = true;
  MASON_TRY(m_impl->encoder->finish());
  LayerInfo info;
  info.diff_id = image::Digest::sha256_hex(m_impl->diff.finish_hex());
  info.digest = m_impl->compressed.finish();
  info.size = m_impl->compressed.size();
  info.uncompressed_size = m_impl->uncompressed;
  info.compression = m_impl->options.compression;
  info.media_type = std::string(media_type_of(info.compression));
  return info;
}

struct LayerReader::Impl {
  Source* raw = nullptr;
  ReadOptions options;
  Compression compression = Compression::none;
  std::unique_ptr<detail::Decoder> decoder;
  std::vector<std::byte> buf = std::vector<std::byte>(std::size_t{256} << 10);
  std::size_t pos = 0;
  std::size_t len = 0;
  bool eof = false;
  bool finished = false;
  util::Sha256 raw_hash;
  util::Sha256 out_hash;
  std::int64_t raw_size = 0;
  std::int64_t out_size = 0;
  image::Digest digest;
  image::Digest diff_id;

  util::Status refill() {
    pos = 0;
    MASON_TRY_ASSIGN(auto n, raw->read(buf));
    len = n;
    eof = len == 0;
    raw_hash.update(buf.data(), len);
    raw_size += static_cast<std::int64_t>(len);
    return {};
  }

  util::Status finish() {
    if (!decoder->at_boundary())
      return util::make_error(util::ErrorCode::corruption,
                              "truncated " + std::string(to_string(compression)) +
                                  " stream: ended after " + std::to_string(raw_size) + " bytes");
    digest = image::Digest::sha256_hex(raw_hash.finish_hex());
    diff_id = image::Digest::sha256_hex(out_hash.finish_hex());
    if (!options.expected_digest.empty() && options.expected_digest != digest)
      return mismatch("layer digest", options.expected_digest, digest);
    if (!options.expected_diff_id.empty() && options.expected_diff_id != diff_id)
      return mismatch("layer diff_id", options.expected_diff_id, diff_id);
    finished = true;
    return {};
  }
};

LayerReader::LayerReader(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
LayerReader::LayerReader(LayerReader&&) noexcept = default;
LayerReader& LayerReader::operator=(LayerReader&&) noexcept = default;
LayerReader::~LayerReader() = default;

util::Result<LayerReader> LayerReader::open(Source& raw, const ReadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->raw = &raw;
  impl->options = options;
  // Peek: at least 6 bytes unless the stream is shorter.
  MASON_TRY_ASSIGN(auto n, read_full(raw, std::span(impl->buf).first(6)));
  impl->len = n;
  impl->eof = n < 6;
  impl->raw_hash.update(impl->buf.data(), impl->len);
  impl->raw_size = static_cast<std::int64_t>(impl->len);
  if (options.compression) {
    impl->compression = *options.compression;
  } else {
    MASON_TRY_ASSIGN(auto c, detect_compression(std::span(impl->buf).first(impl->len)));
    impl->compression = c;
  }
  MASON_TRY_ASSIGN(auto dec, detail::make_decoder(impl->compression));
  impl->decoder = std::move(dec);
  return LayerReader(std::move(impl));
}

util::Result<std::size_t> LayerReader::read(MutableBytes data) {
  Impl& s = *m_impl;
  if (s.finished || data.empty()) return 0;
  int idle = 0;
  for (;;) {
    if (s.pos == s.len && !s.eof) MASON_TRY(s.refill());
    ConstBytes in = std::span(s.buf).subspan(s.pos, s.len - s.pos);
    const std::size_t before = in.size();
    MASON_TRY_ASSIGN(auto n, s.decoder->decode(in, data));
    s.pos += before - in.size();
    if (n > 0) {
      s.out_hash.update(data.data(), n);
      s.out_size += static_cast<std::int64_t>(n);
      return n;
    }
    if (s.pos == s.len) {
      if (!s.eof) continue;
      MASON_TRY(s.finish());
      return 0;
    }
    if (before == in.size() && ++idle > 4)
      return util::make_error(
          util::ErrorCode::corruption,
          "decompressor made no progress at offset " +
              std::to_string(s.raw_size - static_cast<std::int64_t>(in.size())));
  }
}

Compression LayerReader::compression() const { return m_impl->compression; }
const image::Digest& LayerReader::digest() const { return m_impl->digest; }
const image::Digest& LayerReader::diff_id() const { return m_impl->diff_id; }
std::int64_t LayerReader::size() const { return m_impl->raw_size; }
std::int64_t LayerReader::uncompressed_size() const { return m_impl->out_size; }

} // namespace mason::archive
