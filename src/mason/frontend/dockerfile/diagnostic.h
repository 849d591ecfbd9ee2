// Located errors for Dockerfiles: `Dockerfile:12: message`, then the
// offending line and a caret. The frontend collects every error of a file
// it can find before giving up, so users fix them in one go.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mason/util/error.h"

namespace mason::frontend::dockerfile {

struct Diagnostic {
  int line = 0;                     // 1-based physical line (0: the file as a whole)
  std::size_t column = k_no_column; // 0-based byte column in that line
  std::string message;
  // When set and found in the line, the caret points at it instead.
  std::string caret_at = {};

  static constexpr std::size_t k_no_column = static_cast<std::size_t>(-1);
};

// Renders each diagnostic as
//   <label>:<line>: <message>
//    <line> | <source line>
//           |     ^
// `source` is the whole Dockerfile text; `label` usually its file name.
std::string format_diagnostics(std::string_view label, std::string_view source,
                               const std::vector<Diagnostic>& diagnostics);

// One Error (invalid_argument) whose message is the formatted diagnostics.
util::Error diagnostics_error(std::string_view label, std::string_view source,
                              const std::vector<Diagnostic>& diagnostics);

} // namespace mason::frontend::dockerfile
