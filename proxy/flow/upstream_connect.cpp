// Getting an upstream connection: from the worker's pool, or dialed (resolve override,
// IP literal or asynchronous lookup, then connect) and, for TLS upstreams, a verified
// handshake that resumes the last session for the same authority when it can.

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>

#include "proxy/flow/session.hpp"
#include "proxy/flow/worker.hpp"
#include "proxy/policy/private_address.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

bool session::is_self(const tcp::endpoint& ep) const {
  // "[::ffff:127.0.0.1]" reaches a listener on 127.0.0.1 as surely as the plain form.
  const asio::ip::address to = dialled_address(ep.address());
  for (const auto& self : worker_.self_endpoints()) {
    if (self.port() != ep.port()) {
      continue;
    }
    // A wildcard listener is reached through loopback (or any local address, which the
    // private-address check covers).
    if (self.address() == to || (self.address().is_unspecified() && to.is_loopback())) {
      return true;
    }
  }
  return false;
}

awaitable<refusal> session::connect_upstream(const authority& target, bool allow_pooled,
                                             bool& reused, bool tls, bool can_retry) {
  reused = false;
  up_in_.consume(up_in_.size());
  if (allow_pooled) {
    if (auto conn = worker_.pool().take(key_, !can_retry)) {
      upstream_ = std::move(conn);
      reused = true;
      stats::add(worker_.counters().upstream_reuses);
      co_return refusal{};
    }
  }
  co_return co_await dial(target, tls);
}

awaitable<refusal> session::dial(const authority& target, bool tls) {
  const auto& cfg = worker_.cfg();
  deadline_.arm(cfg.proxy.timeouts.connect);
  std::string host = target.host;
  std::uint16_t port = target.port;
  // Overrides are keyed by the authority alone: a TLS upstream has the same one. They are
  // trusted config, so the private-address check does not apply to them.
  bool overridden = false;
  if (auto it = cfg.resolve.find(target.to_string()); it != cfg.resolve.end()) {
    host = it->second.host;
    port = it->second.port;
    overridden = true;
  }
  upstream_ = std::make_unique<upstream_conn>(tcp::socket(client_.get_executor()));
  // Every address is checked before use, and only checked ones are dialled: a name that
  // resolves, or rebinds, to a private address gets no connection.
  std::vector<tcp::endpoint> checked;
  std::optional<std::string_view> refused_class;
  const auto consider = [&](const tcp::endpoint& ep) {
    std::optional<std::string_view> cls;
    if (is_self(ep)) {
      cls = "airlock-itself";
    } else if (!overridden && cfg.egress.block_private_addresses) {
      cls = blocked_class(ep.address(), cfg.egress.allow_private);
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
    // On the shared lookup threads: the wait ends with the answer or with this session's
    // deadline, whichever comes first, never with the C library's own timeout.
    lookup_ = std::make_shared<dns_pool::lookup>(client_.get_executor());
    const auto lookup = lookup_;
    worker_.dns().start(lookup, host, port);
    co_await lookup->done.async_wait(use_tuple);
    lookup_.reset();
    if (!lookup->answer) {
      upstream_.reset();
      co_return refusal{504, "dns_timeout", "looking up " + target.host + " timed out"};
    }
    if (lookup->answer->error != 0) {
      upstream_.reset();
      co_return refusal{502, "dns_error", "cannot resolve " + target.host};
    }
    for (const auto& ep : lookup->answer->endpoints) {
      consider(ep);
    }
  }
  if (checked.empty()) {
    upstream_.reset();
    stats::add(worker_.counters().private_address_blocked);
    const std::string cls(refused_class.value_or("private"));
    refusal r{403, "destination_ip_prohibited",
              cls == "airlock-itself"
                  ? target.to_string() + " is airlock's own listener; a request to it would loop"
                  : target.to_string() + " is a " + cls +
                        " address, which agents may not reach through airlock (SSRF "
                        "protection); retrying or bypassing the proxy will not help"};
    r.reason = "private_address";
    r.rule = cls;
    co_return r;
  }
  {
    auto [cec, endpoint] = co_await asio::async_connect(upstream_->sock, checked, use_tuple);
    ec = cec;
  }
  if (ec) {
    upstream_.reset();
    const std::string where = target.to_string();
    if (deadline_.fired()) {
      co_return refusal{504, "connection_timeout", "connecting to " + where + " timed out"};
    }
    if (ec == asio::error::connection_refused) {
      co_return refusal{502, "connection_refused", "connection refused by " + where};
    }
    co_return refusal{502, "destination_unavailable",
                      "cannot connect to " + where + ": " + ec.message()};
  }
  error_code ignored;
  upstream_->sock.set_option(tcp::no_delay(true), ignored);
  stats::add(worker_.counters().upstream_connects);
  if (tls) {
    co_return co_await upstream_handshake(target);
  }
  co_return refusal{};
}

awaitable<refusal> session::upstream_handshake(const authority& target) {
  SSL* ssl = SSL_new(worker_.tls()->upstream.native_handle());
  if (ssl == nullptr) {
    upstream_.reset();
    co_return refusal{502, "tls_protocol_error", "cannot set up TLS for " + target.host};
  }
  upstream_->tls.emplace(upstream_->sock, ssl);  // owns ssl from here
  if (!prepare_upstream_tls(ssl, target.host, target.is_ip())) {
    upstream_.reset();
    co_return refusal{502, "tls_protocol_error", "cannot verify the name " + target.host};
  }
  // Sessions are cached by "tls:host:port" and only after a verified handshake, so a
  // resumed session is one made for this very name.
  worker_.tls_sessions().apply(key_, ssl);
  const error_code ec = co_await upstream_->tls->handshake(tls_role::client);
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    upstream_.reset();
    if (deadline_.fired()) {
      co_return refusal{504, "tls_protocol_error",
                        "TLS handshake with " + target.to_string() + " timed out"};
    }
    if (verify != X509_V_OK) {
      stats::add(worker_.counters().upstream_tls_verify_failures);
      co_return refusal{502, "tls_certificate_error",
                        "certificate of " + target.to_string() +
                            " not trusted: " + X509_verify_cert_error_string(verify)};
    }
    co_return refusal{502, "tls_protocol_error",
                      "TLS handshake with " + target.to_string() + " failed: " + ec.message()};
  }
  stats::add(worker_.counters().upstream_tls_handshakes);
  if (SSL_session_reused(ssl) == 1) {
    stats::add(worker_.counters().upstream_tls_resumed);
  }
  co_return refusal{};
}

}  // namespace airlock::proxy
