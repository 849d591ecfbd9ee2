// Fuzzes the whole pure frontend on arbitrary bytes: parse, dump, typed
// instructions, lowering and expansion of every stage. Any crash, hang,
// sanitizer report or exception is a bug: bad input must give errors.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mason/frontend/dockerfile/describe.h"
#include "mason/frontend/dockerfile/frontend.h"

namespace df = mason::frontend::dockerfile;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = df::parse(text);
  (void)df::dump(parsed.ast);
  auto checked = df::to_instructions(parsed.ast);
  (void)df::format_diagnostics("Dockerfile", text, parsed.errors);
  df::LowerOptions opt;
  opt.build_args = {{"A", "x y"}, {"HTTP_PROXY", "p"}};
  auto lowered = df::lower(checked.dockerfile, opt);
  (void)df::format_diagnostics("Dockerfile", text, lowered.errors);
  if (!lowered.ok()) return 0;
  (void)df::stages_json(lowered.graph);
  for (const auto& node : lowered.graph.stages) {
    auto r = df::expand_stage(checked.dockerfile, lowered.graph, node.index, df::EnvList(),
                              df::EnvList());
    for (const auto& i : r.stage.commands) (void)df::describe(i);
  }
  return 0;
}
