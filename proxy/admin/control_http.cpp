#include "proxy/admin/control_http.hpp"

#include "proxy/observe/json.hpp"

namespace airlock::proxy::control {

control_response json_error(int status, std::string_view type, std::string_view detail) {
  control_response r;
  r.status = status;
  json_writer w(r.body);
  w.begin_object();
  w.field("error", type);
  w.field("detail", detail);
  w.end_object();
  return r;
}

}  // namespace airlock::proxy::control
