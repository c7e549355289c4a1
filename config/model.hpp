#pragma once
// The config model: plain structs with the defaults a sidecar runs with.
// Loading and validation live in load.hpp; nothing here touches YAML or sockets.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

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
  timeouts_config timeouts;
  pool_config pool;
};

enum class log_format { text, json };

struct log_config {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  log_format format = log_format::text;
};

struct config {
  proxy_config proxy;
  log_config log;
  // "host:port" (lowercase host) -> address to dial instead, like curl --resolve.
  std::map<std::string, endpoint> resolve;
};

}  // namespace airlock::config
