#pragma once
// The base of the response scrubbing tests (issue 18): airlock with credential rules for
// scripted HTTPS upstreams on localhost that answer with bytes the test chooses (forms of the
// injected secret, split across writes, compressed, framed as a stream or as WebSocket
// frames), and what the agent must get instead, computed by the reference scrubber
// (tests/support/scrub_reference.hpp), which is written apart from the code under test.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {

// The secret the scrubbing tests inject, from SCRUB_KEY: long enough for its base64 and hex
// forms to count, with bytes that percent-, form- and JSON-encoding each spell their own way.
inline constexpr const char* scrub_secret = "sk-SCRUB/4e9+a1=c&7d 2f";
// A second one (OTHER_KEY), for a second rule.
inline constexpr const char* other_secret = "ot-OTHER-5b3c81d9e2a7";
// The secrets: section both come from.
inline constexpr const char* scrub_secrets_yaml =
    "  key: { env: SCRUB_KEY }\n  other: { env: OTHER_KEY }\n";

// Every spelling of secret the scrubber must catch: those common encoders write
// (concrete_spellings) and mixtures of case and escapes no single encoder writes.
std::vector<std::string> spellings_of(std::string_view secret);

// body as airlock must relay it: every form of every value masked with '*'. occurrences:
// how many replacements the scrubber counts.
std::string masked(std::string_view body, const std::vector<std::string>& values,
                   std::size_t* occurrences = nullptr);

// The spellings of secret found in text, for failure messages; empty when none.
std::string leaked(std::string_view text, std::string_view secret);

// A chunked body of these pieces, one chunk each (empty pieces skipped), then the last chunk
// with the given trailer lines (each ending in CRLF).
std::string chunked(const std::vector<std::string>& pieces, std::string_view trailers = {});
// One chunk's framing around data.
std::string chunk(std::string_view data);
// The data of a whole chunked body (trailers skipped).
std::string dechunk(std::string_view body);

// "HTTP/1.1 200 OK", the fields (each ending in CRLF), Content-Length, the body.
std::string sized_response(std::string_view body,
                           std::string_view fields = "Content-Type: text/plain\r\n");

// zlib's three framings of deflate: gzip (RFC 1952), zlib (RFC 1950), raw (RFC 1951).
enum class zformat { gzip, zlib, raw };
std::string compress(std::string_view data, zformat format);
// Every decoding of data that succeeds (gzip members one after another), and the decodings
// of those, a few levels deep: what a client could get out of bytes it was given.
std::vector<std::string> decodings(std::string_view data);

// A WebSocket frame (RFC 6455 5.2).
struct ws_frame {
  bool fin = true;
  bool rsv1 = false;
  int opcode = 1;  // 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong
  std::string payload;
};
// The frame's bytes; masked as a client's frames must be.
std::string ws_encode(const ws_frame& f, bool masked_frame = false);
// Takes the complete frames off the front of data (server frames, unmasked or masked).
std::vector<ws_frame> ws_take_frames(std::string& data);

using respond_fn = std::function<std::vector<std::string>(const std::string& request)>;

// prefix followed by i in decimal ("/case/" and 7 make "/case/7").
std::string numbered(std::string_view prefix, std::size_t i);

// The path of a request head ("/a?b" from "GET /a?b HTTP/1.1").
std::string request_target(std::string_view request);

class scrub_test : public intercept_test {
 protected:
  // An upstream on localhost writing each response as respond's parts, gap apart.
  std::unique_ptr<tls_echo_server> start_scripted(respond_fn respond,
                                                  std::chrono::milliseconds gap = {},
                                                  bool close_after = false);
  // An upstream answering every request with one fixed response.
  std::unique_ptr<tls_echo_server> start_fixed(const std::string& response);

  // A rule named `name` for localhost:port setting x-api-key from {{key}}, with more keys
  // (", scrub: false") inside its braces.
  static std::string key_rule(const std::string& name, std::uint16_t port,
                              const std::string& more = "");

  // airlock with scrub_secrets_yaml and these rules.
  airlock_process& start_scrubbing(const std::string& rules, airlock_settings settings = {});

  // One GET inside an open tunnel to localhost:port; the response, nullopt when none came.
  static std::optional<http_response> get(raw_client& tunnel, std::uint16_t port,
                                          const std::string& path, const std::string& fields = "");

  // airlock_scrubbed_total for a rule (0 before it has a sample).
  double scrubbed_total(const std::string& rule);
};

}  // namespace airlock::test
