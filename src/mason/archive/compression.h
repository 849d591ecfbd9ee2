// Layer compression: which formats, how to recognise them, how to write
// and read them in one streaming pass with digests.
//
// Writing (LayerWriter) takes the uncompressed tar bytes and, in the same
// pass, hashes them (the diff_id), compresses them, hashes and counts the
// compressed bytes (digest, size) and forwards those to the caller's Sink.
// Reading (LayerReader) does the reverse and verifies expected digests
// when the stream ends.
//
// Output is deterministic: the same bytes, level and options give the
// same compressed bytes whatever the thread count. gzip is written as a
// series of independent gzip members of `gzip_member_size` input bytes
// each (a valid gzip stream: RFC 1952 allows members to follow one
// another, and gzip -d, Go's compress/gzip, zlib, Python read them), so
// members can be compressed in parallel with libdeflate;
// GzipFraming::single_stream writes one member with zlib instead. zstd
// uses libzstd's own worker threads (its output does not depend on their
// number once at least one is used).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mason/archive/stream.h"
#include "mason/image/descriptor.h"
#include "mason/image/digest.h"
#include "mason/util/error.h"

namespace mason::archive {

enum class Compression { none, gzip, zstd };

std::string_view to_string(Compression c);
// oci_layer, oci_layer_gzip, oci_layer_zstd.
std::string_view media_type_of(Compression c);
// The compression a layer media type names (OCI and docker forms);
// nullopt for anything else.
std::optional<Compression> compression_of_media_type(std::string_view media_type);

// Recognises a stream by its first bytes (at least 6 if the stream has
// them): gzip 1f 8b, zstd 28 b5 2f fd, anything else is taken as a plain
// tar. bzip2 and xz are recognised and refused (unsupported).
util::Result<Compression> detect_compression(ConstBytes head);

enum class GzipFraming { members, single_stream };

inline constexpr std::size_t k_default_gzip_member_size = 1 << 20;

struct CompressOptions {
  Compression compression = Compression::gzip;
  int level = -1;       // -1: the format's default (gzip 6, zstd 3)
  unsigned threads = 0; // 0: one per CPU; 1: compress on the calling thread
  GzipFraming gzip_framing = GzipFraming::members;
  std::size_t gzip_member_size = k_default_gzip_member_size;
};

// What a written layer is, for its descriptor and the image config.
struct LayerInfo {
  image::Digest diff_id;              // sha256 of the uncompressed tar
  image::Digest digest;               // sha256 of the bytes written to the sink
  std::int64_t size = 0;              // bytes written to the sink
  std::int64_t uncompressed_size = 0; // tar bytes
  Compression compression = Compression::none;
  std::string media_type;

  image::Descriptor descriptor() const;
};

// A Sink for uncompressed layer bytes that compresses into `out`.
// Ownership: borrows `out`, which must outlive the writer. Not thread-safe
// (it runs its own worker threads internally).
class LayerWriter final : public Sink {
public:
  // Errors: invalid_argument for a bad level or member size.
  static util::Result<LayerWriter> open(Sink& out, const CompressOptions& options);
  LayerWriter(LayerWriter&&) noexcept;
  LayerWriter& operator=(LayerWriter&&) noexcept;
  ~LayerWriter() override;

  util::Status write(ConstBytes data) override;
  // Flushes the compressor and returns the layer's digests; call once.
  util::Result<LayerInfo> finish();

private:
  struct Impl;
  explicit LayerWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

struct ReadOptions {
  std::optional<Compression> compression; // nullopt: detect from the magic bytes
  image::Digest expected_digest;          // of the raw stream; empty: not checked
  image::Digest expected_diff_id;         // of the uncompressed stream; empty: not checked
};

// A Source of uncompressed layer bytes read from a (compressed) `raw`
// Source. When the raw stream ends, the decompressor must be at the end of
// a gzip member / zstd frame (else `corruption`: truncated) and the digests
// must match the expected ones (else `corruption`: digest mismatch); only
// then does read() return 0. Data after the last gzip member or zstd frame
// that is not another member/frame is `corruption`.
// Ownership: borrows `raw`. Not thread-safe.
class LayerReader final : public Source {
public:
  static util::Result<LayerReader> open(Source& raw, const ReadOptions& options = {});
  LayerReader(LayerReader&&) noexcept;
  LayerReader& operator=(LayerReader&&) noexcept;
  ~LayerReader() override;

  util::Result<std::size_t> read(MutableBytes data) override;

  Compression compression() const;
  // Valid once read() has returned 0.
  const image::Digest& digest() const;
  const image::Digest& diff_id() const;
  std::int64_t size() const;              // raw bytes read
  std::int64_t uncompressed_size() const; // bytes returned by read()

private:
  struct Impl;
  explicit LayerReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace mason::archive
