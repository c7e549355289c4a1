#pragma once
// Provider presets: `- { preset: anthropic, secret: anthropic }` instead of knowing each
// API's auth scheme. A preset is data, expanded at load into ordinary credential rules
// (config/load_presets.cpp), so the data plane never knows presets exist. Each one names
// its hosts, the fields it sets, the carriers it strips, the default telemetry entries of
// the vendor's own tools, and where the scheme is documented (`airlock --print-presets`).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace airlock::config {

// One host's share of a preset: it becomes one credential rule.
struct preset_part {
  std::string id;                  // "api", "git": `part:` picks one; rule names end in it
  std::string host;                // lowercase pattern, as in a rule
  std::vector<std::string> paths;  // fixed prefixes in normal form; empty: any path
  // The host serves everyone's repositories: the entry must say which are the user's
  // (`paths:`), or the token would go with the agent's fetch of any other one.
  bool needs_paths = false;
  struct field {
    std::string name;
    std::string prefix;  // before the secret: "Bearer ", or empty
  };
  std::vector<field> headers;
  std::optional<std::string> basic_username;  // Authorization: Basic USER:SECRET
  std::vector<std::string> strip_headers;     // carriers beyond the default four
  std::vector<std::string> strip_query;       // parameters a client may put the key in
};

struct preset {
  std::string name;
  std::string title;
  std::vector<preset_part> parts;
  std::vector<std::string> telemetry;  // vendor_telemetry_defaults() names for its tools
  std::vector<std::string> sources;    // vendor docs and official SDK code, for the scheme
};

// In a fixed order; names unique and stable (configs refer to them).
const std::vector<preset>& provider_presets();

// nullptr when there is no such preset.
const preset* find_preset(std::string_view name);

// "anthropic, openai, ...", for error messages.
std::string preset_names();

// The rule a part becomes with `secret` in its templates, before any override: the
// part's host and paths, its fields, the default carriers plus its own stripped, named
// after the preset (and the part, for a preset of several).
credential_rule rule_from_part(const preset& p, const preset_part& part, const std::string& secret);

// What `airlock --print-presets` prints: every preset with its parts, carriers,
// telemetry entries and sources.
std::string describe_presets();

}  // namespace airlock::config
