// Flag matching as BuildKit's BFlags: `--` ends the flags, bool flags take
// no value or true/false (case-insensitive), string flags need `=value`,
// strings flags may repeat. Suggestions use Levenshtein distance.
#include "mason/frontend/dockerfile/flags.h"

#include <algorithm>

#include "mason/util/utf8.h"

namespace mason::frontend::dockerfile {

void InstructionFlags::add_bool(const std::string& name, bool def) {
  m_flags[name] = Value{Type::boolean, def ? "true" : "false", {}, false};
}

void InstructionFlags::add_string(const std::string& name, std::string def) {
  m_flags[name] = Value{Type::string, std::move(def), {}, false};
}

void InstructionFlags::add_strings(const std::string& name) {
  m_flags[name] = Value{Type::strings, {}, {}, false};
}

std::optional<std::string> InstructionFlags::parse(std::string_view keyword) {
  const std::string where = " for " + std::string(keyword);
  for (const auto& word : m_words) {
    m_offending = word;
    if (word == "--") return std::nullopt;
    if (!word.starts_with("--")) return "arg should start with -- : " + word + where;
    const auto eq = word.find('=');
    const bool has_value = eq != std::string::npos;
    const auto flag_name = word.substr(0, eq);
    const auto value = has_value ? word.substr(eq + 1) : std::string();
    const auto name = flag_name.substr(2);
    auto it = m_flags.find(name);
    if (it == m_flags.end()) {
      std::vector<std::string> names;
      names.reserve(m_flags.size());
      for (const auto& [n, v] : m_flags) names.push_back(n);
      return "unknown flag " + flag_name + where + suggestion(name, names, "--");
    }
    auto& flag = it->second;
    if (flag.used && flag.type != Type::strings)
      return "duplicate flag specified: " + flag_name + where;
    flag.used = true;
    switch (flag.type) {
    case Type::boolean: {
      if (has_value && value.empty()) return "missing a value on flag: " + flag_name + where;
      const auto lower = util::to_lower_ascii(value);
      if (lower == "true" || lower.empty())
        flag.value = "true";
      else if (lower == "false")
        flag.value = "false";
      else
        return "expecting boolean value for flag " + flag_name + where + ", not: " + value;
      break;
    }
    case Type::string:
      if (!has_value) return "missing a value on flag: " + flag_name + where;
      flag.value = value;
      break;
    case Type::strings:
      if (!has_value) return "missing a value on flag: " + flag_name + where;
      flag.values.push_back(value);
      break;
    }
  }
  m_offending.clear();
  return std::nullopt;
}

namespace {

// Optimal string alignment distance: Levenshtein plus adjacent
// transpositions (FORM -> FROM is one edit).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

} // namespace

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view prefix) {
  const auto lower = util::to_lower_ascii(word);
  std::string best;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    const auto d = edit_distance(lower, util::to_lower_ascii(c));
    if (best.empty() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  // Close enough: at most 2 edits, and fewer than half the word changed.
  if (best.empty() || best_distance == 0 || best_distance > 2 || best_distance * 2 >= word.size())
    return {};
  return " (did you mean " + std::string(prefix) + best + "?)";
}

} // namespace mason::frontend::dockerfile
