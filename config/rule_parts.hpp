#pragma once
// Internal to config/: readers for the parts of a credential rule that a written rule
// and a preset entry share, each failing with the node's FILE:LINE:COL.

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace airlock::config {

bool is_tchar(char c);

// Fields airlock frames or routes by itself; a rule may neither set nor strip them.
bool is_reserved_field(std::string_view name);

// "api.example.com" or "*.example.com", lowercased, a trailing dot dropped.
std::string read_host_pattern(const reader& r, const YAML::Node& node, const std::string& path);

// paths: prefixes starting with "/", in a form every mainstream server reads alike.
std::vector<std::string> read_paths(const reader& r, const YAML::Node& node,
                                    const std::string& path);

// methods: tokens, uppercased.
std::vector<std::string> read_methods(const reader& r, const YAML::Node& node,
                                      const std::string& path);

// scrub: true | false | {enabled: BOOL, on_unreadable: refuse | pass}
scrub_options read_scrub(const reader& r, const YAML::Node& node, const std::string& path);

// strip: [FIELD, ...] (added to out) | {headers: [...], query: [...], defaults: BOOL};
// defaults: false first empties out (the fields a rule sets are stripped regardless).
void read_strip(const reader& r, const YAML::Node& node, const std::string& path,
                strip_options& out);

// Whether a secret of that name is declared under secrets:.
bool is_declared(const std::vector<secret_source>& secrets, std::string_view name);

// A `- { preset: NAME, secret: SECRET, ... }` entry, expanded into one rule per part.
void read_preset(const reader& r, const YAML::Node& item, const std::string& path,
                 const std::vector<secret_source>& secrets, std::vector<credential_rule>& out);

}  // namespace airlock::config
