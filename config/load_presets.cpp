// `- { preset: NAME, secret: SECRET }` entries under credentials:, expanded into ordinary
// rules at load (one per part of the preset), so nothing after loading knows presets.

#include <algorithm>

#include "config/presets.hpp"
#include "config/rule_parts.hpp"

namespace airlock::config {

namespace {

std::string parts_list(const preset& p) {
  std::string out;
  for (const auto& part : p.parts) {
    out += out.empty() ? "" : ", ";
    out += part.id + " (" + part.host + ")";
  }
  return out;
}

// The parts an entry expands into: the one `part:` names, or all of them.
std::vector<const preset_part*> chosen_parts(const reader& r, const YAML::Node& item,
                                             const std::string& path, const preset& p) {
  std::vector<const preset_part*> out;
  if (const auto part = item["part"]) {
    const std::string id = r.scalar(part, path + ".part");
    for (const auto& candidate : p.parts) {
      if (candidate.id == id) {
        out.push_back(&candidate);
      }
    }
    if (out.empty()) {
      r.fail(part, path + ".part: preset " + p.name + " has no part \"" + id +
                       "\" (parts: " + parts_list(p) + ")");
    }
    return out;
  }
  for (const auto& candidate : p.parts) {
    out.push_back(&candidate);
  }
  return out;
}

// host: and port: name one host: with several parts, which one is ambiguous.
void check_single_host_overrides(const reader& r, const YAML::Node& item, const std::string& path,
                                 const preset& p, std::size_t chosen) {
  for (const char* key : {"host", "port"}) {
    if (item[key] && chosen > 1) {
      r.fail(item[key], path + "." + key + ": preset " + p.name + " has parts " + parts_list(p) +
                            ": choose one with part: to change its " + key);
    }
  }
}

// paths: on a preset of several parts scopes the ones that serve everyone's repositories.
bool paths_apply(const preset_part& part, std::size_t chosen) {
  return chosen == 1 || part.needs_paths;
}

}  // namespace

void read_preset(const reader& r, const YAML::Node& item, const std::string& path,
                 const std::vector<secret_source>& secrets, std::vector<credential_rule>& out) {
  r.expect_map(
      item, path,
      {"preset", "secret", "part", "name", "host", "port", "paths", "methods", "strip", "scrub"});
  const std::string name = r.scalar(item["preset"], path + ".preset");
  const preset* p = find_preset(name);
  if (p == nullptr) {
    r.fail(item["preset"], path + ".preset: unknown preset \"" + name + "\" (known: " +
                               preset_names() + "; airlock --print-presets shows them)");
  }
  if (!item["secret"]) {
    r.fail(item, path + ": preset " + name + " needs secret: (a name declared under secrets:)");
  }
  const std::string secret = r.scalar(item["secret"], path + ".secret");
  if (!is_declared(secrets, secret)) {
    r.fail(item["secret"],
           path + ".secret: \"" + secret + "\" names no secret declared under secrets:");
  }
  const auto parts = chosen_parts(r, item, path, *p);
  check_single_host_overrides(r, item, path, *p, parts.size());
  const bool any_scoped =
      std::any_of(parts.begin(), parts.end(), [](const preset_part* x) { return x->needs_paths; });
  if (item["paths"] && parts.size() > 1 && !any_scoped) {
    r.fail(item["paths"], path + ".paths: preset " + p->name + " has parts " + parts_list(*p) +
                              ": choose one with part: to scope it");
  }
  for (const preset_part* part : parts) {
    credential_rule rule = rule_from_part(*p, *part, secret);
    if (item["name"]) {
      const std::string given = r.scalar(item["name"], path + ".name");
      rule.name = parts.size() == 1 ? given : given + "-" + part->id;
    }
    if (item["host"]) {
      rule.match.host = read_host_pattern(r, item["host"], path + ".host");
    }
    if (item["port"]) {
      rule.match.port =
          static_cast<std::uint16_t>(r.integer(item["port"], path + ".port", 1, 65535));
    }
    if (item["paths"] && paths_apply(*part, parts.size())) {
      rule.match.path_prefixes = read_paths(r, item["paths"], path + ".paths");
    }
    if (part->needs_paths && rule.match.path_prefixes.empty()) {
      r.fail(item, path + ": preset " + p->name + ": " + part->host +
                       " serves every repository, so its " + part->id +
                       " part needs paths: with yours (say [/OWNER/] or [/OWNER/REPO.git/]; [/] "
                       "sends the token with any repository), or choose another part with part:");
    }
    if (item["methods"]) {
      rule.match.methods = read_methods(r, item["methods"], path + ".methods");
    }
    if (item["strip"]) {
      read_strip(r, item["strip"], path + ".strip", rule.strip);
    }
    if (item["scrub"]) {
      rule.scrub = read_scrub(r, item["scrub"], path + ".scrub");
    }
    out.push_back(std::move(rule));
  }
}

}  // namespace airlock::config
