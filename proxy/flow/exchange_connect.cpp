// CONNECT, once route_decision allowed it: handed back to the connection for interception
// (a credential rule needs to see inside) or relayed blind.

#include "proxy/flow/exchange.hpp"
#include "proxy/flow/tunnel.hpp"
#include "proxy/observe/metrics.hpp"

namespace airlock::proxy {

namespace {

constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";

}  // namespace

awaitable<exchange::outcome> exchange::connect(const request& r, destination& to,
                                               const route_decision::action_type& action) {
  // The pool key of a blind tunnel; requests inside an intercepted one set their own.
  key_ = to.auth.to_string();
  client_.pending().consume(r.head_len);  // what follows is the client's first tunnel bytes
  client_.pending().shrink();
  if (!cover_copies()) {
    const refusal refused = head_budget_refusal(ctx_.heads.limit(), false);
    co_await refuse(refused, true);
    co_return outcome{};
  }
  if (std::holds_alternative<route_decision::intercept>(action)) {
    co_return outcome{false, std::move(to.auth)};
  }
  const dial_request dial{to.auth, key_, false};
  auto got = co_await dialer_.dial(dial);
  if (!got) {
    co_await refuse(got.error(), true);
    co_return outcome{};
  }
  upstream_ = std::move(*got);
  deadline_.arm(ctx_.cfg.proxy.timeouts.idle);
  ctx_.series.request(traffic_mode::tunnel, 200);
  if (!co_await client_.send(established)) {
    co_return outcome{};
  }
  tunnel blind(ctx_, deadline_, client_, upstream_->stream(), up_in_);
  co_await blind.run();
  client_.answered(200);
  co_return outcome{};
}

}  // namespace airlock::proxy
