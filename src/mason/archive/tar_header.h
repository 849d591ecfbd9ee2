// The ustar header block layout and its field codecs, shared by the tar
// writer and reader. Internal to mason::archive.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mason::archive::detail {

inline constexpr std::size_t k_block = 512;
using Block = std::array<char, k_block>;

// Field offsets and sizes of a POSIX ustar header.
struct Field {
  std::size_t offset;
  std::size_t size;
};
inline constexpr Field k_name{0, 100};
inline constexpr Field k_mode{100, 8};
inline constexpr Field k_uid{108, 8};
inline constexpr Field k_gid{116, 8};
inline constexpr Field k_size{124, 12};
inline constexpr Field k_mtime{136, 12};
inline constexpr Field k_chksum{148, 8};
inline constexpr Field k_typeflag{156, 1};
inline constexpr Field k_linkname{157, 100};
inline constexpr Field k_magic{257, 6};
inline constexpr Field k_version{263, 2};
inline constexpr Field k_uname{265, 32};
inline constexpr Field k_gname{297, 32};
inline constexpr Field k_devmajor{329, 8};
inline constexpr Field k_devminor{337, 8};
inline constexpr Field k_prefix{345, 155};

inline constexpr std::string_view k_paxheader_dir = "PaxHeaders.0";
inline constexpr std::string_view k_schily_xattr = "SCHILY.xattr.";
inline constexpr std::int64_t k_max_special_size = 1 << 20; // PAX / GNU long-name data

// Largest value an octal field of `size` bytes holds (size-1 digits + NUL).
constexpr std::int64_t octal_limit(const Field& f) {
  std::int64_t limit = 1;
  for (std::size_t i = 0; i + 1 < f.size; ++i) limit *= 8;
  return limit; // exclusive
}

std::string_view field_text(const Block& b, const Field& f);   // up to the first NUL
void put_string(Block& b, const Field& f, std::string_view s); // truncates (Go's rules)
void put_octal(Block& b, const Field& f,
               std::int64_t value); // zero-padded, NUL-ended; 0 if too big
void finish_header(Block& b);       // magic, version and checksum (ustar/PAX)

// The checksums a reader accepts: the unsigned sum and the historic signed
// sum, both with the checksum field read as spaces.
std::uint32_t unsigned_checksum(const Block& b);
std::int64_t signed_checksum(const Block& b);

// Parses an octal (leading/trailing spaces and NULs allowed; empty = 0) or
// GNU base-256 numeric field. nullopt if malformed or out of range.
std::optional<std::int64_t> parse_numeric(const Block& b, const Field& f);

// One PAX record "<len> <key>=<value>\n" as Go's archive/tar formats it.
std::string pax_record(std::string_view key, std::string_view value);

bool is_zero(const Block& b);

} // namespace mason::archive::detail
