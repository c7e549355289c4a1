// Reading a request head from the client: the header deadline once a request has begun,
// idle before; the head budget for heads past the first buffer; a status and a reason for
// every head airlock cannot use.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "proxy/flow/connection.hpp"
#include "proxy/http/message.hpp"

namespace airlock::proxy {

// A client that writes a head and then its body in two sends (urllib3 through a proxy,
// many HTTP libraries) with Nagle on holds the body until its head is acknowledged, and
// Linux delays that ACK by up to 40 ms on a connection in request/response rhythm: 44 ms
// added to every small POST on a reused connection (issue 19, failure 7). Squid shows the
// same. Acknowledging now lets the body leave at once; the option is not sticky, so it is
// set per head, and only when a body is still to come (one syscall, no effect otherwise).
void connection::ack_if_body_waits(std::size_t head_len) {
  const std::size_t have = in_.size() - head_len;
  const bool waits = req_info_.body == http::body_kind::chunked ||
                     (req_info_.body == http::body_kind::length && req_info_.content_length > have);
  if (!waits) {
    return;
  }
  const int one = 1;
  // Best effort: a failure only leaves the kernel's default.
  static_cast<void>(
      ::setsockopt(client_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one));
}

awaitable<connection::head_status> connection::read_request_head(std::size_t& head_len) {
  const auto& cfg = ctx_.cfg.proxy;
  const http::head_limits limits{cfg.max_header_bytes, cfg.max_header_count};
  std::size_t resume = 0;
  // A new connection gets the header timeout at once; a kept-alive one may sit idle
  // first, and gets the header timeout only once a request has started to arrive.
  const bool waiting_idle = !first_request_ && in_.empty();
  deadline_.arm(waiting_idle ? cfg.timeouts.idle : cfg.timeouts.header);
  phase_ = in_.empty() ? phase::idle : phase::reading;
  if (in_.empty()) {
    in_.release_if_empty();
  }
  bool header_clock_started = !waiting_idle;
  for (;;) {
    if (!in_.empty()) {
      const auto scan = http::scan_head(in_.data(), resume, limits);
      if (scan.st == http::head_scan::state::complete) {
        in_.consume(scan.skip);
        head_len = scan.length;
        const std::string_view head = in_.data().substr(0, head_len);
        if (auto err = http::parse_request(head, limits, req_)) {
          co_await reject_request(err.status, err.reason);
          co_return head_status::rejected;
        }
        if (auto err = http::analyze_request(req_, req_info_)) {
          co_await reject_request(err.status, err.reason);
          co_return head_status::rejected;
        }
        first_request_ = false;
        ack_if_body_waits(head_len);
        co_return head_status::ok;
      }
      if (scan.st == http::head_scan::state::error) {
        co_await reject_request(scan.error.status, scan.error.reason);
        co_return head_status::rejected;
      }
      resume = scan.scanned;
      if (!header_clock_started) {
        deadline_.arm(cfg.timeouts.header);
        header_clock_started = true;
      }
    }
    // Room that is left is used before the buffer grows: only a head larger than the
    // first buffer ever asks the budget.
    const asio::mutable_buffer room = in_.prepare(1);
    if (in_.over_budget()) {
      const refusal refused = head_budget_refusal(ctx_.heads.limit(), false);
      co_await refuse(refused, true);
      co_return head_status::rejected;
    }
    auto [ec, n] = co_await leg().read_some(room);
    if (ec) {
      if (deadline_.fired() && !in_.empty()) {
        co_await reject_request(408, "request head not received in time");
      }
      co_return head_status::closed;
    }
    phase_ = phase::reading;
    in_.commit(n);
    count_in(n);
    if (closing()) {
      // Drain began while this connection was idle: this new request still gets served.
      draining_ = true;
    }
  }
}

awaitable<void> connection::reject_request(int status, std::string_view reason) {
  std::string_view type = "http_request_error";
  if (status == 431) {
    type = "http_request_denied";
  } else if (status == 408) {
    type = "http_request_error";
  }
  const refusal refused{status, type, std::string(reason)};
  co_await refuse(refused, true);
}

}  // namespace airlock::proxy
