// The file-descriptor owner lives in util (sys uses it too).
#pragma once

#include "mason/util/unique_fd.h"

namespace mason::content {
using util::UniqueFd;
} // namespace mason::content
