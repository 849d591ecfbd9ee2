// Names in the state directory: snapshot ids → directory names, random
// tokens for temporary entries and short link names.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "mason/util/error.h"

namespace mason::snapshot::detail {

// Entries of the state directory that are not snapshots.
inline constexpr std::string_view k_tmp_dir = "tmp";     // partial work, per owner token
inline constexpr std::string_view k_link_dir = "l";      // short names → <name>/fs (overlay)
inline constexpr std::string_view k_flat_dir = "flat";   // flattened chains (overlay)
inline constexpr std::string_view k_empty_dir = "empty"; // always empty (a spare lowerdir)
inline constexpr std::string_view k_kind_file = "kind";  // "overlay" or "copy"
// Why the automatic choice fell back to copies (the overlayfs probe's error).
inline constexpr std::string_view k_kind_reason_file = "kind-reason";

// Files inside a snapshot directory.
inline constexpr std::string_view k_fs_dir = "fs";           // the tree (upperdir or full)
inline constexpr std::string_view k_work_dir = "work";       // overlay workdir (active only)
inline constexpr std::string_view k_parent_file = "parent";  // the parent's id (absent: none)
inline constexpr std::string_view k_link_file = "link";      // the short name under l/
inline constexpr std::string_view k_unpacked_file = "layer"; // marker: an unpacked image layer
inline constexpr std::string_view k_copied_file = "copied";  // copy kind: ctime = end of the copy

// The directory name of a snapshot id: bytes [A-Za-z0-9._-] are kept, every
// other byte becomes "+XX" (lower-case hex), so the mapping is injective
// ("sha256:ab" → "sha256+3aab"). Errors: invalid_argument for an empty id,
// a name longer than 255 bytes, or one of the reserved names above.
util::Result<std::string> dir_name_of(std::string_view id);
// The inverse: the id of a snapshot directory name, or nullopt for a name
// dir_name_of never gives (reserved names, bad escapes).
std::optional<std::string> id_of_dir_name(std::string_view name);

// `count` random characters of [a-z2-7] (base32, 5 bits each) from
// getrandom(2).
std::string random_chars(std::size_t count);

// Length of the short names under l/ (40 random bits; a clash is detected
// when the link is created, and another name is drawn).
inline constexpr std::size_t k_link_chars = 8;

} // namespace mason::snapshot::detail
