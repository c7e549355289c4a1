#include "proxy/flow/dialer.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>

#include "proxy/flow/upstream_pool.hpp"
#include "proxy/observe/stats.hpp"
#include "proxy/policy/private_address.hpp"
#include "proxy/tls/tls_session_cache.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

namespace {

// Whether ep is one of airlock's own listeners (a request to it would loop).
bool is_self(const std::vector<tcp::endpoint>& self, const tcp::endpoint& ep) {
  // "[::ffff:127.0.0.1]" reaches a listener on 127.0.0.1 as surely as the plain form.
  const asio::ip::address to = dialled_address(ep.address());
  for (const auto& own : self) {
    if (own.port() != ep.port()) {
      continue;
    }
    // A wildcard listener is reached through loopback (or any local address, which the
    // private-address check covers).
    if (own.address() == to || (own.address().is_unspecified() && to.is_loopback())) {
      return true;
    }
  }
  return false;
}

refusal private_refusal(const authority& target, std::string_view cls) {
  refusal r{refusal_kind::private_address, 403, "destination_ip_prohibited",
            cls == "airlock-itself"
                ? target.to_string() + " is airlock's own listener; a request to it would loop"
                : target.to_string() + " is a " + std::string(cls) +
                      " address, which agents may not reach through airlock (SSRF "
                      "protection); retrying or bypassing the proxy will not help"};
  r.reason = "private_address";
  r.rule = std::string(cls);
  return r;
}

}  // namespace

void dial_watch::cancel() {
  error_code ignored;
  if (socket != nullptr) {
    socket->cancel(ignored);
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
    if (auto conn = ctx_.pool.take(r.key, !can_retry)) {
      reused = true;
      stats::add(ctx_.counters.upstream_reuses);
      co_return result<upstream_ptr>(std::move(conn));
    }
  }
  // Named, not returned straight from the co_await: GCC 12 could destroy that temporary twice.
  auto dialled = co_await dial(r);
  co_return dialled;
}

awaitable<result<upstream_ptr>> dialer::dial(const dial_request& r) {
  const auto& cfg = ctx_.cfg;
  deadline_.arm(cfg.proxy.timeouts.connect);
  std::string host = r.target.host;
  std::uint16_t port = r.target.port;
  // Overrides are keyed by the authority alone: a TLS upstream has the same one. They are
  // trusted config, so the private-address check does not apply to them.
  bool overridden = false;
  if (auto it = cfg.resolve.find(r.target.to_string()); it != cfg.resolve.end()) {
    host = it->second.host;
    port = it->second.port;
    overridden = true;
  }
  auto endpoints = co_await resolve(r.target, host, port, overridden);
  if (!endpoints) {
    co_return result<upstream_ptr>(std::move(endpoints.error()));
  }
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
                                                              const std::string& host,
                                                              std::uint16_t port, bool overridden) {
  using endpoints = std::vector<tcp::endpoint>;
  // Every address is checked before use, and only checked ones are dialled: a name that
  // resolves, or rebinds, to a private address gets no connection.
  endpoints checked;
  std::optional<std::string_view> refused_class;
  const auto consider = [&](const tcp::endpoint& ep) {
    std::optional<std::string_view> cls;
    if (is_self(ctx_.self, ep)) {
      cls = "airlock-itself";
    } else if (!overridden && ctx_.cfg.egress.block_private_addresses) {
      cls = blocked_class(ep.address(), ctx_.cfg.egress.allow_private);
    }
    if (cls) {
      refused_class = refused_class ? refused_class : cls;
    } else {
      checked.push_back(ep);
    }
  };
  error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    consider(tcp::endpoint(literal, port));
  } else {
    // On the shared lookup threads: the wait ends with the answer or with the connection's
    // deadline, whichever comes first, never with the C library's own timeout.
    watch_.lookup = std::make_shared<dns_pool::lookup>(ex_);
    const auto lookup = watch_.lookup;
    ctx_.dns.start(lookup, host, port);
    co_await lookup->done.async_wait(use_tuple);
    watch_.lookup.reset();
    if (!lookup->answer) {
      co_return result<endpoints>(refusal{refusal_kind::upstream_timeout, 504, "dns_timeout",
                                          "looking up " + target.host + " timed out"});
    }
    if (lookup->answer->error != 0) {
      co_return result<endpoints>(
          refusal{refusal_kind::upstream_error, 502, "dns_error", "cannot resolve " + target.host});
    }
    for (const auto& ep : lookup->answer->endpoints) {
      consider(ep);
    }
  }
  if (checked.empty()) {
    stats::add(ctx_.counters.private_address_blocked);
    co_return result<endpoints>(private_refusal(target, refused_class.value_or("private")));
  }
  co_return result<endpoints>(std::move(checked));
}

awaitable<std::optional<refusal>> dialer::connect(upstream_conn& conn,
                                                  const std::vector<tcp::endpoint>& to,
                                                  const authority& target) {
  watch_.socket = &conn.sock;
  auto [ec, endpoint] = co_await asio::async_connect(conn.sock, to, use_tuple);
  watch_.socket = nullptr;
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
  stats::add(ctx_.counters.upstream_connects);
  co_return std::nullopt;
}

awaitable<std::optional<refusal>> dialer::handshake(upstream_conn& conn, const dial_request& r) {
  const authority& target = r.target;
  SSL* ssl = SSL_new(ctx_.tls->upstream.native_handle());
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
  ctx_.tls_sessions.apply(r.key, ssl);
  watch_.socket = &conn.sock;
  const error_code ec = co_await conn.tls->handshake(tls_role::client);
  watch_.socket = nullptr;
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    if (deadline_.fired()) {
      co_return refusal{refusal_kind::upstream_timeout, 504, "tls_protocol_error",
                        "TLS handshake with " + target.to_string() + " timed out"};
    }
    if (verify != X509_V_OK) {
      stats::add(ctx_.counters.upstream_tls_verify_failures);
      co_return refusal{refusal_kind::upstream_error, 502, "tls_certificate_error",
                        "certificate of " + target.to_string() +
                            " not trusted: " + X509_verify_cert_error_string(verify)};
    }
    co_return refusal{refusal_kind::upstream_error, 502, "tls_protocol_error",
                      "TLS handshake with " + target.to_string() + " failed: " + ec.message()};
  }
  stats::add(ctx_.counters.upstream_tls_handshakes);
  if (SSL_session_reused(ssl) == 1) {
    stats::add(ctx_.counters.upstream_tls_resumed);
  }
  co_return std::nullopt;
}

}  // namespace airlock::proxy
