// One tar entry as mason sees it: the fields of a ustar header after PAX
// and GNU extension records have been applied.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace mason::archive {

enum class EntryType {
  regular,
  hardlink,
  symlink,
  char_device,
  block_device,
  directory,
  fifo,
  unsupported, // any other typeflag (GNU dump dirs, volume labels, ...): see TarEntry::typeflag
};

std::string_view to_string(EntryType type);

// Header-only types carry no data in the archive, whatever their size field
// says (as Go's archive/tar reads them).
constexpr bool has_data(EntryType type) {
  return type == EntryType::regular || type == EntryType::unsupported;
}

struct TarEntry {
  std::string name; // as stored: may be absolute, contain "..", end with "/"
  EntryType type = EntryType::regular;
  char typeflag = '0'; // the raw typeflag (set by the reader; the writer derives it from type)
  std::uint32_t mode = 0644; // permission bits incl. setuid/setgid/sticky (07777)
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::int64_t size = 0;        // data bytes (regular and unsupported entries only)
  std::int64_t mtime = 0;       // seconds since the epoch
  std::uint32_t mtime_nsec = 0; // from a PAX mtime record; the writer writes whole seconds
  std::string linkname;         // symlink target or hardlink target path
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::map<std::string, std::string> xattrs; // name -> raw value (PAX SCHILY.xattr.*)
  std::uint64_t offset = 0;                  // reader: offset of this entry's first header block

  bool operator==(const TarEntry&) const = default;
};

} // namespace mason::archive
