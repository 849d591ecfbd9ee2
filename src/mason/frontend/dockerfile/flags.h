// Instruction flags (`--name=value` words after the keyword), checked the
// way the reference builder does: each instruction declares its flags, then
// the words are matched against them. Unknown, repeated or malformed flags
// are errors naming the flag.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mason::frontend::dockerfile {

class InstructionFlags {
public:
  enum class Type { boolean, string, strings };

  struct Value {
    Type type = Type::string;
    std::string value;               // boolean: "true"/"false"
    std::vector<std::string> values; // strings
    bool used = false;
  };

  explicit InstructionFlags(std::vector<std::string> words) : m_words(std::move(words)) {}

  void add_bool(const std::string& name, bool def = false);
  void add_string(const std::string& name, std::string def = {});
  void add_strings(const std::string& name);

  // Checks the words; on error returns the message (naming `keyword`) and
  // sets offending_word.
  std::optional<std::string> parse(std::string_view keyword);
  const std::string& offending_word() const { return m_offending; }

  const Value& get(const std::string& name) const { return m_flags.at(name); }
  bool is_true(const std::string& name) const { return get(name).value == "true"; }
  bool used(const std::string& name) const { return get(name).used; }

private:
  std::vector<std::string> m_words;
  std::map<std::string, Value> m_flags;
  std::string m_offending;
};

// " (did you mean X?)" for the closest candidate, or "" when none is close.
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view prefix = "");

} // namespace mason::frontend::dockerfile
