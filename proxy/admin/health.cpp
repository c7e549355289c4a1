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
    json_writer w(r.body);
    w.begin_object();
    w.field("status", "ok");
    w.end_object();
    return r;
  }
  if (req.target == "/readyz") {
    const secrets::phase phase = store.current_phase();
    control_response r;
    r.status = phase == secrets::phase::execution ? 200 : 503;
    json_writer w(r.body);
    w.begin_object();
    w.field("ready", phase == secrets::phase::execution);
    w.field("phase", secrets::phase_name(phase));
    if (phase == secrets::phase::setup) {
      w.key("missing");
      w.begin_array();
      for (const auto& name : store.missing_required()) {
        w.value(name);
      }
      w.end_array();
    }
    w.end_object();
    return r;
  }
  return json_error(404, "not_found", "endpoints: /metrics, /healthz, /readyz");
}

}  // namespace airlock::proxy::control
