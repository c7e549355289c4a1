// CONNECT: checked like any request, then either handed back to the connection for
// interception (a credential rule needs to see inside) or relayed blind.

#include "proxy/flow/exchange.hpp"
#include "proxy/flow/tunnel.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/policy/inject.hpp"

namespace airlock::proxy {

namespace {

constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";

std::optional<refusal> check_connect(const exchange::request& r,
                                     const std::optional<authority>& target) {
  const auto bad = [](std::string detail) {
    return refusal{refusal_kind::bad_request, 400, "http_request_error", std::move(detail)};
  };
  if (!target) {
    return bad("CONNECT target must be host:port");
  }
  if (r.info.host != nullptr) {
    auto host = parse_host_header(r.info.host->value, target->port);
    if (!host || *host != *target) {
      return bad("Host header disagrees with the CONNECT target");
    }
  }
  if (r.info.body != http::body_kind::none) {
    return bad("CONNECT request with a body");
  }
  return std::nullopt;
}

}  // namespace

awaitable<std::optional<authority>> exchange::serve_connect(const request& r) {
  record_.mode = traffic_mode::tunnel;
  client_version_ = r.head.ver;
  const std::optional<authority> target = parse_authority_form(r.head.target);
  std::optional<refusal> refused = check_connect(r, target);
  if (!refused) {
    record_.target(*target, {});
    refused = check_policy(*target, std::nullopt);
  }
  if (!refused) {
    // The pool key of a blind tunnel; requests inside an intercepted one set their own.
    key_ = target->to_string();
    client_.pending().consume(r.head_len);  // what follows is the client's first tunnel bytes
    client_.pending().shrink();
    if (!cover_copies()) {
      refused = head_budget_refusal(ctx_.heads.limit(), false);
    }
  }
  if (refused) {
    co_await refuse(*refused, true);
    co_return std::nullopt;
  }
  if (ctx_.tls != nullptr && has_rule_for(ctx_.cfg.credentials, target->host, target->port)) {
    co_return target;
  }
  const dial_request to{*target, key_, false};
  auto got = co_await dialer_.dial(to);
  if (!got) {
    co_await refuse(got.error(), true);
    co_return std::nullopt;
  }
  upstream_ = std::move(*got);
  deadline_.arm(ctx_.cfg.proxy.timeouts.idle);
  ctx_.series.request(traffic_mode::tunnel, 200);
  if (!co_await client_.send(established)) {
    co_return std::nullopt;
  }
  tunnel blind(ctx_, deadline_, client_, upstream_->stream(), up_in_);
  co_await blind.run();
  client_.answered(200);
  co_return std::nullopt;
}

}  // namespace airlock::proxy
