#pragma once
// What one request was, for its metrics and its access-log line: the mode, when it began,
// where it went, which rule applied, and the byte counts at its start. The connection
// resets it per request; the exchange fills in what it learns.

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/authority.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/observe/labels.hpp"

namespace airlock::proxy {

struct request_record {
  traffic_mode mode = traffic_mode::forward;
  clock::time_point start{};  // when the request head was complete
  bool prefer_json = false;   // the request's Accept asks for JSON
  std::string method;
  std::string authority_text;
  std::string path;
  std::string rule;
  double upstream_ms = -1;
  std::int64_t scrubbed = -1;  // secrets masked in the answer; -1: not a scrubbed host
  std::uint64_t in_mark = 0;   // the connection's byte counts when the request began
  std::uint64_t out_mark = 0;

  // Where the request goes (the path without its query, which can carry keys).
  void target(const authority& auth, std::string_view origin_form);

  // Memory the strings hold (the exchange's copies budget covers them).
  std::size_t capacity() const {
    return method.capacity() + authority_text.capacity() + path.capacity() + rule.capacity();
  }
  // Frees strings over keep bytes.
  void shed(std::size_t keep);
};

}  // namespace airlock::proxy
