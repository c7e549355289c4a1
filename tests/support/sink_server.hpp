#pragma once
// An upstream that reads request bodies (Content-Length or chunked, any size) with
// Beast's parser, an implementation independent of airlock's, and answers with
// what it got: "bytes=N fnv1a=HEX chunked=0|1\n". Bodies are hashed as they
// stream, never held, so 100 MB uploads cost no memory here either.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/loopback_server.hpp"

namespace airlock::test {

struct sink_options {
  bool send_continue = true;  // answer "Expect: 100-continue" with 100 before reading
};

struct sink_result {
  std::string method;
  std::string target;
  std::uint64_t bytes = 0;
  std::uint64_t fnv1a = 0;
  bool chunked = false;
  bool expect_continue = false;
  bool complete = false;  // the body ended where its framing said
};

class sink_server {
 public:
  explicit sink_server(sink_options opts = {});

  // Closes the listener and every connection now (the destructor does it too).
  void stop() { server_.stop(); }

  std::uint16_t port() const { return server_.port(); }
  std::string url(std::string_view path = "/") const { return server_.url(path); }
  std::size_t connections() const { return server_.connections_accepted(); }

  // One entry per request whose head arrived, in order.
  std::vector<sink_result> results() const;

 private:
  asio::awaitable<void> serve(tcp::socket sock);

  sink_options opts_;
  mutable std::mutex mutex_;
  std::vector<sink_result> results_;
  loopback_server server_;  // last: stops before the state above goes away
};

}  // namespace airlock::test
