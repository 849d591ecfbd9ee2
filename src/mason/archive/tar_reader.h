// TarReader: reads a tar stream entry by entry (ustar, PAX, GNU and v7
// headers), strictly.
//
// Understood: ustar prefix/name; PAX "x" records path, linkpath, size, uid,
// gid, mtime (with fraction) and SCHILY.xattr.*; PAX "g" global headers
// (parsed and ignored, as docker does); GNU "L"/"K" long names; GNU
// base-256 numbers; v7 headers; old-style directories (typeflag NUL with a
// trailing "/"). Not supported: GNU/PAX sparse files (error: unsupported).
// Other typeflags come back as EntryType::unsupported with their data
// skippable.
//
// Strictness: every header's checksum is verified; numbers must parse; a
// short block, short data, or an archive that ends without its
// end-of-archive zero block is `corruption` with the entry name and byte
// offset. An empty stream (0 bytes) is an empty archive, as for Go's reader.
// PAX and GNU long-name data is limited to 1 MiB per entry.
//
// Ownership: borrows the Source. Thread-safety: none.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "mason/archive/stream.h"
#include "mason/archive/tar_entry.h"
#include "mason/util/error.h"

namespace mason::archive {

class TarReader {
public:
  explicit TarReader(Source& in) : m_in(in) {}

  // The next entry, or nullopt at the end of the archive. Unread data of
  // the previous entry is skipped.
  util::Result<std::optional<TarEntry>> next();
  // Reads data of the current entry; 0 once all entry.size bytes are read.
  util::Result<std::size_t> read_data(MutableBytes data);
  // Reads the stream to its end (bytes after the end-of-archive marker are
  // ignored, as every tar reader does), so that a digesting Source below
  // sees all bytes.
  util::Status drain();

  std::uint64_t offset() const { return m_offset; } // bytes consumed from the source

private:
  util::Result<std::size_t> read_block(std::array<char, 512>& block);
  util::Result<std::optional<TarEntry>> end_of_archive(std::uint64_t start, bool have_meta);
  util::Status skip(std::uint64_t bytes);
  util::Result<std::string> read_special(const TarEntry& meta, std::int64_t size);

  Source& m_in;
  std::uint64_t m_offset = 0;
  std::uint64_t m_remaining = 0; // data bytes of the current entry not yet read
  std::uint64_t m_padding = 0;   // padding after them
  std::string m_current;         // name of the current entry, for messages
  bool m_done = false;
};

} // namespace mason::archive
