// Requests airlock answers without relaying them: a method whose response reflects the
// request (TRACE and kin) where a credential could go up, and an OPTIONS or TRACE whose
// Max-Forwards has run out at airlock (RFC 9110 7.6.2).

#include "proxy/flow/exchange.hpp"
#include "proxy/http/intermediary.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/policy/inject.hpp"

namespace airlock::proxy {

awaitable<std::optional<bool>> exchange::answer_here(const request& r, const authority& target) {
  // The rule lookup only for the methods it can change anything for.
  const bool credential_destination =
      http::reflects_request(r.head.method) &&
      (r.intercepted || record_.mode == traffic_mode::route ||
       has_rule_for(ctx_.cfg.credentials, target.host, target.port));
  const auto answer =
      http::decide_local_answer(r.head.method, r.info.max_forwards, credential_destination);
  if (answer == http::local_answer::forward) {
    co_return std::nullopt;
  }
  if (answer == http::local_answer::options_here) {
    const bool keep = co_await answer_options(r);
    co_return keep;
  }
  refusal refused =
      answer == http::local_answer::refuse_reflecting
          ? refusal{refusal_kind::method_refused, 405, "http_request_denied",
                    std::string(r.head.method) + " is not relayed to " + target.to_string() +
                        ": airlock injects credentials there, and the answer would carry them "
                        "back (RFC 9110 9.3.8)"}
          : refusal{refusal_kind::method_refused, 405, "http_request_denied",
                    "TRACE with Max-Forwards: 0 ends at airlock, which does not reflect requests"};
  refused.reason = "method_refused";
  refused.allow = http::relayed_methods;
  co_await refuse(refused, true);
  co_return false;
}

awaitable<bool> exchange::answer_options(const request& r) {
  // A body would have to be read past to keep the connection: closing is simpler.
  const bool keep = r.info.keep_alive && r.info.body == http::body_kind::none && !client_.closing();
  out_.assign("HTTP/1.1 200 OK\r\nAllow: ");
  out_.append(http::relayed_methods);
  out_.append("\r\nContent-Length: 0\r\n");
  if (!keep) {
    out_.append("Connection: close\r\n");
  } else if (client_version_ == http::version::http10) {
    out_.append("Connection: keep-alive\r\n");
  }
  out_.append("\r\n");
  client_.pending().consume(r.head_len);
  deadline_.arm(ctx_.cfg.proxy.timeouts.header);
  const bool sent = co_await client_.send(out_);
  ctx_.series.request(record_.mode, 200);
  client_.answered(200);
  co_return sent&& keep;
}

}  // namespace airlock::proxy
