// Byte streams: the two small interfaces every archive function reads from
// or writes to, and their plain implementations (file descriptor, memory).
//
// The content store, the exporter and tests plug their own Sink/Source in.
// Ownership: FdSink/FdSource borrow the descriptor (the caller keeps it
// open and closes it); MemorySource borrows the bytes; StringSink owns its
// buffer. Thread-safety: none; one stream is used by one thread at a time.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "mason/util/error.h"

namespace mason::archive {

using ConstBytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

inline ConstBytes as_bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

inline std::string_view as_chars(ConstBytes data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

// Where bytes go. write() consumes all of `data` or fails; after a failure
// the sink is in an unspecified state and should be discarded.
class Sink {
public:
  virtual ~Sink() = default;
  virtual util::Status write(ConstBytes data) = 0;
};

// Where bytes come from. read() returns 1..data.size() bytes, or 0 at the
// end of the stream (and only then, for a non-empty `data`). Errors are
// final.
class Source {
public:
  virtual ~Source() = default;
  virtual util::Result<std::size_t> read(MutableBytes data) = 0;
};

// Reads until `data` is full or the stream ends; returns the count read.
util::Result<std::size_t> read_full(Source& in, MutableBytes data);

// Writes to a borrowed descriptor (retrying EINTR and short writes).
class FdSink final : public Sink {
public:
  explicit FdSink(int fd) : m_fd(fd) {}
  util::Status write(ConstBytes data) override;

private:
  int m_fd;
};

// Reads from a borrowed descriptor (retrying EINTR).
class FdSource final : public Source {
public:
  explicit FdSource(int fd) : m_fd(fd) {}
  util::Result<std::size_t> read(MutableBytes data) override;

private:
  int m_fd;
};

// Appends everything to an owned string.
class StringSink final : public Sink {
public:
  util::Status write(ConstBytes data) override {
    m_data.append(as_chars(data));
    return {};
  }
  const std::string& data() const { return m_data; }
  std::string take() { return std::move(m_data); }

private:
  std::string m_data;
};

// Reads borrowed bytes; `data` must outlive the source.
class MemorySource final : public Source {
public:
  explicit MemorySource(std::string_view data) : m_data(data) {}
  util::Result<std::size_t> read(MutableBytes data) override;

private:
  std::string_view m_data;
};

} // namespace mason::archive
