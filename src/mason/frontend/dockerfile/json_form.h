// Decoding of the JSON (exec) form of instruction arguments, with the
// acceptance rules of Go's encoding/json that the reference parser uses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mason::frontend::dockerfile {

enum class JsonFormStatus {
  strings,        // a valid JSON array of strings: `values` holds them
  not_json,       // not a JSON array (or invalid JSON): use the shell form
  not_all_strings // valid JSON array with a non-string element: an error
};

struct JsonForm {
  JsonFormStatus status = JsonFormStatus::not_json;
  std::vector<std::string> values;
};

// `text` is the argument string; leading Unicode white space is skipped,
// then it must be exactly one JSON array (JSON white space around it).
JsonForm parse_json_form(std::string_view text);

} // namespace mason::frontend::dockerfile
