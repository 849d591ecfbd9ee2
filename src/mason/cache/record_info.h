// What a build-cache record says about its step besides its key and
// snapshot: the one encoding of the `info` column of the store's
// cache_records (docs/cache-keys.md, "Records"), and of the records of an
// exported cache (--cache-to). Every field has one name, in C++ and JSON.
//
// A record the decoder does not read (written by an older mason, or
// damaged) is not an error: the step is a miss, runs, and its new record
// replaces the old one under the same key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mason::cache {

struct RecordInfo {
  std::string created_by; // the step's history entry (created_by)
  // The step adds a layer to the image; false: its history entry is an
  // empty_layer one (a WORKDIR that made nothing).
  bool adds_layer = true;
  std::string created{}; // RFC 3339: when the step's result was first made
  bool imported = false; // recorded from --cache-from, not run here
  // What the key was made of (engine/step_key.h): compared with a later
  // miss's inputs to say what changed. Keys read by the cache itself:
  // "step" (the step's label), "parent" and "from" (the keys it chains from).
  nlohmann::json inputs = nlohmann::json::object();

  // {"created_by", "adds_layer", "created", "imported"?, "inputs"}.
  std::string encode() const;
  static std::optional<RecordInfo> decode(std::string_view text);

  // The same fields inside an exported cache's record (without inputs,
  // which are local: they name context paths).
  void write_to(nlohmann::json& record) const;
  static std::optional<RecordInfo> read_from(const nlohmann::json& record);

  // inputs["step"], or "".
  std::string step() const;
  // The keys this record was computed from (inputs "parent" and "from").
  std::vector<std::string> sources() const;
};

} // namespace mason::cache
