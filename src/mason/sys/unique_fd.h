// The file-descriptor owner lives in util (content uses it too).
#pragma once

#include "mason/util/unique_fd.h"

namespace mason::sys {
using util::UniqueFd;
} // namespace mason::sys
