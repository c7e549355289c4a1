#pragma once
// The base of the interception tests: a test PKI whose leaves the upstreams present,
// airlock started with tls/secrets/credentials sections and its CA exported into the
// scratch directory, curl trusting that CA, and HTTPS upstreams that echo what they got.
//
// Most upstreams are named "localhost" (the system resolver maps it to 127.0.0.1);
// tests that need other names give them a `resolve:` entry and a leaf from mint_leaf.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/test_certs.hpp"
#include "tests/support/tls_echo_server.hpp"

namespace airlock::test {

// Secret values: long and unlike anything else in a log, so a search for them finds
// only a leak.
inline constexpr const char* api_key = "sk-REAL-7c41e9a2d05b83f6";
inline constexpr const char* git_token = "ghp-REAL-94d1c7ab3e6f";
inline constexpr const char* placeholder = "placeholder-from-agent";

// What a curl run got back: the final status and the body (the echo upstream puts the
// request head it received there).
struct fetched {
  int exit_code = -1;
  int status = 0;
  std::string body;
  std::string err;
};

class intercept_test : public proxy_test {
 protected:
  void SetUp() override;

  // The test CA's leaf for localhost and 127.0.0.1.
  cert_pair localhost_cert() const { return {pki_.leaf_cert, pki_.leaf_key}; }
  // An echo upstream presenting cert (default: the localhost leaf).
  std::unique_ptr<tls_echo_server> start_upstream(std::optional<cert_pair> cert = std::nullopt);

  // Where airlock exports its CA (tls.ca.export_dir).
  std::filesystem::path export_dir() const { return scratch("export"); }
  std::filesystem::path airlock_ca() const { return export_dir() / "ca.pem"; }

  // tls: exporting into the scratch directory; the test CA trusted upstream unless
  // trust_test_ca is false (then only the system store, which knows nothing of it).
  std::string tls_yaml(bool trust_test_ca = true) const;

  // Starts airlock with tls_yaml() plus the given secrets: and credentials: bodies
  // (YAML lines, indented by two) and environment.
  airlock_process& start_intercepting(const std::string& secrets, const std::string& credentials,
                                      std::map<std::string, std::string> env = {},
                                      airlock_settings settings = {});

  // curl through airlock, trusting only airlock's exported CA.
  command_result curl_via_ca(std::vector<std::string> args);

  // curl_via_ca reporting the final status apart from the body.
  fetched fetch(std::vector<std::string> args);

  // curl with no proxy (straight at a URL of airlock's own: routes, admin, metrics),
  // reporting the status apart from the body.
  fetched fetch_direct(std::vector<std::string> args);

  // "https://localhost:PORT" + path.
  static std::string https_url(const tls_echo_server& upstream, const std::string& path);

  // A raw client inside an intercepted tunnel to localhost:port: CONNECT answered
  // 200, TLS established against airlock's CA. Fails the test (nullptr) otherwise.
  std::unique_ptr<raw_client> open_tunnel(std::uint16_t port);

  // Everything airlock wrote (stdout and stderr).
  std::string airlock_output() const;

  test_certs pki_;
};

// A curl run made with -w "\n%{http_code}" as status and body.
fetched split_status(const command_result& r);

// The newest request the upstream received (what reached it, with the injected credential;
// the echo a client gets back is scrubbed of it). Fails the test when there is none.
std::string newest_request(const tls_echo_server& upstream);

// How many times needle occurs in haystack.
std::size_t count_of(std::string_view haystack, std::string_view needle);

// A WebSocket upstream's 101 to the test key "dGhlIHNhbXBsZSBub25jZQ==" (RFC 6455 1.3).
inline const std::string websocket_switch =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

// The secrets: line most interception tests use (ANTHROPIC_KEY), and a rule for a test
// upstream on localhost:port setting x-api-key from it (a rule without port: is for 443
// only, and test upstreams listen on free ports).
inline const std::string anthropic_secret = "  anthropic: { env: ANTHROPIC_KEY }\n";
inline std::string x_api_key_rule(std::uint16_t port) {
  return "  - { host: localhost, port: " + std::to_string(port) +
         ", headers: { x-api-key: \"{{anthropic}}\" } }\n";
}

}  // namespace airlock::test
