// The forward path: an absolute-form request relayed to its upstream over a pooled
// keep-alive connection, bodies streamed both ways as they arrive.

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "proxy/http_rewrite.hpp"
#include "proxy/inject.hpp"
#include "proxy/session.hpp"
#include "proxy/tls_state.hpp"
#include "proxy/worker.hpp"

namespace airlock::proxy {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
// How long a request with "Expect: 100-continue" waits for the upstream's interim
// answer before airlock tells the client to go ahead (curl's own wait is 1 s).
constexpr auto expect_window = std::chrono::milliseconds(1000);
constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    if (method == m) {
      return true;
    }
  }
  return false;
}

bool is_ipv4_literal(std::string_view host) {
  error_code ec;
  asio::ip::make_address_v4(std::string(host), ec);
  return !ec;
}

refusal bad_request(std::string detail) {
  return refusal{400, "http_request_error", std::move(detail)};
}

}  // namespace

awaitable<bool> session::serve_forward(std::size_t head_len) {
  std::optional<absolute_target> target;
  tls_state* tls = worker_.tls();
  bool upstream_tls = false;
  if (intercepted_) {
    // Inside an intercepted tunnel the authority is the CONNECT's; the Host field may
    // only repeat it, never redirect the request (and its credential) elsewhere.
    if (req_.target.empty() || req_.target.front() != '/') {
      refusal_ = bad_request("requests inside a CONNECT tunnel use origin-form");
      co_await respond_error(true);
      co_return false;
    }
    if (req_info_.host != nullptr) {
      // A Host without a port names https's default, 443 (RFC 9110 4.2.2).
      auto host = parse_host_header(req_info_.host->value, 443);
      if (!host || *host != *intercepted_) {
        refusal_ = refusal{
            421, "http_request_denied",
            "Host header does not match the CONNECT authority " + intercepted_->to_string()};
        co_await respond_error(true);
        co_return false;
      }
    }
    host_text_ = intercepted_->ipv6 ? "[" + intercepted_->host + "]" : intercepted_->host;
    if (intercepted_->port != 443) {
      host_text_ += ":" + std::to_string(intercepted_->port);
    }
    target = absolute_target{*intercepted_, host_text_, req_.target};
    upstream_tls = true;
  } else {
    target = parse_absolute_http(req_.target);
    if (!target) {
      std::string detail = "malformed request target";
      if (!req_.target.empty() && req_.target.front() == '/') {
        detail =
            "airlock is a forward proxy: send absolute-form requests (http://host/path) "
            "or use CONNECT";
      } else if (req_.target.size() > 8 && http::iequals(req_.target.substr(0, 8), "https://")) {
        detail = "https:// URLs must be requested through CONNECT";
      }
      refusal_ = bad_request(std::move(detail));
      co_await respond_error(true);
      co_return false;
    }
    // The credential and routing decision follows the URI; a Host field saying
    // something else is an attempt to make two parsers disagree.
    if (req_info_.host != nullptr) {
      auto host = parse_host_header(req_info_.host->value, 80);
      if (!host || *host != target->auth) {
        refusal_ = bad_request("Host header disagrees with the request target");
        co_await respond_error(true);
        co_return false;
      }
    }
    // A credential only travels over verified TLS: plain http:// to a credential host
    // goes upstream as https (port 80 becomes 443).
    if (tls != nullptr &&
        has_rule_for(worker_.cfg().credentials, target->auth.host, target->auth.port)) {
      upstream_tls = true;
      if (target->auth.port == 80) {
        target->auth.port = 443;
        host_text_ = target->auth.ipv6 ? "[" + target->auth.host + "]" : target->auth.host;
        target->authority_text = host_text_;
      }
    }
  }

  const config::credential_rule* rule =
      upstream_tls ? find_rule(worker_.cfg().credentials, target->auth.host, target->auth.port,
                               req_.method, target->origin_form)
                   : nullptr;
  struct wipe_guard {
    std::string& s;
    ~wipe_guard() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{req_out_};
  const secret_lookup lookup = [tls](std::string_view name) { return tls->secrets.lookup(name); };
  if (auto missing = http::write_upstream_request(req_out_, req_, req_info_, *target, rule,
                                                  rule != nullptr ? &lookup : nullptr)) {
    refusal_ = refusal{503, "destination_unavailable",
                       "secret \"" + *missing + "\" needed by credential rule \"" + rule->name +
                           "\" is not present"};
    co_await respond_error(true);
    co_return false;
  }
  if (rule != nullptr) {
    spdlog::debug("inject: rule {} for {}", rule->name, target->auth.to_string());
  }

  const bool is_head = http::iequals(req_.method, "HEAD");
  // A request the upstream may have received whole is sent again only when repeating it
  // is harmless (RFC 9110 9.2.2): a POST could charge the agent's account twice.
  const bool idempotent = is_idempotent(req_.method);
  const http::version client_version = req_.ver;
  const authority auth = std::move(target->auth);
  key_.clear();
  if (upstream_tls) {
    key_ = "tls:";
  }
  key_ += auth.to_string();
  in_.consume(head_len);  // req_ and target point into in_: unusable from here on

  // How much of the body arrived with the head.
  std::size_t buffered = 0;
  bool body_complete = true;
  std::uint64_t remaining = 0;
  if (req_info_.body == http::body_kind::length) {
    buffered =
        static_cast<std::size_t>(std::min<std::uint64_t>(in_.size(), req_info_.content_length));
    remaining = req_info_.content_length - buffered;
    body_complete = remaining == 0;
  } else if (req_info_.body == http::body_kind::chunked) {
    chunks_.reset();
    if (rule != nullptr) {
      chunks_.reject_trailers();
    }
    const auto r = chunks_.feed(in_.data());
    if (r.error) {
      refusal_ = bad_request("malformed chunked request body");
      co_await respond_error(true);
      co_return false;
    }
    buffered = r.consumed;
    body_complete = r.done;
  }
  // Body bytes that came with the head go up with it even when the client asked to
  // wait for 100 Continue (RFC 9110 10.1.1 lets it send them anyway).
  bool expect_pending = req_info_.expect_continue && !body_complete;
  // A request held entirely in memory can be sent again if a pooled connection
  // turns out to be dead; one partly streamed from the client cannot.
  const bool replayable = body_complete && !req_info_.upgrade;

  bool client_keep_alive = req_info_.keep_alive;
  std::size_t resp_head_len = 0;
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    const refusal failed = co_await connect_upstream(auth, attempt == 0, reused, upstream_tls,
                                                     replayable && idempotent);
    if (failed.status != 0) {
      if (body_complete) {
        in_.consume(buffered);
      }
      refusal_ = failed;
      co_await respond_error(!body_complete || !client_keep_alive);
      co_return (body_complete && client_keep_alive);
    }
    deadline_.arm(worker_.cfg().proxy.timeouts.idle);
    if (!co_await write_all(upstream(), req_out_, in_.data().substr(0, buffered))) {
      release_upstream(false);
      if (reused && attempt == 0) {
        continue;
      }
      refusal_ = refusal{502, "connection_terminated",
                         "upstream closed the "
                         "connection while the request was sent"};
      co_await respond_error(true);
      co_return false;
    }
    if (!body_complete) {
      // Streamed from here on: what was sent is gone from the buffer, and no retry.
      in_.consume(buffered);
      buffered = 0;
    }
    if (!body_complete && !expect_pending) {
      const auto st =
          co_await relay_body(client(), in_, upstream(), req_info_.body, remaining, {}, false);
      if (st != relay_status::done) {
        release_upstream(false);
        if (st == relay_status::bad_framing) {
          refusal_ = bad_request("malformed chunked request body");
          co_await respond_error(true);
        } else if (st == relay_status::sink_failed) {
          refusal_ = refusal{502, "connection_terminated",
                             "upstream closed the connection during the request body"};
          co_await respond_error(true);
        }
        co_return false;
      }
    }

    // Response heads: interim ones first (100 Continue drives a pending body).
    bool retry = false;
    for (;;) {
      if (expect_pending) {
        deadline_.arm(expect_window);
      }
      const auto st = co_await read_response_head(resp_head_len, is_head);
      if (st == upstream_head::timed_out && expect_pending) {
        // The upstream does not send 100 Continue: let the client send its body anyway.
        resp_head_len = 0;
      } else if (st != upstream_head::ok) {
        release_upstream(false);
        if (st == upstream_head::closed_before_response && reused && attempt == 0 && replayable &&
            idempotent) {
          retry = true;
          break;
        }
        refusal r{502, "http_protocol_error", std::string(upstream_error_)};
        if (st == upstream_head::timed_out) {
          r = refusal{504, "http_response_timeout", "upstream sent no response in time"};
        } else if (st != upstream_head::invalid) {
          r = refusal{502, "connection_terminated",
                      "upstream closed the connection before "
                      "responding"};
        }
        if (body_complete) {
          in_.consume(buffered);
        }
        refusal_ = r;
        co_await respond_error(true);
        co_return false;
      }
      const int status = resp_head_len == 0 ? 100 : resp_.status;
      if (status >= 100 && status < 200 && status != 101) {
        if (resp_head_len == 0 || client_version == http::version::http11) {
          if (resp_head_len == 0) {
            out_.assign(continue_100);
          } else {
            http::write_client_response(out_, resp_, resp_info_, client_version, true);
          }
          if (!co_await write_all(client(), out_)) {
            release_upstream(false);
            co_return false;
          }
        }
        up_in_.consume(resp_head_len);
        if (expect_pending && status == 100) {
          expect_pending = false;
          const auto body =
              co_await relay_body(client(), in_, upstream(), req_info_.body, remaining, {}, false);
          if (body != relay_status::done) {
            release_upstream(false);
            co_return false;
          }
        }
        continue;
      }
      break;
    }
    if (retry) {
      continue;
    }
    break;
  }
  if (body_complete) {
    in_.consume(buffered);
  }
  if (expect_pending) {
    // A final answer came before the body: the client may or may not send it now,
    // so neither connection can carry another request.
    client_keep_alive = false;
  }

  if (resp_.status == 101) {
    if (!req_info_.upgrade) {
      release_upstream(false);
      refusal_ =
          refusal{502, "http_protocol_error", "upstream switched protocols without being asked"};
      co_await respond_error(true);
      co_return false;
    }
    http::write_client_response(out_, resp_, resp_info_, client_version, false);
    up_in_.consume(resp_head_len);
    if (co_await write_all(client(), out_)) {
      co_await tunnel(upstream());
    }
    co_return false;
  }
  // After a final answer to a pending Expect, the upstream may still be waiting for a
  // body that will never come: it is not reused.
  co_return co_await relay_response(resp_head_len, client_keep_alive, !expect_pending);
}

awaitable<bool> session::relay_response(std::size_t head_len, bool client_keep_alive,
                                        bool upstream_reusable) {
  if (client_version_ == http::version::http10 && resp_info_.body == http::body_kind::chunked) {
    // airlock asked in HTTP/1.0, which rules chunked out; relaying it would garble the body.
    release_upstream(false);
    refusal_ = refusal{502, "http_protocol_error",
                       "upstream answered an HTTP/1.0 request with chunked framing"};
    co_await respond_error(true);
    co_return false;
  }
  const bool until_close = resp_info_.body == http::body_kind::until_close;
  const bool keep = client_keep_alive && !until_close && !draining_ && !worker_.draining();
  http::write_client_response(out_, resp_, resp_info_, client_version_, keep);
  up_in_.consume(head_len);
  chunks_.reset();
  const auto st = co_await relay_body(upstream(), up_in_, client(), resp_info_.body,
                                      resp_info_.content_length, out_, true);
  if (st == relay_status::done) {
    release_upstream(upstream_reusable && resp_info_.keep_alive && !until_close);
    co_return keep;
  }
  if (st == relay_status::source_failed && until_close) {
    // A reset is the only way to tell the client a close-delimited body is cut short.
    error_code ignored;
    client_.set_option(asio::socket_base::linger(true, 0), ignored);
  }
  release_upstream(false);
  co_return false;
}

awaitable<session::upstream_head> session::read_response_head(std::size_t& head_len,
                                                              bool is_head_request) {
  const auto& cfg = worker_.cfg().proxy;
  const http::head_limits limits{cfg.max_header_bytes, cfg.max_header_count};
  std::size_t resume = 0;
  for (;;) {
    if (!up_in_.empty()) {
      const auto scan = http::scan_head(up_in_.data(), resume, limits);
      if (scan.st == http::head_scan::state::complete) {
        up_in_.consume(scan.skip);
        head_len = scan.length;
        const auto head = up_in_.data().substr(0, head_len);
        if (auto err = http::parse_response(head, limits, resp_)) {
          upstream_error_ = err.reason;
          co_return upstream_head::invalid;
        }
        if (auto err =
                http::analyze_response(resp_, is_head_request ? "HEAD" : "GET", resp_info_)) {
          upstream_error_ = err.reason;
          co_return upstream_head::invalid;
        }
        co_return upstream_head::ok;
      }
      if (scan.st == http::head_scan::state::error) {
        upstream_error_ = scan.error.status == 431 ? "upstream response head too large"
                                                   : "malformed upstream response head";
        co_return upstream_head::invalid;
      }
      resume = scan.scanned;
    }
    auto [ec, n] = co_await upstream().read_some(up_in_.prepare(read_chunk));
    if (ec) {
      if (deadline_.fired()) {
        co_return upstream_head::timed_out;
      }
      co_return up_in_.empty() && (ec == asio::error::eof || ec == asio::error::connection_reset)
          ? upstream_head::closed_before_response
          : upstream_head::failed;
    }
    up_in_.commit(n);
  }
}

awaitable<session::relay_status> session::relay_body(stream_ref src, byte_buffer& buf,
                                                     stream_ref dst, http::body_kind kind,
                                                     std::uint64_t length, std::string_view prefix,
                                                     bool to_client) {
  const auto idle = worker_.cfg().proxy.timeouts.idle;
  std::uint64_t remaining = length;
  auto& counters = worker_.counters();
  for (;;) {
    std::size_t take = 0;
    bool done = false;
    switch (kind) {
      case http::body_kind::none:
        done = true;
        break;
      case http::body_kind::length:
        take = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), remaining));
        remaining -= take;
        done = remaining == 0;
        break;
      case http::body_kind::chunked: {
        const auto r = chunks_.feed(buf.data());
        if (r.error) {
          co_return relay_status::bad_framing;
        }
        take = r.consumed;
        done = r.done;
        break;
      }
      case http::body_kind::until_close:
        take = buf.size();
        break;
    }
    if (take > 0 || !prefix.empty()) {
      deadline_.arm(idle);
      if (!co_await write_all(dst, prefix, buf.data().substr(0, take))) {
        co_return deadline_.fired() ? relay_status::timed_out : relay_status::sink_failed;
      }
      prefix = {};
      buf.consume(take);
    }
    if (done) {
      co_return relay_status::done;
    }
    deadline_.arm(idle);
    auto [ec, n] = co_await src.read_some(buf.prepare(read_chunk));
    if (ec) {
      if (ec == asio::error::eof && kind == http::body_kind::until_close) {
        co_return relay_status::done;
      }
      co_return deadline_.fired() ? relay_status::timed_out : relay_status::source_failed;
    }
    buf.commit(n);
    if (!to_client) {
      stats::add(counters.bytes_from_client, n);
    }
  }
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
  // Overrides are keyed by the authority alone: a TLS upstream has the same one.
  if (auto it = cfg.resolve.find(target.to_string()); it != cfg.resolve.end()) {
    host = it->second.host;
    port = it->second.port;
  }
  upstream_ = std::make_unique<upstream_conn>(tcp::socket(client_.get_executor()));
  error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    auto [cec] = co_await upstream_->sock.async_connect(tcp::endpoint(literal, port), use_tuple);
    ec = cec;
  } else {
    if (!resolver_) {
      resolver_.emplace(client_.get_executor());
    }
    auto [rec, results] = co_await resolver_->async_resolve(host, std::to_string(port), use_tuple);
    if (rec) {
      upstream_.reset();
      if (deadline_.fired()) {
        co_return refusal{504, "dns_timeout", "looking up " + target.host + " timed out"};
      }
      co_return refusal{502, "dns_error", "cannot resolve " + target.host};
    }
    auto [cec, endpoint] = co_await asio::async_connect(upstream_->sock, results, use_tuple);
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
  upstream_->tls.emplace(upstream_->sock, worker_.tls()->upstream);
  SSL* ssl = upstream_->tls->native_handle();
  if (!prepare_upstream_tls(ssl, target.host, target.ipv6 || is_ipv4_literal(target.host))) {
    upstream_.reset();
    co_return refusal{502, "tls_protocol_error", "cannot verify the name " + target.host};
  }
  // Sessions are cached by "tls:host:port" and only after a verified handshake, so a
  // resumed session is one made for this very name.
  worker_.tls_sessions().apply(key_, ssl);
  auto [ec] = co_await upstream_->tls->async_handshake(ssl::stream_base::client, use_tuple);
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    upstream_.reset();
    if (deadline_.fired()) {
      co_return refusal{504, "tls_protocol_error",
                        "TLS handshake with " + target.to_string() + " timed out"};
    }
    if (verify != X509_V_OK) {
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
