// The parts of a credential rule a written rule and a preset entry share.

#include <algorithm>
#include <array>
#include <cctype>

#include "config/request_path.hpp"
#include "config/rule_parts.hpp"

namespace airlock::config {

namespace {

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> read_list(const reader& r, const YAML::Node& node,
                                   const std::string& path) {
  if (!node.IsSequence() || node.size() == 0) {
    r.fail(node, path + ": expected a non-empty list");
  }
  std::vector<std::string> out;
  for (const auto& item : node) {
    out.push_back(r.scalar(item, path));
  }
  return out;
}

void add_unique(std::vector<std::string>& to, std::string item) {
  if (std::find(to.begin(), to.end(), item) == to.end()) {
    to.push_back(std::move(item));
  }
}

void read_strip_fields(const reader& r, const YAML::Node& node, const std::string& path,
                       std::vector<std::string>& out) {
  if (!node.IsSequence() || node.size() == 0) {
    r.fail(node, path + ": expected a non-empty list of header names");
  }
  for (const auto& item : node) {
    const std::string field = r.scalar(item, path);
    if (field.empty() || !std::all_of(field.begin(), field.end(), is_tchar)) {
      r.fail(item, path + ": \"" + field + "\" is not a header name");
    }
    if (is_reserved_field(field)) {
      r.fail(item, path + ": airlock handles \"" + field + "\" itself");
    }
    add_unique(out, lowercase(field));
  }
}

void read_strip_params(const reader& r, const YAML::Node& node, const std::string& path,
                       std::vector<std::string>& out) {
  if (!node.IsSequence() || node.size() == 0) {
    r.fail(node, path + ": expected a non-empty list of parameter names");
  }
  for (const auto& item : node) {
    const std::string name = r.scalar(item, path);
    // Compared with the client's names after percent-decoding: given decoded here.
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u > 0x20 && u != 0x7f && std::string_view("&=#%?+").find(c) == std::string_view::npos;
    });
    if (!ok) {
      r.fail(item, path + ": \"" + name + "\" is not a plain parameter name");
    }
    add_unique(out, name);
  }
}

}  // namespace

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_reserved_field(std::string_view name) {
  static constexpr std::array<std::string_view, 11> reserved = {
      "host",    "content-length",   "transfer-encoding",   "connection", "keep-alive", "te",
      "upgrade", "proxy-connection", "proxy-authorization", "trailer",    "expect"};
  const std::string lower = lowercase(std::string(name));
  return std::find(reserved.begin(), reserved.end(), lower) != reserved.end();
}

std::string read_host_pattern(const reader& r, const YAML::Node& node, const std::string& path) {
  std::string host = lowercase(r.scalar(node, path));
  if (!host.empty() && host.back() == '.') {
    host.pop_back();
  }
  std::string_view name = host;
  if (name.substr(0, 2) == "*.") {
    name.remove_prefix(2);
  }
  const bool ok = !name.empty() && name.front() != '.' && name.back() != '.' &&
                  name.find("..") == std::string_view::npos &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                           c == '-' || c == '_' || c == ':';
                  });
  if (!ok) {
    r.fail(node, path + ": expected a host name, an IP address or \"*.domain\", got \"" +
                     r.scalar(node, path) + "\"");
  }
  return host;
}

std::vector<std::string> read_paths(const reader& r, const YAML::Node& node,
                                    const std::string& path) {
  std::vector<std::string> out = read_list(r, node, path);
  for (const auto& p : out) {
    if (p.empty() || p.front() != '/') {
      r.fail(node, path + ": each prefix starts with \"/\", got \"" + p + "\"");
    }
    if (const auto problem = prefix_problem(p, path_decoding::unreserved); !problem.empty()) {
      r.fail(node, path + ": " + problem + ", got \"" + p + "\"");
    }
  }
  return out;
}

std::vector<std::string> read_methods(const reader& r, const YAML::Node& node,
                                      const std::string& path) {
  std::vector<std::string> out = read_list(r, node, path);
  for (auto& method : out) {
    if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar)) {
      r.fail(node, path + ": \"" + method + "\" is not a method");
    }
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  return out;
}

scrub_options read_scrub(const reader& r, const YAML::Node& node, const std::string& path) {
  scrub_options out;
  if (node.IsScalar()) {
    out.enabled = r.boolean(node, path);
    return out;
  }
  r.expect_map(node, path, {"enabled", "on_unreadable"});
  if (const auto enabled = node["enabled"]) {
    out.enabled = r.boolean(enabled, path + ".enabled");
  }
  if (const auto unreadable = node["on_unreadable"]) {
    const std::string what = r.scalar(unreadable, path + ".on_unreadable");
    if (what != "refuse" && what != "pass") {
      r.fail(unreadable, path + ".on_unreadable: expected refuse or pass, got \"" + what + "\"");
    }
    out.pass_unreadable = what == "pass";
  }
  return out;
}

void read_strip(const reader& r, const YAML::Node& node, const std::string& path,
                strip_options& out) {
  if (node.IsSequence()) {
    read_strip_fields(r, node, path, out.headers);
    return;
  }
  r.expect_map(node, path, {"headers", "query", "defaults"});
  if (const auto defaults = node["defaults"];
      defaults && !r.boolean(defaults, path + ".defaults")) {
    out = strip_options{{}, {}};
  }
  if (const auto headers = node["headers"]) {
    read_strip_fields(r, headers, path + ".headers", out.headers);
  }
  if (const auto query = node["query"]) {
    read_strip_params(r, query, path + ".query", out.query);
  }
}

bool is_declared(const std::vector<secret_source>& secrets, std::string_view name) {
  return std::any_of(secrets.begin(), secrets.end(),
                     [&](const secret_source& s) { return s.name == name; });
}

}  // namespace airlock::config
