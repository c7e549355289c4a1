// Requests airlock answers without relaying them: a method whose response reflects the
// request (TRACE and kin) where a credential could go up, and an OPTIONS or TRACE whose
// Max-Forwards has run out at airlock (RFC 9110 7.6.2).

#include "proxy/flow/session.hpp"
#include "proxy/flow/worker.hpp"
#include "proxy/http/intermediary.hpp"
#include "proxy/policy/inject.hpp"

namespace airlock::proxy {

awaitable<std::optional<bool>> session::answer_here(const authority& target, std::size_t head_len) {
  // The rule lookup only for the methods it can change anything for.
  const bool credential_destination =
      http::reflects_request(req_.method) &&
      (intercepted_ || mode_ == traffic_mode::route ||
       has_rule_for(worker_.cfg().credentials, target.host, target.port));
  const auto answer =
      http::decide_local_answer(req_.method, req_info_.max_forwards, credential_destination);
  if (answer == http::local_answer::forward) {
    co_return std::nullopt;
  }
  if (answer == http::local_answer::options_here) {
    const bool keep = co_await answer_options(head_len);
    co_return keep;
  }
  refusal_ =
      answer == http::local_answer::refuse_reflecting
          ? refusal{405, "http_request_denied",
                    std::string(req_.method) + " is not relayed to " + target.to_string() +
                        ": airlock injects credentials there, and the answer would carry them "
                        "back (RFC 9110 9.3.8)"}
          : refusal{405, "http_request_denied",
                    "TRACE with Max-Forwards: 0 ends at airlock, which does not reflect requests"};
  refusal_.reason = "method_refused";
  refusal_.allow = http::relayed_methods;
  co_await respond_error(true);
  co_return false;
}

awaitable<bool> session::answer_options(std::size_t head_len) {
  // A body would have to be read past to keep the connection: closing is simpler.
  const bool keep = req_info_.keep_alive && req_info_.body == http::body_kind::none && !draining_ &&
                    !worker_.draining();
  out_.assign("HTTP/1.1 200 OK\r\nAllow: ");
  out_.append(http::relayed_methods);
  out_.append("\r\nContent-Length: 0\r\n");
  if (!keep) {
    out_.append("Connection: close\r\n");
  } else if (client_version_ == http::version::http10) {
    out_.append("Connection: keep-alive\r\n");
  }
  out_.append("\r\n");
  in_.consume(head_len);
  deadline_.arm(worker_.cfg().proxy.timeouts.header);
  const bool sent = co_await write_all(client(), out_);
  worker_.series().request(mode_, 200);
  access_end(200, "");
  co_return sent&& keep;
}

}  // namespace airlock::proxy
