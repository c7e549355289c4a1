#include "config/load.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <thread>
#include <vector>

#include "config/parse_values.hpp"
#include "config/sections.hpp"
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

void read_proxy(const reader& r, const YAML::Node& node, proxy_config& out) {
  r.expect_map(node, "proxy",
               {"listen", "workers", "max_connections", "max_header_bytes", "max_header_count",
                "timeouts", "pool", "route_hosts"});
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
  if (node["timeouts"]) {
    read_timeouts(r, node["timeouts"], out.timeouts);
  }
  if (node["pool"]) {
    read_pool(r, node["pool"], out.pool);
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

void read_admin(const reader& r, const YAML::Node& node, admin_config& out) {
  r.expect_map(node, "admin", {"listen", "token_file"});
  if (node["listen"]) {
    out.listen = r.address(node["listen"], "admin.listen", true);
  }
  if (node["token_file"]) {
    out.token_file = r.scalar(node["token_file"], "admin.token_file");
  }
  if (out.token_file.empty() && !is_loopback(out.listen.host)) {
    r.fail(node, "admin: a listener outside loopback needs token_file");
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
  return out;
}

}  // namespace

namespace {

// yaml-cpp 0.7 is not safe on every input, and a config error must be an error, not a
// crash or a hang. Checked before parsing:
// - nesting: yaml-cpp recurses per level, so "[[[[..." or "- - - ..." exhausts the stack;
//   no airlock config nests deeper than a few levels.
// - a "," where a document starts, or right after its first node when that node is only a
//   tag or anchor, a quoted scalar or a flow collection ("!a ,", "\"a\" ,", "[a] ,"):
//   yaml-cpp loops forever on these (found by fuzzing). After a plain scalar a "," is text.
// - control characters: YAML allows none but tab, LF and CR anywhere, not even quoted, and
//   yaml-cpp loops forever on some inputs that start with a NUL (found by fuzzing).
constexpr int max_nesting = 64;

bool is_yaml_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f;
}

// Where the current document's first node stands.
enum class first_node {
  none,    // nothing yet but properties (tags, anchors)
  open,    // a quoted scalar or flow collection is open
  closed,  // it closed, and nothing but space or comments followed yet
  other,   // past it (or it was a plain scalar or a block collection): "," is harmless
};

void check_yaml_shape(std::string_view yaml, const std::string& name) {
  int depth = 0;
  int line = 1;
  int column = 0;
  char quote = 0;
  bool comment = false;
  bool line_start = true;
  bool property = false;  // inside a tag or anchor before the first node
  auto node = first_node::none;
  int dashes = 0;
  for (std::size_t i = 0; i < yaml.size(); ++i) {
    const char c = yaml[i];
    ++column;
    if (is_yaml_control(c)) {
      static constexpr char hex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      throw config_error(name, line, column,
                         std::string("a control character (0x") + hex[u >> 4] + hex[u & 15] +
                             ") cannot appear in a config file");
    }
    if (c == '\n') {
      ++line;
      column = 0;
      comment = false;
      line_start = true;
      property = false;
      dashes = 0;
      if (quote == '\'') {
        quote = 0;
      }
      continue;
    }
    if (comment) {
      continue;
    }
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
        node = (node == first_node::open && depth == 0) ? first_node::closed : node;
      }
      continue;
    }
    if (property) {
      if (c != ' ' && c != '\t' && c != ',') {
        continue;
      }
      property = false;
    }
    if (column == 1 && yaml.substr(i, 3) == "---") {
      node = first_node::none;  // a new document; what follows the marker is its first token
      i += 2;
      column += 2;
      line_start = false;
      continue;
    }
    if (column == 1 && c == '%' && node == first_node::none) {
      comment = true;  // a directive line, before the document
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (line_start && column > 4 * max_nesting) {
        throw config_error(name, line, column, "indented deeper than any config needs");
      }
      continue;
    }
    if (c == '#') {
      comment = true;
      continue;
    }
    if (c == ',' && node == first_node::none) {
      throw config_error(name, line, column, "a YAML document cannot start with \",\"");
    }
    if (c == ',' && node == first_node::closed) {
      throw config_error(name, line, column,
                         "a \",\" cannot follow the document's first value here");
    }
    if (node == first_node::none && (c == '!' || c == '&')) {
      property = true;
      continue;
    }
    if (node == first_node::none) {
      const bool opens = c == '"' || c == '\'' || c == '[' || c == '{';
      node = opens ? first_node::open : first_node::other;
    } else if (node == first_node::closed) {
      node = first_node::other;
    }
    if (line_start && c == '-') {
      if (++dashes > max_nesting) {
        throw config_error(name, line, column, "lists nested deeper than any config needs");
      }
      continue;
    }
    line_start = false;
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > max_nesting) {
        throw config_error(name, line, column, "nested deeper than any config needs");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
      node = (node == first_node::open && depth == 0) ? first_node::closed : node;
    }
  }
}

// yaml-cpp 0.7 still hangs or crashes on some inputs the shape check lets through (see
// tests/fuzz/known-hangs). A file is therefore parsed once in a child first: if that
// child does not finish within parse_deadline, or dies, the file is refused with a
// message instead of hanging or killing airlock. Only at start-up, before any thread.
constexpr auto parse_deadline = std::chrono::seconds(5);

void parse_in_child(const std::string& text, const std::string& name) {
  const pid_t child = ::fork();
  if (child < 0) {
    return;  // no fork: parse in place, as load_string does anyway
  }
  if (child == 0) {
    try {
      (void)YAML::LoadAll(text);
    } catch (...) {
    }
    ::_exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + parse_deadline;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) {
      break;
    }
    if (done < 0) {
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      throw config_error(name, 0, 0,
                         "the YAML parser did not finish with this file (a yaml-cpp defect); "
                         "check for unbalanced quotes or brackets");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw config_error(name, 0, 0,
                       "the YAML parser crashed on this file (a yaml-cpp defect); check for "
                       "unbalanced quotes or brackets");
  }
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
