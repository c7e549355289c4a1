#pragma once
// The access log: one line per request or tunnel, text or JSON like the rest of the log.
// It names the destination and the path without its query (which can carry keys), and
// never a header value: no secret, placeholder, Authorization or Cookie can appear.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/model.hpp"

namespace airlock::proxy {

struct access_entry {
  std::string_view client;  // "127.0.0.1:50312"
  std::string_view mode;    // forward, tunnel, intercept, route
  std::string_view method;
  std::string_view authority;  // "api.anthropic.com:443"
  std::string_view path;       // without the query
  int status = 0;
  std::uint64_t bytes_in = 0;   // from the client
  std::uint64_t bytes_out = 0;  // to the client
  double ms = 0;                // request head to the end of the answer
  double upstream_ms = -1;      // request head to the upstream's response head; -1: none
  std::string_view rule;        // the credential rule that injected, or the refusing rule
  std::string_view reason;      // why airlock answered itself ("" when the upstream did)
  std::int64_t scrubbed = -1;   // secrets masked in the response; -1: not a scrubbed host
};

// The line, without a trailing newline: key=value pairs (values with spaces or quotes
// quoted and escaped) for text, one JSON object for json.
std::string format_access(const access_entry& e, config::log_format format);

// Sets up the access log (stderr, beside the main log). Off when cfg.access is false.
void setup_access_log(const config::log_config& cfg);
bool access_log_enabled();

// Writes the line (text lines get the main log's time and level prefix). On a thread
// inside an access_batch it is only gathered, and goes out with the batch: one write(2)
// for every line a run of ready handlers produced, not one per request. Never fails;
// a stderr that stays full for a second loses the lines.
void write_access(const access_entry& e);

// Writes this thread's gathered lines now.
void flush_access();

// While one lives on a thread, that thread's lines are gathered; its end flushes them.
class access_batch {
 public:
  access_batch();
  ~access_batch();
  access_batch(const access_batch&) = delete;
  access_batch& operator=(const access_batch&) = delete;
};

}  // namespace airlock::proxy
