// routes: reverse routes served on the proxy listener.

#include <algorithm>

#include "config/parse_values.hpp"
#include "config/sections.hpp"

namespace airlock::config {

void read_routes(const reader& r, const YAML::Node& node, std::vector<route>& out) {
  if (!node.IsSequence()) {
    r.fail(node, "routes: expected a list of {prefix, upstream}");
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& item = node[i];
    const std::string path = "routes[" + std::to_string(i) + "]";
    r.expect_map(item, path, {"prefix", "upstream"});
    if (!item["prefix"] || !item["upstream"]) {
      r.fail(item, path + ": needs prefix and upstream");
    }
    route rt;
    const std::string prefix_text = r.scalar(item["prefix"], path + ".prefix");
    auto prefix = parse_route_prefix(prefix_text);
    if (prefix.index() == 1) {
      r.fail(item["prefix"],
             path + ".prefix: " + std::get<1>(prefix) + ", got \"" + prefix_text + "\"");
    }
    rt.prefix = std::get<0>(std::move(prefix));
    const bool taken = std::any_of(out.begin(), out.end(),
                                   [&](const route& other) { return other.prefix == rt.prefix; });
    if (taken) {
      r.fail(item["prefix"], path + ".prefix: \"" + rt.prefix + "\" is routed twice");
    }
    const std::string upstream = r.scalar(item["upstream"], path + ".upstream");
    if (auto err = parse_upstream_url(upstream, rt)) {
      r.fail(item["upstream"], path + ".upstream: " + *err + ", got \"" + upstream + "\"");
    }
    out.push_back(std::move(rt));
  }
}

}  // namespace airlock::config
