// The runtime's JSON log: one object per line ({"level","msg","time"}),
// written by runc and crun with `--log <file> --log-format json`. The
// runtime logs at level "error" only when it fails itself (for example
// when argv[0] cannot be executed); a container that exits non-zero
// leaves no such entry, which is how the two are told apart.
#include <nlohmann/json.hpp>
#include <sstream>

#include "mason/executor/internal.h"

namespace mason::executor {

namespace {

std::string string_field(const nlohmann::json& entry, const char* key) {
  const auto it = entry.find(key);
  return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

std::string runtime_error_from_log(std::string_view log_text) {
  std::string last;
  std::istringstream in{std::string(log_text)};
  for (std::string line; std::getline(in, line);) {
    const auto entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.is_object()) continue;
    const auto level = string_field(entry, "level");
    if (level == "error" || level == "fatal") last = string_field(entry, "msg");
  }
  return last;
}

} // namespace mason::executor
