// TarWriter: writes a tar stream entry by entry, in the format Go's
// archive/tar writes (what docker and BuildKit layers are made of).
//
// Format: a plain ustar header when every field fits (names up to 100
// bytes, or up to 256 split into prefix/name at a "/"; ASCII only; numbers
// in octal range; no xattrs); otherwise a PAX extended header ("x", named
// "<dir>/PaxHeaders.0/<base>", records sorted by key) carrying the fields
// that do not fit (path, linkpath, uid, gid, size, mtime) and every xattr as
// SCHILY.xattr.<name>, followed by a ustar header with those fields
// truncated or zeroed. No uname/gname, no atime/ctime, whole-second mtimes.
// The archive ends with two zero blocks (no padding to a record size).
// Same entries in, same bytes out.
//
// The writer writes names, link targets and modes exactly as given (it is
// also used to craft hostile archives in tests); write_tree() produces
// clean ones. Ownership: borrows the Sink. Thread-safety: none.
#pragma once

#include <cstdint>

#include "mason/archive/stream.h"
#include "mason/archive/tar_entry.h"
#include "mason/util/error.h"

namespace mason::archive {

class TarWriter {
public:
  explicit TarWriter(Sink& out) : m_out(out) {}

  // Writes the header(s) of `entry`. A regular entry must then get exactly
  // entry.size data bytes through write_data() before the next add() or
  // finish(); other types carry no data (their size is written as 0).
  // Errors: invalid_argument for a NUL in a name, a negative number, an
  // unsupported type, or a device number beyond the ustar range; the sink's
  // errors.
  util::Status add(const TarEntry& entry);
  util::Status write_data(ConstBytes data);
  // add() + write_data() for a regular entry whose size is data.size().
  util::Status add_file(TarEntry entry, std::string_view data);
  // Pads the last entry and writes the end-of-archive marker. Errors:
  // invalid_argument if the last entry's data is incomplete.
  util::Status finish();

  std::uint64_t bytes_written() const { return m_written; }

private:
  util::Status emit(ConstBytes data);
  util::Status pad_entry();

  Sink& m_out;
  std::uint64_t m_written = 0;
  std::int64_t m_remaining = 0; // data bytes the current entry still needs
  std::int64_t m_entry_size = 0;
};

} // namespace mason::archive
