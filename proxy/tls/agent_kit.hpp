#pragma once
// The agent's kit: the text of the files in tls.ca.export_dir besides the certificates, so
// that one line (`. DIR/airlock.env`) points every runtime in the agent's container at
// airlock: its CA (ca.env), its proxy listener (proxy.env) and the vendors' own telemetry
// switches (telemetry.env). Pure: strings in, file contents out; export_cas writes them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace airlock::proxy::intercept {

// How the agent reaches airlock's proxy listener.
struct kit_proxy {
  std::string host = "127.0.0.1";  // a name or an IP literal, IPv6 without brackets
  std::uint16_t port = 3128;
  // Other names the agent calls airlock itself by (proxy.route_hosts): requests to them must
  // not go through the proxy, which refuses a request to its own listener (a loop).
  std::vector<std::string> route_hosts;
};

// What the kit says beyond the export directory.
struct kit_settings {
  kit_proxy proxy;
  bool telemetry_optouts = true;  // telemetry.block_vendor_defaults
};

// The kit for an agent reaching a listener bound at bound_host:bound_port: proxy.agent_url
// when set, else the bound address with a wildcard (0.0.0.0, ::) as loopback of its family.
kit_proxy agent_proxy(const config::proxy_config& cfg, std::string_view bound_host,
                      std::uint16_t bound_port);

// "http://host:port", IPv6 in brackets.
std::string proxy_url(const kit_proxy& p);

// NO_PROXY's hosts: loopback (localhost, 127.0.0.1, ::1), then the proxy's host and the route
// hosts, each once, so that reverse routes (http://127.0.0.1:3128/anthropic) go straight to
// airlock rather than through it.
std::vector<std::string> no_proxy_hosts(const kit_proxy& p);

// The kit's file names in the export directory.
inline constexpr const char* trust_store_file = "truststore.p12";
inline constexpr const char* wgetrc_file = "wgetrc";
inline constexpr const char* ca_env_file = "ca.env";
inline constexpr const char* proxy_env_file = "proxy.env";
inline constexpr const char* telemetry_env_file = "telemetry.env";
inline constexpr const char* airlock_env_file = "airlock.env";

// The PKCS#12 trust store's password. It guards nothing (public certificates in a
// world-readable file); the JDK's own cacerts uses the same, and a MAC needs one.
inline constexpr const char* trust_store_password = "changeit";

// s as one sh word: bare when it holds only safe characters, else single-quoted.
std::string shell_word(const std::string& s);

// File contents. dir is the export directory: absolute, normalised, no trailing slash.
// ca.env: `export` lines pointing each runtime's CA variable at ca-bundle.pem (where the
// variable replaces the tool's store) or ca.pem (where it adds to it), WGETRC at wgetrc and
// JAVA_TOOL_OPTIONS (appended to, once) at truststore.p12. A dir JAVA_TOOL_OPTIONS cannot
// carry (it splits on spaces, has no quoting) leaves Java out, with a comment saying so.
std::string ca_env_text(const std::string& dir);
// wgetrc: ca_certificate = the bundle (GnuTLS builds of wget ignore SSL_CERT_FILE).
std::string wgetrc_text(const std::string& dir);
// proxy.env: HTTP(S)_PROXY in both spellings, NO_PROXY likewise, NODE_USE_ENV_PROXY and the
// Java proxy properties (appended to JAVA_TOOL_OPTIONS, once).
std::string proxy_env_text(const kit_proxy& p);
// telemetry.env: the vendors' switches (config/telemetry_optouts.hpp), or only a comment
// when telemetry.block_vendor_defaults is off.
std::string telemetry_env_text(bool optouts);
// airlock.env: sources ca.env, proxy.env and telemetry.env.
std::string airlock_env_text(const std::string& dir);

}  // namespace airlock::proxy::intercept
