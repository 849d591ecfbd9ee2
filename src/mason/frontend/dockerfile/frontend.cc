#include "mason/frontend/dockerfile/frontend.h"

#include <algorithm>

namespace mason::frontend::dockerfile {

util::Result<LoadedDockerfile> load_dockerfile(std::string_view label, std::string_view text) {
  auto parsed = parse(text);
  auto checked = to_instructions(parsed.ast);
  auto errors = std::move(parsed.errors);
  // "no stages" is only meaningful when the file parsed at all.
  if (!errors.empty())
    std::erase_if(checked.errors, [](const Diagnostic& d) { return d.line == 0; });
  errors.insert(errors.end(), checked.errors.begin(), checked.errors.end());
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return std::unexpected(diagnostics_error(label, text, errors));
  }
  return LoadedDockerfile{std::move(parsed.ast), std::move(checked.dockerfile)};
}

util::Result<Frontend> load_and_lower(std::string_view label, std::string_view text,
                                      const LowerOptions& options) {
  MASON_TRY_ASSIGN(auto loaded, load_dockerfile(label, text));
  auto lowered = lower(loaded.dockerfile, options);
  if (!lowered.ok()) {
    std::stable_sort(lowered.errors.begin(), lowered.errors.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return std::unexpected(diagnostics_error(label, text, lowered.errors));
  }
  return Frontend{std::move(loaded), std::move(lowered.graph)};
}

} // namespace mason::frontend::dockerfile
