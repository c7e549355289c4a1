#include "config/load.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <vector>

#include "config/parse_values.hpp"
#include "config/sections.hpp"
#include "config/yaml_guard.hpp"
#include "config/yaml_reader.hpp"

namespace airlock::config {

config_error::config_error(std::string file, int line, int column, std::string message)
    : std::runtime_error(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                         message),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(std::move(message)) {}

namespace {

void read_timeouts(const reader& r, const YAML::Node& node, timeouts_config& out) {
  r.expect_map(node, "proxy.timeouts", {"header", "idle", "connect", "drain"});
  if (node["header"]) {
    out.header = r.time(node["header"], "proxy.timeouts.header");
  }
  if (node["idle"]) {
    out.idle = r.time(node["idle"], "proxy.timeouts.idle");
  }
  if (node["connect"]) {
    out.connect = r.time(node["connect"], "proxy.timeouts.connect");
  }
  if (node["drain"]) {
    out.drain = r.time(node["drain"], "proxy.timeouts.drain");
  }
}

void read_pool(const reader& r, const YAML::Node& node, pool_config& out) {
  r.expect_map(node, "proxy.pool", {"max_idle_per_host", "idle"});
  if (node["max_idle_per_host"]) {
    out.max_idle_per_host =
        r.integer(node["max_idle_per_host"], "proxy.pool.max_idle_per_host", 0, 100000);
  }
  if (node["idle"]) {
    out.idle = r.time(node["idle"], "proxy.pool.idle");
  }
}

// "http://host:port": airlock's listener speaks plain HTTP to its clients, and the URL goes
// into proxy variables, which carry no path.
endpoint read_agent_url(const reader& r, const YAML::Node& node) {
  const std::string text = r.scalar(node, "proxy.agent_url");
  const auto wrong = [&](const std::string& why) {
    r.fail(node, "proxy.agent_url: " + why + ", got \"" + text + "\"");
  };
  if (text.size() < 7 || !std::equal(text.begin(), text.begin() + 7, "http://", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      })) {
    wrong("expected \"http://host:port\" (airlock's listener speaks plain http)");
  }
  route parsed;
  if (const auto err = parse_upstream_url(text, parsed)) {
    wrong(*err);
  }
  if (!parsed.base_path.empty()) {
    wrong("expected \"http://host:port\" without a path");
  }
  return endpoint{parsed.host, parsed.port};
}

void read_proxy(const reader& r, const YAML::Node& node, proxy_config& out) {
  r.expect_map(node, "proxy",
               {"listen", "workers", "max_connections", "max_header_bytes", "max_header_count",
                "max_pending_head_bytes", "max_decoding_bytes", "timeouts", "pool", "route_hosts",
                "via", "agent_url"});
  if (node["listen"]) {
    out.listen = r.address(node["listen"], "proxy.listen", true);
  }
  if (node["workers"]) {
    out.workers = static_cast<unsigned>(r.integer(node["workers"], "proxy.workers", 0, 1024));
  }
  if (node["max_connections"]) {
    out.max_connections =
        r.integer(node["max_connections"], "proxy.max_connections", 1, 10'000'000);
  }
  if (node["max_header_bytes"]) {
    // The floor keeps room for a realistic request line; the ceiling bounds per-connection memory.
    out.max_header_bytes =
        r.size(node["max_header_bytes"], "proxy.max_header_bytes", 1024, 1024 * 1024);
  }
  if (node["max_header_count"]) {
    out.max_header_count = r.integer(node["max_header_count"], "proxy.max_header_count", 8, 1000);
  }
  if (node["via"]) {
    out.via = r.boolean(node["via"], "proxy.via");
  }
  if (node["max_pending_head_bytes"]) {
    // 0 is allowed: then no head may outgrow a connection's first buffer (16 KiB).
    out.max_pending_head_bytes =
        r.size(node["max_pending_head_bytes"], "proxy.max_pending_head_bytes", 0, 16ull << 30);
  }
  if (node["max_decoding_bytes"]) {
    // 0 is allowed: then every compressed answer from a scrubbed host gets 503.
    out.max_decoding_bytes =
        r.size(node["max_decoding_bytes"], "proxy.max_decoding_bytes", 0, 16ull << 30);
  }
  if (node["timeouts"]) {
    read_timeouts(r, node["timeouts"], out.timeouts);
  }
  if (node["pool"]) {
    read_pool(r, node["pool"], out.pool);
  }
  if (const auto url = node["agent_url"]) {
    out.agent_url = read_agent_url(r, url);
  }
  if (const auto hosts = node["route_hosts"]) {
    if (!hosts.IsSequence()) {
      r.fail(hosts, "proxy.route_hosts: expected a list of host names");
    }
    for (const auto& item : hosts) {
      std::string name = r.scalar(item, "proxy.route_hosts");
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (name.find_first_of(":/[] ") != std::string::npos) {
        r.fail(item, "proxy.route_hosts: \"" + name + "\" is not a host name (no port)");
      }
      out.route_hosts.push_back(std::move(name));
    }
  }
}

void read_log(const reader& r, const YAML::Node& node, log_config& out) {
  r.expect_map(node, "log", {"level", "format", "access"});
  if (node["access"]) {
    out.access = r.boolean(node["access"], "log.access");
  }
  if (node["level"]) {
    static constexpr std::array<std::string_view, 7> levels = {"trace", "debug",    "info", "warn",
                                                               "error", "critical", "off"};
    out.level = r.scalar(node["level"], "log.level");
    if (std::find(levels.begin(), levels.end(), out.level) == levels.end()) {
      r.fail(node["level"],
             "log.level: expected one of trace, debug, info, warn, error, "
             "critical, off, got \"" +
                 out.level + "\"");
    }
  }
  if (node["format"]) {
    const std::string format = r.scalar(node["format"], "log.format");
    if (format == "text") {
      out.format = log_format::text;
    } else if (format == "json") {
      out.format = log_format::json;
    } else {
      r.fail(node["format"], "log.format: expected text or json, got \"" + format + "\"");
    }
  }
}

void read_resolve(const reader& r, const YAML::Node& node, std::map<std::string, endpoint>& out) {
  if (!node.IsMap()) {
    r.fail(node, "resolve: expected a mapping of \"host:port\" to \"address:port\"");
  }
  for (const auto& kv : node) {
    const std::string from_text = r.scalar(kv.first, "resolve key");
    auto from = parse_endpoint(from_text, false);
    if (auto* err = std::get_if<std::string>(&from)) {
      r.fail(kv.first, "resolve: " + *err + ", got \"" + from_text + "\"");
    }
    endpoint key = std::get<endpoint>(from);
    std::transform(key.host.begin(), key.host.end(), key.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string canonical = key.to_string();
    if (out.count(canonical) != 0) {
      r.fail(kv.first, "resolve: \"" + from_text + "\" is listed twice");
    }
    out.emplace(canonical, r.address(kv.second, "resolve \"" + from_text + "\"", false));
  }
}

void read_metrics(const reader& r, const YAML::Node& node, metrics_config& out) {
  r.expect_map(node, "metrics", {"listen"});
  if (node["listen"]) {
    out.listen = r.address(node["listen"], "metrics.listen", true);
  }
}

config read_root(const reader& r, const YAML::Node& root) {
  config out;
  if (root.IsNull()) {
    return out;
  }
  r.expect_map(root, "the top level",
               {"proxy", "admin", "metrics", "log", "resolve", "tls", "secrets", "credentials",
                "routes", "egress", "telemetry"});
  if (root["proxy"]) {
    read_proxy(r, root["proxy"], out.proxy);
  }
  if (root["admin"]) {
    read_admin(r, root["admin"], out.admin);
  }
  if (root["metrics"]) {
    read_metrics(r, root["metrics"], out.metrics);
  }
  if (root["log"]) {
    read_log(r, root["log"], out.log);
  }
  if (root["resolve"]) {
    read_resolve(r, root["resolve"], out.resolve);
  }
  if (root["tls"]) {
    read_tls(r, root["tls"], out.tls);
  }
  if (root["secrets"]) {
    read_secrets(r, root["secrets"], out.secrets);
  }
  if (root["credentials"]) {
    read_credentials(r, root["credentials"], out.secrets, out.credentials);
  }
  if (root["routes"]) {
    read_routes(r, root["routes"], out.routes);
  }
  if (root["egress"]) {
    read_egress(r, root["egress"], out.egress);
  }
  if (root["telemetry"]) {
    read_telemetry(r, root["telemetry"], out.telemetry);
  }
  check_admin(r, root, out);
  return out;
}

}  // namespace

config load_string(std::string_view yaml, const std::string& name) {
  check_yaml_shape(yaml, name);
  reader r(name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    throw config_error(name, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (documents.size() > 1) {
    // Only one document would take effect; a second one is a mistake, not a comment.
    r.fail(documents[1], "more than one YAML document; a config is one document");
  }
  return read_root(r, documents.empty() ? YAML::Node() : documents.front());
}

config load_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw config_error(path, 0, 0, "is a directory, not a config file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw config_error(path, 0, 0, "cannot open file");
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    throw config_error(path, 0, 0, "cannot read file");
  }
  check_yaml_shape(text, path);
  parse_in_child(text, path);
  return load_string(text, path);
}

}  // namespace airlock::config
