// Compressors and decompressors behind LayerWriter and LayerReader.
// Internal to mason::archive.
#pragma once

#include <memory>

#include "mason/archive/compression.h"
#include "mason/archive/stream.h"

namespace mason::archive::detail {

// Compresses everything written into the Sink it was made with.
class Encoder {
public:
  virtual ~Encoder() = default;
  virtual util::Status write(ConstBytes data) = 0;
  virtual util::Status finish() = 0;
};

util::Result<std::unique_ptr<Encoder>> make_encoder(const CompressOptions& options, Sink& out);

// Decompresses step by step: decode() consumes from `in` (advancing it) and
// fills `out`, returning the bytes produced (possibly 0 while it needs more
// input). at_boundary(): the input so far ends exactly at the end of a
// gzip member / zstd frame (so the stream may end here).
class Decoder {
public:
  virtual ~Decoder() = default;
  virtual util::Result<std::size_t> decode(ConstBytes& in, MutableBytes out) = 0;
  virtual bool at_boundary() const = 0;
};

util::Result<std::unique_ptr<Decoder>> make_decoder(Compression compression);

unsigned effective_threads(unsigned requested);

} // namespace mason::archive::detail
