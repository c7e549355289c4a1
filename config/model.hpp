#pragma once
// The config model: plain structs with the defaults a sidecar runs with.
// Loading and validation live in load.hpp; nothing here touches YAML or sockets.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace airlock::config {

using duration = std::chrono::milliseconds;

// A host and port to bind or dial. host is an IP literal or name, without brackets.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  // "host:port", with brackets around IPv6 literals.
  std::string to_string() const;
  bool operator==(const endpoint&) const = default;
};

struct timeouts_config {
  duration header{std::chrono::seconds(10)};   // from first byte to the end of a request head
  duration idle{std::chrono::seconds(300)};    // no byte in either direction
  duration connect{std::chrono::seconds(10)};  // resolve + TCP connect to an upstream
  duration drain{std::chrono::seconds(30)};    // SIGTERM: in-flight work may finish this long
};

struct pool_config {
  // Per worker. High enough that every busy client connection can keep its upstream
  // one: a low cap turns steady load into a new upstream connection per request.
  std::size_t max_idle_per_host = 1024;
  duration idle{std::chrono::seconds(60)};  // below the usual 75 s server keep-alive
};

struct proxy_config {
  endpoint listen{"127.0.0.1", 3128};
  unsigned workers = 0;  // 0: one per core
  std::size_t max_connections = 10000;
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_header_count = 100;
  // All connections together: bytes request and response heads may hold beyond each
  // connection's first 16 KiB buffer. A head that needs more gets 503 and the connection
  // closes, so memory stays below max_connections x the per-connection base + this.
  std::size_t max_pending_head_bytes = 32 * 1024 * 1024;
  // All connections together: memory for decoding gzip and deflate answers from scrubbed
  // hosts, which airlock asks for identity and so rarely gets (128 KiB each while it lasts:
  // decoded text, coded bytes, zlib's window). An answer that finds it spent gets 503.
  std::size_t max_decoding_bytes = 16 * 1024 * 1024;
  timeouts_config timeouts;
  pool_config pool;
  // Names clients may use in Host to reach the reverse routes, besides IP literals and
  // localhost (say a compose service name). Any other name is refused: a web page using
  // DNS rebinding would otherwise read API answers made with the workspace's credentials.
  std::vector<std::string> route_hosts;
  // How the agent reaches this listener (proxy.agent_url, "http://airlock:3128"): what
  // proxy.env in tls.ca.export_dir points the agent's tools at. Unset: the bound address,
  // a wildcard one as loopback (an agent in the same pod or network namespace).
  std::optional<endpoint> agent_url;
  // "Via: 1.1 airlock" on forwarded requests and responses (RFC 9110 7.6.3).
  bool via = true;
};

enum class log_format { text, json };

struct log_config {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  log_format format = log_format::text;
  bool access = true;  // one line per request or tunnel, at info
};

// Where the workspace CA comes from and where the agent finds it.
struct tls_config {
  std::string ca_cert_file;  // both empty: an ephemeral CA generated at start
  std::string ca_key_file;
  // The agent's kit: ca.pem, ca-bundle.pem, truststore.p12, wgetrc, ca.env, proxy.env,
  // telemetry.env and airlock.env (proxy/tls/agent_kit.hpp).
  std::string export_dir = "/run/airlock";
  // The ephemeral CA's validity; it is renewed at two thirds of it.
  duration ca_lifetime{std::chrono::hours(7 * 24)};
  std::string upstream_ca_file;  // extra upstream trust; the system store always
};

// The admin API: secrets pushed, status, revoke. A Unix domain socket by default, in a
// directory only airlock's container mounts, callers' UIDs checked (SO_PEERCRED): the
// agent shares the network namespace, so any TCP port is one it can reach or, once
// airlock is gone, bind itself. TCP only when listen is set, and then with a token.
struct admin_config {
  std::string socket = "/run/airlock-admin/admin.sock";  // empty: no socket
  std::vector<std::uint32_t> allow_uids;                 // besides airlock's own effective UID
  std::optional<endpoint> listen;  // TCP, an address literal; needs token_file
  std::string token_file;
  // Loudly named opt-out: a TCP admin listener without a token while secrets exist.
  bool insecure_tcp_without_token = false;
};

// /metrics, /healthz, /readyz: no secrets, no token.
struct metrics_config {
  endpoint listen{"127.0.0.1", 9464};
};

// Text with {{secret}} references, split at load so rendering never parses.
struct value_template {
  struct part {
    bool secret = false;
    std::string text;  // literal text, or the secret's name
  };
  std::vector<part> parts;
};

// A request airlock sends when it revokes a secret, so the issuer kills it too (say
// DELETE https://api.github.com/installation/token), with the secret in its headers.
struct revoke_hook {
  std::string method = "POST";
  std::string url;  // as written, for the receipt
  bool tls = true;
  std::string host;
  bool ipv6 = false;
  std::uint16_t port = 443;
  std::string path = "/";
  std::vector<std::pair<std::string, value_template>> headers;
};

// A secret's origin. Values never live in the config: only where to get them.
struct secret_source {
  // push: delivered through the admin API (PUT /v1/secrets/NAME) by the orchestrator.
  enum class kind { file, env, push };
  std::string name;
  kind from = kind::file;
  std::string location;  // file path or environment variable name; empty for push
  bool required = true;
  std::optional<revoke_hook> revoke;
};

// Which requests a rule applies to. host is lowercase; a leading "*." matches any
// subdomain (not the bare suffix itself).
struct request_match {
  std::string host;
  std::uint16_t port = 0;  // 0: 443 (and plain http to 80, which goes up as https to 443)
  // Empty: any path. In normal form (config/request_path.hpp), compared by segment.
  std::vector<std::string> path_prefixes;
  std::vector<std::string> methods;  // uppercase; empty: any method
};

struct basic_auth_action {
  std::string username;
  value_template password;
};

// Response scrubbing for the hosts a rule names (issue 18): on by default.
struct scrub_options {
  bool enabled = true;
  // A response in an encoding airlock cannot decode (br, zstd) goes through unscanned
  // instead of being answered 502. Only when every scrubbing rule for the host says so.
  bool pass_unreadable = false;
};

// Where an agent's client may carry its own credential on a request a rule injects into:
// removed, besides the fields and parameters the rule sets, so the upstream sees one
// credential, airlock's, and never the agent's placeholder beside it (issue 19: the Node
// Anthropic SDK sends "Authorization: Bearer" where the rule sets x-api-key). Field names
// lowercase, compared as rule fields are (case, "_" for "-"); parameter names compared
// after percent-decoding, in any case.
struct strip_options {
  std::vector<std::string> headers{"authorization", "x-api-key", "api-key", "x-goog-api-key"};
  std::vector<std::string> query;
};

struct credential_rule {
  std::string name;  // for logs and metrics; defaults to the host pattern
  request_match match;
  std::vector<std::pair<std::string, value_template>> headers;  // field name, value
  std::optional<basic_auth_action> basic_auth;                  // sets Authorization
  std::vector<std::pair<std::string, value_template>> query;    // parameter, value
  strip_options strip;
  scrub_options scrub;
};

// A reverse route, for clients that take a base URL instead of a proxy:
// http://airlock/PREFIX/rest goes to UPSTREAM_BASE/rest, credentials injected as for
// any request to that upstream.
struct route {
  std::string prefix;  // "/anthropic": segments, no trailing "/"
  bool tls = true;     // https:// upstream
  std::string host;    // lowercase, IPv6 without brackets
  bool ipv6 = false;
  std::uint16_t port = 443;
  std::string base_path;  // "" or "/v1", no trailing "/": put in front of the rest
};

// A host pattern with an optional port: "api.example.com", "*.example.com" (any
// subdomain, not the suffix itself), "example.com:8443". host is lowercase, IPv4 literals
// in dotted-quad form, IPv6 without brackets.
struct host_pattern {
  std::string host;
  std::uint16_t port = 0;  // 0: any port
  std::string text;        // as written, for logs and answers
};

// An address range allowed although private ("10.0.0.0/8", "fd00::/8").
struct cidr {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 in the first four
  unsigned prefix = 0;
  std::string text;
};

struct egress_config {
  bool default_allow = true;        // default: allow | deny
  std::vector<host_pattern> allow;  // with default deny: what may go out
  std::vector<host_pattern> deny;   // refused whatever the default
  bool block_private_addresses = true;
  std::vector<cidr> allow_private;  // private ranges reachable anyway
  bool report_only = false;         // allow/deny decisions logged and counted, not enforced
};

// One telemetry endpoint: a host pattern, and a path prefix where the host also
// carries real API traffic (then airlock intercepts the host to see the path:
// proxy/policy/interception.hpp).
struct telemetry_entry {
  std::string name;
  host_pattern host;
  std::string path_prefix;  // empty: the whole host; else in normal form, any case
  std::string source;       // where we learnt of it, for the docs
};

struct telemetry_config {
  bool block_vendor_defaults = true;
  std::vector<telemetry_entry> block;  // added to the defaults
  std::vector<std::string> unblock;    // default entries switched off by name
  int answer_status = 204;             // for a blocked request (CONNECT always gets 403)
};

struct config {
  proxy_config proxy;
  admin_config admin;
  metrics_config metrics;
  log_config log;
  tls_config tls;
  std::vector<secret_source> secrets;
  std::vector<credential_rule> credentials;  // first match wins, in file order
  std::vector<route> routes;                 // the longest matching prefix wins
  egress_config egress;
  telemetry_config telemetry;
  // "host:port" (lowercase host) -> address to dial instead, like curl --resolve.
  std::map<std::string, endpoint> resolve;
};

}  // namespace airlock::config
