// The secret lifecycle driven the way an orchestrator drives it: push through the
// admin API, requests injected, rotation (push again, or the file changes), revoke
// (admin API, `airlock revoke`, SIGTERM), and what is refused once revoked.

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

constexpr const char* admin_token = "tok-ADMIN-3f9c2a61d8e04b7a";
constexpr const char* pushed = "sk-PUSHED-a81f3c0e9d";
constexpr const char* rotated = "sk-ROTATED-47be21d6f0";

// For the test upstream on port (a rule without port: is for 443 only).
std::string bearer_rule(std::uint16_t port) {
  return "  - { name: openai-api, host: localhost, port: " + std::to_string(port) +
         ", headers: { Authorization: \"Bearer {{openai}}\" } }\n";
}

class lifecycle_test : public intercept_test {
 protected:
  airlock_process& start(const tls_echo_server& up, const std::string& secrets,
                         std::map<std::string, std::string> env = {}) {
    write_file(scratch("admin-token"), std::string(admin_token) + "\n");
    airlock_settings settings;
    settings.admin_token_file = scratch("admin-token").string();
    return start_intercepting(secrets, bearer_rule(up.port()), std::move(env), settings);
  }

  // curl straight at the admin (or metrics) listener; "STATUS\nBODY".
  fetched admin(std::vector<std::string> args, const std::string& path,
                const std::string& token = admin_token, bool metrics = false) {
    if (!token.empty()) {
      args.insert(args.begin(), {"-H", "Authorization: Bearer " + token});
    }
    const auto port = metrics ? airlock().metrics_port() : airlock().admin_port();
    args.push_back("http://127.0.0.1:" + std::to_string(port) + path);
    return fetch_direct(std::move(args));
  }

  fetched push(const std::string& name, const std::string& value,
               const std::string& token = admin_token) {
    return admin({"-X", "PUT", "--data-binary", value}, "/v1/secrets/" + name, token);
  }

  fetched readyz() { return admin({}, "/readyz", "", true); }

  // Everything the agent's side and the logs could show, for leak checks.
  std::string seen_;
};

TEST_F(lifecycle_test, PushInjectRotateRevoke) {
  auto up = start_upstream();
  start(*up, "  openai: { push: true, required: true }\n");

  // setup: not ready, and a request that needs the secret is told which one is missing.
  auto ready = readyz();
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "{\"ready\":false,\"phase\":\"setup\",\"missing\":[\"openai\"]}\n");
  auto r = fetch({https_url(*up, "/v1/chat")});
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("\"secret\":\"openai\""), std::string::npos) << r.body;
  EXPECT_EQ(up->requests().size(), 0u);

  // execution: pushed, ready, injected.
  auto p = push("openai", pushed);
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.body, "{\"secret\":\"openai\",\"result\":\"stored\",\"phase\":\"execution\"}\n");
  EXPECT_EQ(readyz().status, 200);
  r = fetch({"-H", "Authorization: Bearer placeholder", https_url(*up, "/v1/chat")});
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "authorization"),
            strings{std::string("Bearer ") + pushed});

  // rotation: the next request carries the new value.
  ASSERT_EQ(push("openai", rotated).status, 200);
  r = fetch({https_url(*up, "/v1/chat")});
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(up->requests().size(), 2u);
  EXPECT_EQ(field_values(up->requests()[1], "authorization"),
            strings{std::string("Bearer ") + rotated});

  // revoked: a receipt, then 403 for credential hosts and 409 for pushes, for good.
  auto receipt = admin({"-X", "POST"}, "/v1/revoke");
  EXPECT_EQ(receipt.status, 200);
  EXPECT_NE(receipt.body.find("\"revoked\":[\"openai\"]"), std::string::npos) << receipt.body;
  r = fetch({"-i", https_url(*up, "/v1/chat")});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("credentials_revoked"), std::string::npos) << r.body;
  EXPECT_EQ(up->requests().size(), 2u);
  EXPECT_EQ(push("openai", pushed).status, 409);
  EXPECT_EQ(fetch({https_url(*up, "/v1/chat")}).status, 403);
  ready = readyz();
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "{\"ready\":false,\"phase\":\"revoked\"}\n");

  const auto status = admin({}, "/v1/status");
  EXPECT_NE(status.body.find("\"phase\":\"revoked\""), std::string::npos) << status.body;
  // No answer and no log line carries a value.
  const std::string everything = status.body + receipt.body + r.body + airlock_output();
  for (const char* secret : {pushed, rotated, admin_token}) {
    EXPECT_EQ(count_of(everything, secret), 0u) << secret;
  }
}

TEST_F(lifecycle_test, AttackerWithoutTheTokenGets401AndChangesNothing) {
  auto up = start_upstream();
  start(*up, "  openai: { push: true }\n");
  for (const std::string token : {"", "tok-ADMIN-wrong-guess-000"}) {
    EXPECT_EQ(push("openai", "sk-attacker", token).status, 401) << token;
    EXPECT_EQ(admin({"-X", "POST"}, "/v1/revoke", token).status, 401);
    EXPECT_EQ(admin({}, "/v1/status", token).status, 401);
  }
  // Nothing was stored, nothing revoked: the real orchestrator still can.
  EXPECT_EQ(readyz().status, 503);
  EXPECT_EQ(push("openai", pushed).status, 200);
  EXPECT_EQ(readyz().status, 200);
  // And the admin API gives no way to read a value back.
  const auto read = admin({}, "/v1/secrets/openai");
  EXPECT_EQ(read.status, 405);
  EXPECT_EQ(count_of(read.body, pushed), 0u);
}

TEST_F(lifecycle_test, RotatedFileIsUsedByTheNextRequest) {
  auto up = start_upstream();
  const auto key = scratch("openai-key");
  write_file(key, std::string(pushed) + "\n");
  start(*up, "  openai: { file: \"" + key.string() + "\" }\n");
  ASSERT_EQ(fetch({https_url(*up, "/v1/a")}).status, 200);

  // The way a Kubernetes Secret volume updates: a new file renamed over the old one.
  write_file(scratch("openai-key.new"), std::string(rotated) + "\n");
  std::filesystem::rename(scratch("openai-key.new"), key);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(fetch({https_url(*up, "/v1/b")}).status, 200);
    last = up->requests().back();
    if (last.find(rotated) != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(field_values(last, "authorization"), strings{std::string("Bearer ") + rotated});
  EXPECT_NE(airlock_output().find("secret openai rotated"), std::string::npos);
}

TEST_F(lifecycle_test, RevokeCommandForAPreStopHook) {
  auto up = start_upstream();
  start(*up, "  openai: { env: OPENAI_KEY }\n", {{"OPENAI_KEY", pushed}});
  ASSERT_EQ(fetch({https_url(*up, "/v1/a")}).status, 200);

  const auto r = run_command({airlock_binary(), "revoke", "--admin",
                              "http://127.0.0.1:" + std::to_string(airlock().admin_port()),
                              "--token-file", scratch("admin-token").string()},
                             tmp_.path(), "revoke", 10s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"revoked\":[\"openai\"]"), std::string::npos) << r.out;
  EXPECT_EQ(fetch({https_url(*up, "/v1/a")}).status, 403);

  // Without the token the command fails, saying why.
  const auto refused = run_command({airlock_binary(), "revoke", "--admin",
                                    "http://127.0.0.1:" + std::to_string(airlock().admin_port())},
                                   tmp_.path(), "revoke-no-token", 10s);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("401"), std::string::npos) << refused.err;
}

TEST_F(lifecycle_test, SigtermRevokesBeforeItDrains) {
  auto up = start_upstream();
  start(*up, "  openai: { push: true }\n");
  ASSERT_EQ(push("openai", pushed).status, 200);
  airlock().terminate();
  EXPECT_EQ(airlock().wait_exit(10s), 0);
  const std::string log = airlock_output();
  const auto revoked = log.find("revoked 1 secrets");
  const auto draining = log.find("SIGTERM: secrets revoked; draining");
  ASSERT_NE(revoked, std::string::npos) << log;
  ASSERT_NE(draining, std::string::npos) << log;
  EXPECT_LT(revoked, draining) << log;
  EXPECT_LT(draining, log.find("stopped:")) << log;
  EXPECT_EQ(count_of(log, pushed), 0u);
}

TEST_F(lifecycle_test, UnreadableTokenFileStopsTheStart) {
  write_file(scratch("short-token"), "short\n");
  write_file(scratch("airlock.yaml"),
             "admin: { listen: \"127.0.0.1:0\", token_file: \"" + scratch("short-token").string() +
                 "\" }\n" + "proxy: { listen: \"127.0.0.1:0\" }\n" + "tls: { ca: { export_dir: \"" +
                 scratch("ca-export").string() + "\" } }\n" +
                 "metrics: { listen: \"127.0.0.1:0\" }\n");
  const auto r = run_command({airlock_binary(), "--config", scratch("airlock.yaml").string()},
                             tmp_.path(), "bad-token", 10s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("admin.token_file: " + scratch("short-token").string() +
                       " must hold one line of 16 to 4096 bytes"),
            std::string::npos)
      << r.err;
}

// The issuer is told too: the hook goes out after the wipe, with the value it needs, and
// its answer is in the receipt. A hook that fails does not stop the revoke.
TEST_F(lifecycle_test, RevokeHooksReachTheIssuerAndAreInTheReceipt) {
  auto up = start_upstream();
  const std::string dead = "https://127.0.0.1:1/v1/token";
  start(*up,
        "  openai:\n"
        "    push: true\n"
        "    revoke:\n"
        "      method: DELETE\n"
        "      url: " +
            https_url(*up, "/v1/token") +
            "\n"
            "      headers: { Authorization: \"Bearer {{openai}}\" }\n"
            "  other:\n"
            "    push: true\n"
            "    required: false\n"
            "    revoke: { url: \"" +
            dead + "\" }\n");
  ASSERT_EQ(push("openai", pushed).status, 200);

  const auto receipt = admin({"-X", "POST"}, "/v1/revoke");
  EXPECT_EQ(receipt.status, 200);
  EXPECT_NE(receipt.body.find("{\"secret\":\"openai\",\"method\":\"DELETE\",\"url\":\"" +
                              https_url(*up, "/v1/token") + "\",\"status\":200}"),
            std::string::npos)
      << receipt.body;
  EXPECT_NE(receipt.body.find("{\"secret\":\"other\",\"method\":\"POST\",\"url\":\"" + dead +
                              "\",\"status\":null,\"error\":\"connection refused by"),
            std::string::npos)
      << receipt.body;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(request_line(up->requests()[0]), "DELETE /v1/token HTTP/1.1");
  EXPECT_EQ(field_values(up->requests()[0], "authorization"),
            strings{std::string("Bearer ") + pushed});
  EXPECT_EQ(count_of(receipt.body, pushed), 0u);
  // Revoked all the same, and a second revoke does not call the issuer again.
  EXPECT_EQ(fetch({https_url(*up, "/v1/chat")}).status, 403);
  const auto again = admin({"-X", "POST"}, "/v1/revoke");
  EXPECT_NE(again.body.find("\"already_revoked\":true"), std::string::npos);
  EXPECT_EQ(up->requests().size(), 1u);
}

// An issuer that takes 2 s to answer its hook: revoke waits for it on the control loop as a
// coroutine, so meanwhile the kubelet's probes and the orchestrator's admin calls (over the
// socket too) are answered at once, and the receipt still comes with the hook's status.
TEST_F(lifecycle_test, ProbesAndAdminAnswerWhileARevokeHookWaits) {
  auto up = start_upstream();
  tls_echo_server issuer(tls_echo_options{localhost_cert(), [](const std::string&) {
                                            std::this_thread::sleep_for(2s);
                                            return std::string("HTTP/1.1 204 No Content\r\n\r\n");
                                          }});
  start(*up,
        "  openai:\n"
        "    push: true\n"
        "    revoke:\n"
        "      method: DELETE\n"
        "      url: " +
            https_url(issuer, "/v1/token") +
            "\n"
            "      headers: { Authorization: \"Bearer {{openai}}\" }\n");
  ASSERT_EQ(push("openai", pushed).status, 200);

  const auto started = std::chrono::steady_clock::now();
  fetched receipt;
  std::thread revoking([&] { receipt = admin({"-X", "POST"}, "/v1/revoke"); });
  ASSERT_TRUE(issuer.wait_for_requests(1, 5s));
  for (int i = 0; i < 3; ++i) {
    auto at = std::chrono::steady_clock::now();
    EXPECT_EQ(admin({}, "/healthz", "", true).status, 200);
    EXPECT_LT(seconds_since(at), 0.3);
    at = std::chrono::steady_clock::now();
    const auto status = fetch_direct({"--unix-socket", airlock().admin_socket(), "-H",
                                      std::string("Authorization: Bearer ") + admin_token,
                                      "http://airlock/v1/status"});
    EXPECT_EQ(status.status, 200);
    EXPECT_LT(seconds_since(at), 0.3);
    // Wiped the moment the revoke began, before the hook's answer.
    EXPECT_NE(status.body.find("\"phase\":\"revoked\""), std::string::npos) << status.body;
  }
  revoking.join();
  EXPECT_GE(seconds_since(started), 1.9);
  EXPECT_EQ(receipt.status, 200);
  EXPECT_NE(receipt.body.find("{\"result\":\"revoked\",\"phase\":\"revoked\""), std::string::npos)
      << receipt.body;
  EXPECT_NE(receipt.body.find("{\"secret\":\"openai\",\"method\":\"DELETE\",\"url\":\"" +
                              https_url(issuer, "/v1/token") + "\",\"status\":204}"),
            std::string::npos)
      << receipt.body;
  ASSERT_EQ(issuer.requests().size(), 1u);
  EXPECT_EQ(field_values(issuer.requests()[0], "authorization"),
            strings{std::string("Bearer ") + pushed});
}

}  // namespace
}  // namespace airlock::test
