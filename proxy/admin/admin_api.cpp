#include "proxy/admin/admin_api.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <ctime>

#include "proxy/observe/json.hpp"

namespace airlock::proxy::control {

namespace {

constexpr std::string_view secrets_prefix = "/v1/secrets/";

std::string_view source_name(config::secret_source::kind k) {
  switch (k) {
    case config::secret_source::kind::file:
      return "file";
    case config::secret_source::kind::env:
      return "env";
    case config::secret_source::kind::push:
      return "push";
  }
  return "unknown";
}

control_response method_not_allowed(std::string_view allow) {
  auto r = json_error(405, "method_not_allowed", "this endpoint takes " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

}  // namespace

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

admin_api::admin_api(secrets::store& store, std::optional<secrets::secret_value> token,
                     revoker& revoke)
    : store_(store), token_(std::move(token)), revoker_(revoke) {}

std::optional<control_response> admin_api::authorise(std::string_view authorization) {
  if (!token_) {
    return std::nullopt;
  }
  constexpr std::string_view scheme = "Bearer ";
  const bool ok = authorization.size() > scheme.size() &&
                  authorization.substr(0, scheme.size()) == scheme &&
                  token_->equals_constant_time(authorization.substr(scheme.size()));
  if (ok) {
    return std::nullopt;
  }
  ++auth_failures_;
  auto r = json_error(
      401, "unauthorized",
      authorization.empty() ? "missing Authorization: Bearer <admin token>" : "wrong admin token");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"airlock admin\"");
  return r;
}

awaitable<control_response> admin_api::handle(const control_request& req) {
  // Whatever the answer, a value that came in the body is gone when it leaves.
  struct wipe_on_exit {
    std::span<char> bytes;
    ~wipe_on_exit() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  } wipe{req.body};
  if (req.target.substr(0, secrets_prefix.size()) == secrets_prefix) {
    if (req.method != "PUT") {
      co_return method_not_allowed("PUT");
    }
    co_return put_secret(req.target.substr(secrets_prefix.size()), req.body);
  }
  if (req.target == "/v1/revoke") {
    if (req.method != "POST") {
      co_return method_not_allowed("POST");
    }
    control_response out;
    out.body = co_await revoker_.revoke();
    co_return out;
  }
  if (req.target == "/v1/log/level") {
    if (req.method != "PUT") {
      co_return method_not_allowed("PUT");
    }
    co_return set_log_level(std::string_view(req.body.data(), req.body.size()));
  }
  if (req.target == "/v1/status") {
    if (req.method != "GET" && req.method != "HEAD") {
      co_return method_not_allowed("GET");
    }
    co_return status();
  }
  co_return json_error(404, "not_found",
                       "admin endpoints: PUT /v1/secrets/{name}, POST /v1/revoke, GET /v1/status, "
                       "PUT /v1/log/level");
}

control_response admin_api::put_secret(std::string_view name, std::span<char> body) {
  using result = secrets::store::put_result;
  for (const auto& e : store_.status()) {
    if (e.name == name && e.from != config::secret_source::kind::push) {
      OPENSSL_cleanse(body.data(), body.size());
      return json_error(409, "not_a_push_secret",
                        "secret " + e.name + " comes from " + std::string(source_name(e.from)) +
                            " (set in the config), not from push: its value is not replaced "
                            "through the admin API");
    }
  }
  const result r = store_.put(name, body);  // wipes body whatever happens
  control_response out;
  switch (r) {
    case result::ok:
      spdlog::info("admin: secret {} set ({} phase)", name,
                   secrets::phase_name(store_.current_phase()));
      {
        json_writer w(out.body);
        w.begin_object();
        w.field("secret", name);
        w.field("result", "stored");
        w.field("phase", secrets::phase_name(store_.current_phase()));
        w.end_object();
      }
      return out;
    case result::unknown_name:
      return json_error(404, "unknown_secret",
                        "no secret of that name is declared under secrets: in the config");
    case result::revoked:
      return json_error(409, "revoked", "secrets were revoked; this workspace takes none again");
    case result::invalid_value:
      return json_error(400, "invalid_value",
                        "a secret value is non-empty and holds no CR, LF or NUL");
    case result::no_memory:
      return json_error(503, "no_secure_memory", "the locked secret arena is full");
  }
  return json_error(500, "internal", "unexpected result");
}

control_response admin_api::set_log_level(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  static constexpr std::array<std::string_view, 7> levels = {"trace", "debug",    "info", "warn",
                                                             "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), body) == levels.end()) {
    return json_error(400, "invalid_level",
                      "expected one of trace, debug, info, warn, error, critical, off");
  }
  // The access log keeps its own logger and level: it is switched with log.access.
  spdlog::default_logger()->set_level(spdlog::level::from_str(std::string(body)));
  spdlog::warn("admin: log level set to {}", body);
  control_response out;
  json_writer w(out.body);
  w.begin_object();
  w.field("level", body);
  w.end_object();
  return out;
}

control_response admin_api::status() const {
  const auto now = std::chrono::steady_clock::now();
  control_response out;
  json_writer w(out.body);
  w.begin_object();
  w.field("phase", secrets::phase_name(store_.current_phase()));
  w.key("secrets");
  w.begin_array();
  for (const auto& e : store_.status()) {
    w.begin_object();
    w.field("name", e.name);
    w.field("source", source_name(e.from));
    w.field("required", e.required);
    w.field("present", e.present);
    if (e.set_at) {
      w.field("age_seconds",
              std::chrono::duration_cast<std::chrono::seconds>(now - *e.set_at).count());
    } else {
      w.null_field("age_seconds");
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

}  // namespace airlock::proxy::control
