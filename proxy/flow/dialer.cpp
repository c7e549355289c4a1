#include "proxy/flow/dialer.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>

#include "proxy/flow/upstream_pool.hpp"
#include "proxy/observe/stats.hpp"
#include "proxy/policy/endpoint_filter.hpp"
#include "proxy/tls/tls_session_cache.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

namespace {

const std::map<std::string, config::endpoint> no_overrides;

// For dials without the data plane's egress rules: airlock's own calls go to trusted config
// URLs, private addresses included.
const config::egress_config trusted = [] {
  config::egress_config e;
  e.block_private_addresses = false;
  return e;
}();

}  // namespace

void dialer::count(std::atomic<std::uint64_t> stats::*counter) const {
  if (ctx_.counters != nullptr) {
    stats::add(ctx_.counters->*counter);
  }
}

void dial_watch::cancel() {
  // Closed, not cancelled: a connect over several addresses treats a cancelled attempt as a
  // failed one and goes on to the next, past the deadline. fired() still makes it a 504.
  error_code ignored;
  if (socket != nullptr) {
    socket->close(ignored);
  }
  if (lookup) {
    lookup->done.cancel();  // the wait ends; the answer, if it comes, is dropped
  }
}

void dial_watch::close() {
  error_code ignored;
  if (socket != nullptr) {
    socket->close(ignored);
  }
  if (lookup) {
    lookup->done.cancel();
  }
}

awaitable<result<upstream_ptr>> dialer::get(const dial_request& r, bool allow_pooled,
                                            bool can_retry, bool& reused) {
  reused = false;
  if (allow_pooled) {
    if (auto conn = ctx_.pool != nullptr ? ctx_.pool->take(r.key, !can_retry) : nullptr) {
      reused = true;
      count(&stats::upstream_reuses);
      co_return result<upstream_ptr>(std::move(conn));
    }
  }
  // Named, not returned straight from the co_await: GCC 12 could destroy that temporary twice.
  auto dialled = co_await dial(r);
  co_return dialled;
}

awaitable<result<upstream_ptr>> dialer::dial(const dial_request& r) {
  if (ctx_.connect_timeout) {
    deadline_.arm(*ctx_.connect_timeout);
  }
  const dial_plan plan =
      plan_dial(r.target, ctx_.resolve != nullptr ? *ctx_.resolve : no_overrides);
  auto endpoints = co_await resolve(r.target, plan);
  if (!endpoints) {
    co_return result<upstream_ptr>(std::move(endpoints.error()));
  }
  // The deadline fires once: a step begun after it (its watchdog ran while the lookup's
  // answer was already queued) would have none, so each step looks first.
  auto conn = std::make_unique<upstream_conn>(tcp::socket(ex_));
  if (auto failed = co_await connect(*conn, *endpoints, r.target)) {
    co_return result<upstream_ptr>(std::move(*failed));
  }
  if (r.tls) {
    if (auto failed = co_await handshake(*conn, r)) {
      co_return result<upstream_ptr>(std::move(*failed));
    }
  }
  co_return result<upstream_ptr>(std::move(conn));
}

awaitable<result<std::vector<tcp::endpoint>>> dialer::resolve(const authority& target,
                                                              const dial_plan& plan) {
  using endpoints = std::vector<tcp::endpoint>;
  std::vector<tcp::endpoint> found;
  if (plan.literal) {
    found.emplace_back(*plan.literal, plan.port);
  } else {
    // On the shared lookup threads: the wait ends with the answer or with the connection's
    // deadline, whichever comes first, never with the C library's own timeout.
    if (deadline_.fired()) {
      co_return result<endpoints>(refusal{refusal_kind::upstream_timeout, 504, "dns_timeout",
                                          "looking up " + target.host + " timed out"});
    }
    watch_.lookup = std::make_shared<dns_pool::lookup>(ex_);
    const auto lookup = watch_.lookup;
    ctx_.dns.start(lookup, plan.host, plan.port);
    co_await lookup->done.async_wait(use_tuple);
    watch_.lookup.reset();
    if (!lookup->answer) {
      co_return result<endpoints>(refusal{refusal_kind::upstream_timeout, 504, "dns_timeout",
                                          "looking up " + target.host + " timed out"});
    }
    if (lookup->answer->error != 0 || lookup->answer->endpoints.empty()) {
      co_return result<endpoints>(
          refusal{refusal_kind::upstream_error, 502, "dns_error", "cannot resolve " + target.host});
    }
    found = std::move(lookup->answer->endpoints);
  }
  // Only the endpoints the filter passed are dialled: a name that resolves, or rebinds, to
  // a private address gets no connection.
  endpoint_choice choice = filter_endpoints(target, found, plan, ctx_.self,
                                            ctx_.egress != nullptr ? *ctx_.egress : trusted);
  if (choice.refused) {
    count(&stats::private_address_blocked);
    co_return result<endpoints>(std::move(*choice.refused));
  }
  co_return result<endpoints>(std::move(choice.allowed));
}

awaitable<std::optional<refusal>> dialer::connect(upstream_conn& conn,
                                                  const std::vector<tcp::endpoint>& to,
                                                  const authority& target) {
  error_code ec = asio::error::timed_out;
  if (!deadline_.fired()) {
    watch_.socket = &conn.sock;
    auto [cec, endpoint] = co_await asio::async_connect(conn.sock, to, use_tuple);
    watch_.socket = nullptr;
    ec = cec;
  }
  if (ec) {
    const std::string where = target.to_string();
    if (deadline_.fired()) {
      co_return refusal{refusal_kind::upstream_timeout, 504, "connection_timeout",
                        "connecting to " + where + " timed out"};
    }
    if (ec == asio::error::connection_refused) {
      co_return refusal{refusal_kind::upstream_error, 502, "connection_refused",
                        "connection refused by " + where};
    }
    co_return refusal{refusal_kind::upstream_error, 502, "destination_unavailable",
                      "cannot connect to " + where + ": " + ec.message()};
  }
  error_code ignored;
  conn.sock.set_option(tcp::no_delay(true), ignored);
  count(&stats::upstream_connects);
  co_return std::nullopt;
}

awaitable<std::optional<refusal>> dialer::handshake(upstream_conn& conn, const dial_request& r) {
  const authority& target = r.target;
  SSL* ssl = ctx_.tls != nullptr ? SSL_new(ctx_.tls) : nullptr;
  if (ssl == nullptr) {
    co_return refusal{refusal_kind::upstream_error, 502, "tls_protocol_error",
                      "cannot set up TLS for " + target.host};
  }
  conn.tls.emplace(conn.sock, ssl);  // owns ssl from here
  if (!prepare_upstream_tls(ssl, target.host, target.is_ip())) {
    co_return refusal{refusal_kind::upstream_error, 502, "tls_protocol_error",
                      "cannot verify the name " + target.host};
  }
  // Sessions are cached by "tls:host:port" and only after a verified handshake, so a
  // resumed session is one made for this very name.
  if (ctx_.sessions != nullptr) {
    ctx_.sessions->apply(r.key, ssl);
  }
  error_code ec = asio::error::timed_out;
  if (!deadline_.fired()) {
    watch_.socket = &conn.sock;
    ec = co_await conn.tls->handshake(tls_role::client);
    watch_.socket = nullptr;
  }
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    if (deadline_.fired()) {
      co_return refusal{refusal_kind::upstream_timeout, 504, "tls_protocol_error",
                        "TLS handshake with " + target.to_string() + " timed out"};
    }
    if (verify != X509_V_OK) {
      count(&stats::upstream_tls_verify_failures);
      co_return refusal{refusal_kind::upstream_error, 502, "tls_certificate_error",
                        "certificate of " + target.to_string() +
                            " not trusted: " + X509_verify_cert_error_string(verify)};
    }
    co_return refusal{refusal_kind::upstream_error, 502, "tls_protocol_error",
                      "TLS handshake with " + target.to_string() + " failed: " + ec.message()};
  }
  count(&stats::upstream_tls_handshakes);
  if (SSL_session_reused(ssl) == 1) {
    count(&stats::upstream_tls_resumed);
  }
  co_return std::nullopt;
}

}  // namespace airlock::proxy
