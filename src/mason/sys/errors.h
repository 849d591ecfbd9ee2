// errno → util::Error, one mapping for all of sys (and its users).
#pragma once

#include <string>

#include "mason/util/error.h"

namespace mason::sys {

// The ErrorCode that best describes an errno value: ENOENT/ENOTDIR →
// not_found, EPERM/EACCES → unauthorized, ENOSYS/EOPNOTSUPP → unsupported,
// EEXIST/EINVAL/ELOOP/EISDIR/ENAMETOOLONG/EXDEV/EMLINK → invalid_argument,
// the rest (EIO, ENOSPC, EMFILE, ...) → unavailable.
util::ErrorCode code_of_errno(int err);

// make_error(code_of_errno(err), what, err): `what` says what was done to
// what ("mkdir \"a/b\""); the errno text is appended by Error::to_string.
std::unexpected<util::Error> errno_error(std::string what, int err);

// `text` quoted for messages: "a/b" (control bytes are escaped as \xNN).
std::string quote(std::string_view text);

} // namespace mason::sys
