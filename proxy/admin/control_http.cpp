#include "proxy/admin/control_http.hpp"

#include "proxy/observe/json.hpp"

namespace airlock::proxy::control {

control_response json_error(int status, std::string_view type, std::string_view detail) {
  control_response r;
  r.status = status;
  r.body = "{\"error\":";
  append_json_string(r.body, type);
  r.body += ",\"detail\":";
  append_json_string(r.body, detail);
  r.body += "}";
  return r;
}

}  // namespace airlock::proxy::control
