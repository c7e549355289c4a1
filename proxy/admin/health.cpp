#include "proxy/admin/health.hpp"

#include "proxy/observe/json.hpp"

namespace airlock::proxy::control {

control_response handle_health(const control_request& req, const secrets::store& store) {
  if (req.method != "GET" && req.method != "HEAD") {
    auto r = json_error(405, "method_not_allowed", "this endpoint takes GET");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (req.target == "/healthz") {
    control_response r;
    r.body = "{\"status\":\"ok\"}";
    return r;
  }
  if (req.target == "/readyz") {
    const secrets::phase phase = store.current_phase();
    control_response r;
    r.status = phase == secrets::phase::execution ? 200 : 503;
    r.body = phase == secrets::phase::execution ? "{\"ready\":true" : "{\"ready\":false";
    r.body += ",\"phase\":";
    append_json_string(r.body, secrets::phase_name(phase));
    if (phase == secrets::phase::setup) {
      r.body += ",\"missing\":[";
      bool first = true;
      for (const auto& name : store.missing_required()) {
        if (!first) {
          r.body += ',';
        }
        first = false;
        append_json_string(r.body, name);
      }
      r.body += ']';
    }
    r.body += '}';
    return r;
  }
  return json_error(404, "not_found", "endpoints: /metrics, /healthz, /readyz");
}

}  // namespace airlock::proxy::control
