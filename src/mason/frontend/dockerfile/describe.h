// Canonical one-line text of a typed instruction (after expansion), e.g.
// `COPY --from=builder /app/main /main`, `ENV A=1 B=2`.
#pragma once

#include <string>

#include "mason/frontend/dockerfile/instructions.h"

namespace mason::frontend::dockerfile {

std::string describe(const Instruction& instr);

} // namespace mason::frontend::dockerfile
