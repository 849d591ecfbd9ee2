// Whole-file reads. Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <limits>
#include <string>

#include "mason/util/error.h"

namespace mason::sys {

// The bytes of the file at `path` (symlinks followed). Errors name the
// path: not_found when it does not exist, invalid_argument when it is
// larger than `limit` bytes, else the errno's code (errno_error).
util::Result<std::string> read_file(const std::string& path,
                                    std::size_t limit = std::numeric_limits<std::size_t>::max());

// Whether `path` is a regular file (symlinks followed); false when it
// cannot be stat'ed.
bool is_regular_file(const std::string& path);

} // namespace mason::sys
