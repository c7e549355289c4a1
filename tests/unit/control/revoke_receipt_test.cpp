// `airlock revoke` exits 0 only on a receipt that proves the wipe: whatever else answers
// on the admin address (the agent, once airlock is gone) gets a non-zero exit.

#include <gtest/gtest.h>

#include "proxy/admin/admin_client.hpp"
#include "proxy/admin/revoker.hpp"

namespace airlock::proxy::control {
namespace {

TEST(receipt_problem, a_real_receipt_passes) {
  secrets::store::revoke_receipt r;
  r.names = {"openai"};
  const auto body = receipt_json(r, {}, revoke_state{"revoked", {}});
  EXPECT_EQ(receipt_problem(200, body), std::nullopt) << body;
}

TEST(receipt_problem, anything_short_of_proof_fails) {
  secrets::store::revoke_receipt r;
  const auto incomplete = receipt_json(r, {}, revoke_state{"revoked", {"openai"}});
  EXPECT_NE(incomplete.find("\"result\":\"incomplete\""), std::string::npos) << incomplete;
  const std::vector<std::pair<int, std::string>> cases = {
      {200, ""},                          // an impostor's empty 200
      {200, "ok"},                        // not JSON
      {200, "[]"},                        // not an object
      {200, "{\"result\":\"revoked\"}"},  // no phase, no list
      {200, "{\"result\":\"revoked\",\"phase\":\"execution\",\"still_present\":[]}"},
      {200, "{\"result\":\"revoked\",\"phase\":\"revoked\"}"},
      {200, "{\"result\":\"revoked\",\"phase\":\"revoked\",\"still_present\":{}}"},
      {200, incomplete},
      {401, receipt_json(r, {}, revoke_state{"revoked", {}})},
      {503, "{\"error\":\"too_many_connections\"}"},
  };
  for (const auto& [status, body] : cases) {
    EXPECT_NE(receipt_problem(status, body), std::nullopt) << status << " " << body;
  }
}

TEST(receipt_json, every_field_in_order_with_names_escaped) {
  secrets::store::revoke_receipt r;
  r.names = {"openai", "we\"ird"};
  r.at = std::chrono::system_clock::time_point(std::chrono::seconds(1795305600));
  const std::vector<hook_result> hooks = {
      {"openai", "DELETE", "https://issuer.test/v1/token", 204, ""},
      {"other", "POST", "https://127.0.0.1:1/t", 0, "cannot connect to 127.0.0.1:1: refused"}};
  EXPECT_EQ(receipt_json(r, hooks, revoke_state{"revoked", {}, 3, false}),
            "{\"result\":\"revoked\",\"phase\":\"revoked\",\"already_revoked\":false,"
            "\"time\":\"2026-11-22T00:00:00Z\",\"revoked\":[\"openai\",\"we\\\"ird\"],"
            "\"still_present\":[],\"connections_closed\":3,\"connections_pending\":false,"
            "\"hooks\":[{\"secret\":\"openai\",\"method\":\"DELETE\",\"url\":"
            "\"https://issuer.test/v1/token\",\"status\":204},{\"secret\":\"other\",\"method\":"
            "\"POST\",\"url\":\"https://127.0.0.1:1/t\",\"status\":null,\"error\":"
            "\"cannot connect to 127.0.0.1:1: refused\"}]}");
  r.already = true;
  EXPECT_EQ(receipt_json(r, {}, revoke_state{"execution", {"openai"}, 0, true}),
            "{\"result\":\"incomplete\",\"phase\":\"execution\",\"already_revoked\":true,"
            "\"time\":\"2026-11-22T00:00:00Z\",\"revoked\":[\"openai\",\"we\\\"ird\"],"
            "\"still_present\":[\"openai\"],\"connections_closed\":0,"
            "\"connections_pending\":true,\"hooks\":[]}");
}

}  // namespace
}  // namespace airlock::proxy::control
