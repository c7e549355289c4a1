// airlock as an intermediary (RFC 9110 7.6): reflecting methods refused where credentials
// go, Max-Forwards honoured for OPTIONS and TRACE, h2c never relayed, Via added.

#include "proxy/http/intermediary.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/authority.hpp"
#include "proxy/http/message.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/policy/rewrite.hpp"

namespace airlock::proxy::http {
namespace {

TEST(reflects_request, trace_and_its_kin_in_any_case) {
  for (const char* m : {"TRACE", "TRACK", "DEBUG", "trace", "Trace", "track", "debug"}) {
    EXPECT_TRUE(reflects_request(m)) << m;
  }
  for (const char* m : {"GET", "POST", "OPTIONS", "CONNECT", "TRACEX", "TRAC", "XTRACE", ""}) {
    EXPECT_FALSE(reflects_request(m)) << m;
  }
}

TEST(decide_local_answer, reflecting_methods_never_reach_a_credential_destination) {
  using a = local_answer;
  struct row {
    const char* method;
    std::optional<std::uint32_t> max_forwards;
    bool credential;
    local_answer want;
  };
  for (const auto& r : std::vector<row>{
           // The attack: a reflecting method where airlock would inject.
           {"TRACE", std::nullopt, true, a::refuse_reflecting},
           {"TRACE", 5, true, a::refuse_reflecting},
           {"TRACE", 0, true, a::refuse_reflecting},
           {"trace", std::nullopt, true, a::refuse_reflecting},
           {"TRACK", std::nullopt, true, a::refuse_reflecting},
           {"DEBUG", std::nullopt, true, a::refuse_reflecting},
           // Elsewhere nothing secret can come back: relayed, Max-Forwards honoured.
           {"TRACE", std::nullopt, false, a::forward},
           {"TRACE", 1, false, a::forward},
           {"TRACE", 0, false, a::trace_here},
           {"TRACK", std::nullopt, false, a::forward},
           {"OPTIONS", 0, false, a::options_here},
           {"OPTIONS", 0, true, a::options_here},
           {"OPTIONS", 1, true, a::forward},
           {"OPTIONS", std::nullopt, true, a::forward},
           {"GET", std::nullopt, true, a::forward},
           {"POST", std::nullopt, true, a::forward},
       }) {
    EXPECT_EQ(decide_local_answer(r.method, r.max_forwards, r.credential), r.want)
        << r.method << " " << (r.max_forwards ? std::to_string(*r.max_forwards) : "-") << " "
        << r.credential;
  }
}

// parse -> analyze -> write, as the session does.
struct forwarded {
  std::string text;
  request_head head;
  request_info info;
  head_error error;
  std::string out;
  request_head sent;  // out, parsed back

  forwarded(std::string t, bool via) : text(std::move(t)) {
    EXPECT_FALSE(parse_request(text, {}, head));
    error = analyze_request(head, info);
    if (error) {
      return;
    }
    const auto target = parse_absolute_form(head.target);
    EXPECT_TRUE(target);
    write_upstream_request(out, head, info, *target, nullptr, nullptr, via);
    EXPECT_FALSE(parse_request(out, {}, sent)) << out;
  }

  std::vector<std::string_view> values(std::string_view name) const {
    std::vector<std::string_view> v;
    for (const auto& h : sent.headers) {
      if (iequals(h.name, name)) {
        v.push_back(h.value);
      }
    }
    return v;
  }
};

using views = std::vector<std::string_view>;

TEST(max_forwards, options_and_trace_go_up_one_less) {
  for (const char* method : {"OPTIONS", "TRACE"}) {
    const forwarded f(
        std::string(method) + " http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 3\r\n\r\n", false);
    ASSERT_FALSE(f.error) << method;
    EXPECT_EQ(f.info.max_forwards, 3u);
    EXPECT_EQ(f.values("max-forwards"), views{"2"}) << f.out;
  }
  const forwarded last("OPTIONS http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n", false);
  EXPECT_EQ(last.info.max_forwards, 0u);  // the session answers it itself
  const forwarded huge(
      "TRACE http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 99999999999999999999999\r\n\r\n",
      false);
  EXPECT_EQ(huge.info.max_forwards, UINT32_MAX);
  EXPECT_EQ(huge.values("max-forwards"), views{"4294967294"});
  const forwarded none("OPTIONS http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", false);
  EXPECT_FALSE(none.info.max_forwards);
  EXPECT_TRUE(none.values("max-forwards").empty());
}

TEST(max_forwards, other_methods_relay_it_untouched) {
  const forwarded f("GET http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n", false);
  ASSERT_FALSE(f.error);
  EXPECT_FALSE(f.info.max_forwards);
  EXPECT_EQ(f.values("max-forwards"), views{"0"});
  const forwarded bad("POST http://h/ HTTP/1.1\r\nHost: h\r\nMax-Forwards: x\r\n\r\n", false);
  EXPECT_FALSE(bad.error);
}

TEST(max_forwards, duplicate_or_malformed_is_refused_where_it_counts) {
  for (const char* field :
       {"Max-Forwards: 1\r\nMax-Forwards: 1\r\n", "Max-Forwards: \r\n", "Max-Forwards: -1\r\n",
        "Max-Forwards: +1\r\n", "Max-Forwards: 1 2\r\n", "Max-Forwards: 1,2\r\n",
        "Max-Forwards: 0x1\r\n", "Max-Forwards: one\r\n"}) {
    const forwarded f(std::string("TRACE http://h/ HTTP/1.1\r\nHost: h\r\n") + field + "\r\n",
                      false);
    EXPECT_EQ(f.error.status, 400) << field;
  }
}

TEST(h2c, upgrade_to_h2c_is_not_relayed) {
  const forwarded f(
      "GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
      false);
  ASSERT_FALSE(f.error);
  EXPECT_FALSE(f.info.upgrade);
  EXPECT_TRUE(f.values("upgrade").empty()) << f.out;
  EXPECT_TRUE(f.values("http2-settings").empty()) << f.out;
  EXPECT_TRUE(f.values("connection").empty()) << f.out;
  // HTTP2-Settings is hop-by-hop even when Connection does not name it.
  const forwarded bare("GET http://h/ HTTP/1.1\r\nHost: h\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
                       false);
  EXPECT_TRUE(bare.values("http2-settings").empty()) << bare.out;
}

TEST(h2c, websocket_goes_up_as_websocket_alone) {
  const forwarded f(
      "GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n",
      false);
  ASSERT_TRUE(f.info.upgrade);
  EXPECT_EQ(f.values("upgrade"), views{"websocket"});
  EXPECT_EQ(f.values("connection"), views{"upgrade"});
}

TEST(h2c, a_101_must_switch_to_websocket) {
  const auto switched = [](std::string fields) {
    response_head head;
    const std::string text = "HTTP/1.1 101 Switching Protocols\r\n" + fields + "\r\n";
    EXPECT_FALSE(parse_response(text, {}, head));
    return switches_to_relayed_upgrade(head);
  };
  EXPECT_TRUE(switched("Upgrade: websocket\r\nConnection: upgrade\r\n"));
  EXPECT_TRUE(switched("Upgrade: WebSocket\r\n"));
  EXPECT_FALSE(switched("Upgrade: h2c\r\nConnection: upgrade\r\n"));
  EXPECT_FALSE(switched("Upgrade: websocket\r\nUpgrade: h2c\r\n"));
  EXPECT_FALSE(switched("Connection: upgrade\r\n"));
}

TEST(via, appended_after_the_senders_entries) {
  const forwarded f("GET http://h/ HTTP/1.1\r\nHost: h\r\nVia: 1.1 corp-proxy\r\n\r\n", true);
  EXPECT_EQ(f.values("via"), (views{"1.1 corp-proxy", "1.1 airlock"})) << f.out;
  const forwarded old("GET http://h/ HTTP/1.0\r\n\r\n", true);
  EXPECT_EQ(old.values("via"), views{"1.0 airlock"}) << old.out;
  const forwarded off("GET http://h/ HTTP/1.1\r\nHost: h\r\nVia: 1.1 corp-proxy\r\n\r\n", false);
  EXPECT_EQ(off.values("via"), views{"1.1 corp-proxy"}) << off.out;
}

TEST(via, on_responses_names_the_upstreams_version) {
  for (const auto& [status_line, want] : std::vector<std::pair<std::string, std::string_view>>{
           {"HTTP/1.1 200 OK", "1.1 airlock"}, {"HTTP/1.0 200 OK", "1.0 airlock"}}) {
    response_head head;
    const std::string text = status_line + "\r\nVia: 1.1 cdn\r\nContent-Length: 0\r\n\r\n";
    ASSERT_FALSE(parse_response(text, {}, head));
    response_info info;
    ASSERT_FALSE(analyze_response(head, "GET", info));
    std::string out;
    write_client_response(out, head, info, version::http11, true, true);
    response_head sent;
    ASSERT_FALSE(parse_response(out, {}, sent)) << out;
    std::vector<std::string_view> via;
    for (const auto& h : sent.headers) {
      if (iequals(h.name, "via")) {
        via.push_back(h.value);
      }
    }
    EXPECT_EQ(via, (views{"1.1 cdn", want})) << out;
    write_client_response(out, head, info, version::http11, true, false);
    EXPECT_EQ(out.find("airlock"), std::string::npos) << out;
  }
}

TEST(method_refusal, says_what_is_allowed) {
  refusal r{405, "http_request_denied", "TRACE is not relayed"};
  r.reason = "method_refused";
  r.allow = relayed_methods;
  const std::string text = make_error_response(r, true);
  EXPECT_EQ(text.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\r\nX-Airlock-Reason: method_refused\r\n"), std::string::npos) << text;
  EXPECT_EQ(relayed_methods.find("TRACE"), std::string_view::npos);
}

}  // namespace
}  // namespace airlock::proxy::http
