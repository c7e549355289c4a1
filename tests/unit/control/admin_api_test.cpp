// The admin API and health endpoints as pure handlers: who may call them, what each
// call does to the store, and that no answer ever carries a secret value.

#include "proxy/admin/admin_api.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "proxy/admin/health.hpp"

namespace airlock::proxy::control {
namespace {

constexpr const char* token = "admin-token-0123456789abcdef";
constexpr const char* value = "sk-PUSHED-5b1e0c77a9";

std::vector<config::secret_source> sources() {
  return {{"openai", config::secret_source::kind::push, "", true, std::nullopt},
          {"extra", config::secret_source::kind::push, "", false, std::nullopt}};
}

// Runs a handler coroutine to its answer, as the control loop would.
control_response run(admin_api& api, const control_request& req) {
  asio::io_context io;
  std::optional<control_response> out;
  asio::co_spawn(io, api.handle(req),
                 [&out](std::exception_ptr, control_response r) { out = std::move(r); });
  io.run();
  return out.value();
}

class admin_api_test : public ::testing::Test {
 protected:
  // What a control connection does with a request: the token checked on the head, then
  // the handler (never reached with a wrong token: the body is not even read).
  control_response call(std::string_view method, std::string_view target, std::string body = {},
                        std::string auth = std::string("Bearer ") + token) {
    body_ = std::move(body);
    if (auto refused = api_.authorise(auth)) {
      return *refused;
    }
    return run(api_,
               control_request{method, target, auth, std::span<char>(body_.data(), body_.size())});
  }

  config::config cfg_ = [] {
    config::config c;
    c.secrets = sources();
    return c;
  }();
  secrets::store store_{cfg_.secrets};
  revoker revoker_{cfg_, store_};
  admin_api api_{store_, secrets::secret_value("admin-token", token), revoker_};
  std::string body_;
};

TEST_F(admin_api_test, push_then_status_then_revoke) {
  auto r = call("GET", "/v1/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"phase\":\"setup\",\"secrets\":["
            "{\"name\":\"openai\",\"source\":\"push\",\"required\":true,\"present\":false,"
            "\"age_seconds\":null},"
            "{\"name\":\"extra\",\"source\":\"push\",\"required\":false,\"present\":false,"
            "\"age_seconds\":null}]}");

  r = call("PUT", "/v1/secrets/openai", value);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"secret\":\"openai\",\"result\":\"stored\",\"phase\":\"execution\"}");
  EXPECT_EQ(body_, std::string(std::strlen(value), '\0'));  // the request body is wiped
  ASSERT_TRUE(store_.get("openai"));
  EXPECT_EQ(store_.get("openai")->reveal(), value);

  r = call("GET", "/v1/status");
  EXPECT_NE(r.body.find("\"phase\":\"execution\""), std::string::npos);
  EXPECT_NE(r.body.find("\"present\":true,\"age_seconds\":0"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(value), std::string::npos);

  r = call("POST", "/v1/revoke");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("{\"result\":\"revoked\",\"phase\":\"revoked\",\"already_revoked\":false,"
                        "\"time\":\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"still_present\":[],\"connections_closed\":0,"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"revoked\":[\"openai\"]"), std::string::npos) << r.body;
  EXPECT_FALSE(store_.get("openai"));

  r = call("POST", "/v1/revoke");  // idempotent: the same receipt, marked as a repeat
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"already_revoked\":true"), std::string::npos);
  EXPECT_NE(r.body.find("\"revoked\":[\"openai\"]"), std::string::npos);

  r = call("PUT", "/v1/secrets/openai", "sk-again");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(body_, std::string(8, '\0'));
  EXPECT_FALSE(store_.get("openai"));
}

TEST_F(admin_api_test, attacker_without_the_token_gets_401_and_changes_nothing) {
  const std::vector<std::string> attempts = {"",
                                             "Bearer wrong-token-0123456789ab",
                                             "Bearer ",
                                             std::string("Basic ") + token,
                                             std::string("bearer ") + token,
                                             std::string("Bearer ") + token + "x"};
  for (const auto& auth : attempts) {
    const auto refused = api_.authorise(auth);
    ASSERT_TRUE(refused) << auth;
    EXPECT_EQ(refused->status, 401) << auth;
    EXPECT_EQ(refused->headers, (std::vector<std::pair<std::string, std::string>>{
                                    {"WWW-Authenticate", "Bearer realm=\"airlock admin\""}}));
    EXPECT_EQ(call("PUT", "/v1/secrets/openai", "sk-attacker", auth).status, 401) << auth;
    EXPECT_EQ(call("POST", "/v1/revoke", {}, auth).status, 401) << auth;
  }
  EXPECT_EQ(api_.auth_failures(), 3 * attempts.size());
  EXPECT_FALSE(store_.get("openai"));
  EXPECT_EQ(store_.current_phase(), secrets::phase::setup);
  EXPECT_EQ(api_.authorise(std::string("Bearer ") + token), std::nullopt);
}

TEST_F(admin_api_test, the_right_token_is_accepted_however_many_guesses_came_first) {
  // An agent sending wrong tokens as fast as it can must not lock the orchestrator out:
  // the failures are counted, and the right token still works at once.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(call("GET", "/v1/status", {}, "Bearer guess").status, 401);
  }
  EXPECT_EQ(call("PUT", "/v1/secrets/openai", value).status, 200);
  EXPECT_EQ(api_.auth_failures(), 1000u);
}

TEST(admin_api_sources, only_push_secrets_take_a_put) {
  config::config cfg;
  cfg.secrets = {
      {"fromfile", config::secret_source::kind::file, "/nonexistent", false, std::nullopt},
      {"fromenv", config::secret_source::kind::env, "AIRLOCK_TEST_UNSET_ENV", false, std::nullopt},
      {"pushed", config::secret_source::kind::push, "", false, std::nullopt}};
  secrets::store store(cfg.secrets);
  revoker revoke(cfg, store);
  admin_api api(store, std::nullopt, revoke);
  for (const char* name : {"fromfile", "fromenv"}) {
    // The attacker's value over the operator's secret: upstream would get the agent's key.
    std::string body = "sk-AGENT-CHOSEN";
    const std::string target = std::string("/v1/secrets/") + name;
    const auto r =
        run(api, control_request{"PUT", target, "", std::span<char>(body.data(), body.size())});
    EXPECT_EQ(r.status, 409) << name;
    EXPECT_NE(r.body.find("not_a_push_secret"), std::string::npos) << r.body;
    EXPECT_EQ(body, std::string(15, '\0'));  // wiped even when refused
    EXPECT_FALSE(store.get(name)) << name;
  }
  std::string body = value;
  EXPECT_EQ(run(api, control_request{"PUT", "/v1/secrets/pushed", "",
                                     std::span<char>(body.data(), body.size())})
                .status,
            200);
}

TEST_F(admin_api_test, unknown_names_methods_and_paths) {
  EXPECT_EQ(call("PUT", "/v1/secrets/nope", "x").status, 404);
  EXPECT_EQ(call("PUT", "/v1/secrets/", "x").status, 404);
  EXPECT_EQ(call("GET", "/v1/secrets/openai").status, 405);  // write-only: no way to read one
  EXPECT_EQ(call("GET", "/v1/revoke").status, 405);
  EXPECT_EQ(call("DELETE", "/v1/status").status, 405);
  EXPECT_EQ(call("GET", "/v2/status").status, 404);
  EXPECT_EQ(call("PUT", "/v1/secrets/openai", "bad\r\nX: 1").status, 400);
  EXPECT_EQ(call("PUT", "/v1/secrets/openai", "").status, 400);
  EXPECT_FALSE(store_.get("openai"));
}

TEST_F(admin_api_test, log_level_changes_at_run_time) {
  auto r = call("PUT", "/v1/log/level", "debug\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"level\":\"debug\"}");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
  EXPECT_EQ(call("PUT", "/v1/log/level", "loud").status, 400);
  EXPECT_EQ(call("GET", "/v1/log/level").status, 405);
  EXPECT_EQ(call("PUT", "/v1/log/level", "info", "Bearer wrong").status, 401);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
  call("PUT", "/v1/log/level", "info");
}

TEST(admin_api_no_token, loopback_without_a_token_needs_no_authorization) {
  config::config cfg;
  cfg.secrets = sources();
  secrets::store store(cfg.secrets);
  revoker revoke(cfg, store);
  admin_api api(store, std::nullopt, revoke);
  EXPECT_EQ(api.authorise(""), std::nullopt);
  std::string body = value;
  const auto r = run(api, control_request{"PUT", "/v1/secrets/openai", "",
                                          std::span<char>(body.data(), body.size())});
  EXPECT_EQ(r.status, 200);
}

TEST(health, readyz_follows_the_phase) {
  secrets::store store(sources());
  const control_request ready{"GET", "/readyz", "", {}};
  auto r = handle_health(ready, store);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "{\"ready\":false,\"phase\":\"setup\",\"missing\":[\"openai\"]}");
  std::string v = value;
  store.put("openai", std::span<char>(v.data(), v.size()));
  r = handle_health(ready, store);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"ready\":true,\"phase\":\"execution\"}");
  store.revoke();
  r = handle_health(ready, store);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "{\"ready\":false,\"phase\":\"revoked\"}");
  EXPECT_EQ(handle_health({"GET", "/healthz", "", {}}, store).status, 200);
  EXPECT_EQ(handle_health({"GET", "/healthz", "", {}}, store).body, "{\"status\":\"ok\"}");
  EXPECT_EQ(handle_health({"POST", "/healthz", "", {}}, store).status, 405);
  EXPECT_EQ(handle_health({"GET", "/metrics-nope", "", {}}, store).status, 404);
}

TEST(json_error, type_and_detail_escaped) {
  const auto r = json_error(409, "not_a_push_secret", "secret \"x\"\ncomes from file");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body,
            "{\"error\":\"not_a_push_secret\",\"detail\":\"secret \\\"x\\\"\\ncomes from "
            "file\"}");
}

TEST(utc_timestamp, formats_iso8601_utc) {
  EXPECT_EQ(utc_timestamp(std::chrono::system_clock::time_point(std::chrono::seconds(1795305600))),
            "2026-11-22T00:00:00Z");
}

}  // namespace
}  // namespace airlock::proxy::control
