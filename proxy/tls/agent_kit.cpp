// The agent's kit, proxy side: proxy.env, telemetry.env, airlock.env and what they share.
// ca.env and wgetrc are in agent_kit_ca.cpp.

#include <algorithm>

#include "config/telemetry_optouts.hpp"
#include "proxy/tls/agent_kit.hpp"
#include "proxy/tls/agent_kit_text.hpp"

namespace airlock::proxy::intercept {

namespace {

// The address airlock is bound to as the agent dials it: a wildcard is loopback of its family
// (the agent beside airlock, same pod or network namespace).
std::string reachable(std::string_view bound_host) {
  if (bound_host == "0.0.0.0") {
    return "127.0.0.1";
  }
  if (bound_host == "::") {
    return "::1";
  }
  return std::string(bound_host);
}

bool is_ipv6(const std::string& host) {
  return host.find(':') != std::string::npos;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += separator;
    }
    out += item;
  }
  return out;
}

// Java's http.nonProxyHosts: its default (localhost|127.*|[::1]) and the other names.
std::string java_non_proxy_hosts(const kit_proxy& p) {
  std::vector<std::string> hosts{"localhost", "127.*", "[::1]"};
  for (const auto& host : no_proxy_hosts(p)) {
    if (host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0) {
      continue;
    }
    hosts.push_back(is_ipv6(host) ? "[" + host + "]" : host);
  }
  return join(hosts, "|");
}

}  // namespace

kit_proxy agent_proxy(const config::proxy_config& cfg, std::string_view bound_host,
                      std::uint16_t bound_port) {
  kit_proxy out;
  if (cfg.agent_url) {
    out.host = cfg.agent_url->host;
    out.port = cfg.agent_url->port;
  } else {
    out.host = reachable(bound_host);
    out.port = bound_port;
  }
  out.route_hosts = cfg.route_hosts;
  return out;
}

std::string proxy_url(const kit_proxy& p) {
  const std::string host = is_ipv6(p.host) ? "[" + p.host + "]" : p.host;
  return "http://" + host + ":" + std::to_string(p.port);
}

std::vector<std::string> no_proxy_hosts(const kit_proxy& p) {
  std::vector<std::string> out{"localhost", "127.0.0.1", "::1"};
  const auto add = [&out](const std::string& host) {
    if (std::find(out.begin(), out.end(), host) == out.end()) {
      out.push_back(host);
    }
  };
  add(p.host);
  for (const auto& host : p.route_hosts) {
    add(host);
  }
  return out;
}

std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789/._-+,:@%") == std::string::npos;
  if (plain) {
    return s;
  }
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

bool java_option_safe(const std::string& s) {
  return !s.empty() && s.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789/._-+,:@%=|*[]") == std::string::npos;
}

std::string append_java_options(const std::vector<std::string>& options) {
  const std::string all = join(options, " ");
  // Matched as a whole word, so sourcing the file twice appends nothing the second time.
  return "case \" ${JAVA_TOOL_OPTIONS-} \" in\n  *\" " + options.front() +
         " \"*) ;;\n  *) export JAVA_TOOL_OPTIONS=\"${JAVA_TOOL_OPTIONS:+$JAVA_TOOL_OPTIONS }" +
         all + "\" ;;\nesac\n";
}

std::string proxy_env_text(const kit_proxy& p) {
  const std::string url = shell_word(proxy_url(p));
  const std::string no_proxy = shell_word(join(no_proxy_hosts(p), ","));
  std::string out =
      "# airlock's proxy listener for the agent's tools. Written by airlock; sourced by\n"
      "# airlock.env beside it.\n"
      "# Both spellings: curl takes only the lowercase http_proxy, some tools only uppercase.\n";
  for (const char* var : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) {
    out += std::string("export ") + var + "=" + url + "\n";
  }
  out +=
      "# Straight to airlock, not through it: loopback and the names airlock answers as\n"
      "# itself. A reverse route is airlock's own listener, and a proxied request to that is\n"
      "# refused as a loop: " +
      proxy_url(p) +
      "/PREFIX must go direct.\n"
      "export NO_PROXY=" +
      no_proxy + "\nexport no_proxy=" + no_proxy +
      "\n"
      "# No ALL_PROXY: curl would send every other protocol through an HTTP proxy, and some\n"
      "# libraries read it as a SOCKS proxy.\n"
      "# Node >= 24 and 22.21: fetch and https take the variables above only with this\n"
      "# (nodejs.org/api/cli.html NODE_USE_ENV_PROXY). Node 20 ignores it and every proxy\n"
      "# variable: use a reverse route there (ANTHROPIC_BASE_URL=" +
      proxy_url(p) +
      "/anthropic).\n"
      "export NODE_USE_ENV_PROXY=1\n";
  const std::string port = std::to_string(p.port);
  const std::vector<std::string> java{"-Dhttps.proxyHost=" + p.host, "-Dhttps.proxyPort=" + port,
                                      "-Dhttp.proxyHost=" + p.host, "-Dhttp.proxyPort=" + port,
                                      "-Dhttp.nonProxyHosts=" + java_non_proxy_hosts(p)};
  const bool safe = std::all_of(java.begin(), java.end(), java_option_safe);
  out +=
      "# Java reads no proxy variable: the networking properties (java.net \"Networking\n"
      "# Properties\"; HttpClient and HttpURLConnection use them), added to JAVA_TOOL_OPTIONS.\n";
  out += safe ? append_java_options(java) : "# (left out: the proxy host cannot go there)\n";
  return out;
}

std::string telemetry_env_text(bool optouts) {
  std::string out =
      "# The vendors' own telemetry switches, set at the source as well as blocked by airlock\n"
      "# (airlock --print-telemetry-defaults lists each with its source). Written by airlock.\n";
  if (!optouts) {
    return out + "# telemetry.block_vendor_defaults is off: no switch is set.\n";
  }
  for (const auto& o : config::vendor_telemetry_optouts()) {
    out += "# " + o.tool + ": " + o.source + "\n";
    if (!o.variable.empty()) {
      out += "export " + o.variable + "=" + shell_word(o.value) + "\n";
    }
  }
  return out;
}

std::string airlock_env_text(const std::string& dir) {
  std::string out =
      "# One line points the agent's tools at airlock: its CA, its proxy listener and the\n"
      "# vendors' telemetry switches. Written by airlock.\n";
  for (const char* file : {ca_env_file, proxy_env_file, telemetry_env_file}) {
    out += ". " + shell_word(dir + "/" + file) + "\n";
  }
  return out;
}

}  // namespace airlock::proxy::intercept
