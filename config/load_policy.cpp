// egress: and telemetry: sections.

#include <algorithm>

#include "config/parse_values.hpp"
#include "config/request_path.hpp"
#include "config/sections.hpp"
#include "config/telemetry_defaults.hpp"

namespace airlock::config {

namespace {

host_pattern read_pattern(const reader& r, const YAML::Node& node, const std::string& path) {
  const std::string text = r.scalar(node, path);
  auto parsed = parse_host_pattern(text);
  if (parsed.index() == 1) {
    r.fail(node, path + ": " + std::get<1>(parsed) + ", got \"" + text + "\"");
  }
  return std::get<0>(std::move(parsed));
}

std::vector<host_pattern> read_patterns(const reader& r, const YAML::Node& node,
                                        const std::string& path) {
  if (!node.IsSequence()) {
    r.fail(node, path + ": expected a list of host patterns");
  }
  std::vector<host_pattern> out;
  for (const auto& item : node) {
    out.push_back(read_pattern(r, item, path));
  }
  return out;
}

}  // namespace

void read_egress(const reader& r, const YAML::Node& node, egress_config& out) {
  r.expect_map(
      node, "egress",
      {"default", "allow", "deny", "block_private_addresses", "allow_private", "report_only"});
  if (node["default"]) {
    const std::string d = r.scalar(node["default"], "egress.default");
    if (d != "allow" && d != "deny") {
      r.fail(node["default"], "egress.default: expected allow or deny, got \"" + d + "\"");
    }
    out.default_allow = d == "allow";
  }
  if (node["allow"]) {
    out.allow = read_patterns(r, node["allow"], "egress.allow");
  }
  if (node["deny"]) {
    out.deny = read_patterns(r, node["deny"], "egress.deny");
  }
  if (node["block_private_addresses"]) {
    out.block_private_addresses =
        r.boolean(node["block_private_addresses"], "egress.block_private_addresses");
  }
  if (const auto list = node["allow_private"]) {
    if (!list.IsSequence()) {
      r.fail(list, "egress.allow_private: expected a list of CIDRs");
    }
    for (const auto& item : list) {
      const std::string text = r.scalar(item, "egress.allow_private");
      auto parsed = parse_cidr(text);
      if (parsed.index() == 1) {
        r.fail(item, "egress.allow_private: " + std::get<1>(parsed) + ", got \"" + text + "\"");
      }
      out.allow_private.push_back(std::get<0>(std::move(parsed)));
    }
  }
  if (node["report_only"]) {
    out.report_only = r.boolean(node["report_only"], "egress.report_only");
  }
}

void read_telemetry(const reader& r, const YAML::Node& node, telemetry_config& out) {
  r.expect_map(node, "telemetry", {"block_vendor_defaults", "block", "unblock", "answer"});
  if (node["block_vendor_defaults"]) {
    out.block_vendor_defaults =
        r.boolean(node["block_vendor_defaults"], "telemetry.block_vendor_defaults");
  }
  if (node["answer"]) {
    out.answer_status = static_cast<int>(r.integer(node["answer"], "telemetry.answer", 200, 599));
    if (out.answer_status != 204 && out.answer_status != 403) {
      r.fail(node["answer"], "telemetry.answer: expected 204 or 403");
    }
  }
  if (const auto list = node["block"]) {
    if (!list.IsSequence()) {
      r.fail(list, "telemetry.block: expected a list of {name, host, path}");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node& item = list[i];
      const std::string path = "telemetry.block[" + std::to_string(i) + "]";
      r.expect_map(item, path, {"name", "host", "path"});
      if (!item["host"]) {
        r.fail(item, path + ": missing host");
      }
      telemetry_entry e;
      e.host = read_pattern(r, item["host"], path + ".host");
      e.name = item["name"] ? r.scalar(item["name"], path + ".name") : e.host.text;
      if (item["path"]) {
        e.path_prefix = r.scalar(item["path"], path + ".path");
        // Requests are compared in their widest reading (every escape decoded).
        if (const auto problem = prefix_problem(e.path_prefix, path_decoding::all);
            !problem.empty()) {
          r.fail(item["path"], path + ".path: " + problem + ", got \"" + e.path_prefix + "\"");
        }
      }
      e.source = "config";
      out.block.push_back(std::move(e));
    }
  }
  if (const auto list = node["unblock"]) {
    if (!list.IsSequence()) {
      r.fail(list, "telemetry.unblock: expected a list of default entry names");
    }
    const auto defaults = vendor_telemetry_defaults();
    for (const auto& item : list) {
      const std::string name = r.scalar(item, "telemetry.unblock");
      const bool known = std::any_of(defaults.begin(), defaults.end(),
                                     [&](const telemetry_entry& e) { return e.name == name; });
      if (!known) {
        r.fail(item, "telemetry.unblock: \"" + name +
                         "\" is not a default entry (see airlock --print-telemetry-defaults)");
      }
      out.unblock.push_back(name);
    }
  }
}

}  // namespace airlock::config
