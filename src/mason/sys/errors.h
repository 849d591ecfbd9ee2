// errno → util::Error, one mapping for all of sys (and its users).
#pragma once

#include <string>

#include "mason/util/error.h"

namespace mason::sys {

// errno errors are made one way, in util (error.h); sys's callers spell
// them sys::errno_error.
using util::code_of_errno;
using util::errno_error;

// `text` quoted for messages: "a/b" (control bytes are escaped as \xNN).
std::string quote(std::string_view text);

} // namespace mason::sys
