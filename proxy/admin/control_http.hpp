#pragma once
// Requests and responses of airlock's own HTTP endpoints (admin API, health), as plain
// values: the handlers are pure functions of these, the server only moves bytes.

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace airlock::proxy::control {

struct control_request {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;  // the Authorization field, empty when absent
  std::span<char> body;            // writable: a secret pushed in it is wiped after use
};

struct control_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields
};

// {"error":"<type>","detail":"<detail>"}
control_response json_error(int status, std::string_view type, std::string_view detail);

}  // namespace airlock::proxy::control
