// Sending a request upstream: an upstream connection from the dialer, the head and the
// body streamed as it arrives, interim answers (100 Continue drives a pending body), a
// retry on a fresh connection when a pooled one was dead, then the final answer.

#include <spdlog/spdlog.h>

#include "proxy/flow/exchange.hpp"
#include "proxy/flow/tunnel.hpp"
#include "proxy/http/intermediary.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/policy/rewrite.hpp"

namespace airlock::proxy {

namespace {

// How long a request with "Expect: 100-continue" waits for the upstream's interim
// answer before airlock tells the client to go ahead (curl's own wait is 1 s).
constexpr auto expect_window = std::chrono::milliseconds(1000);
constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";

refusal terminated(std::string detail) {
  return refusal{refusal_kind::upstream_error, 502, "connection_terminated", std::move(detail)};
}

}  // namespace

awaitable<bool> exchange::send_and_relay(const request& r, const authority& auth, bool tls,
                                         const config::credential_rule* rule, body_state& body) {
  bool client_keep_alive = r.info.keep_alive;
  std::size_t resp_head_len = 0;
  const dial_request to{auth, key_, tls};
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    up_in_.consume(up_in_.size());
    auto got = co_await dialer_.get(to, attempt == 0, body.replayable && body.idempotent, reused);
    if (!got) {
      if (body.complete) {
        client_.pending().consume(body.buffered);
      }
      co_await refuse(got.error(), !body.complete || !client_keep_alive);
      co_return (body.complete && client_keep_alive);
    }
    upstream_ = std::move(*got);
    bool keep = false;
    const sent s = co_await send_once(r, reused, attempt == 0, rule, body, resp_head_len, keep);
    if (s == sent::retry) {
      continue;
    }
    if (s == sent::over) {
      co_return keep;
    }
    break;
  }
  if (body.complete) {
    client_.pending().consume(body.buffered);
  }
  if (body.expect_pending) {
    // A final answer came before the body: the client may or may not send it now,
    // so neither connection can carry another request.
    client_keep_alive = false;
  }
  // After a final answer to a pending Expect, the upstream may still be waiting for a
  // body that will never come: it is not reused.
  const bool keep = co_await deliver(r, resp_head_len, client_keep_alive, !body.expect_pending);
  co_return keep;
}

awaitable<exchange::sent> exchange::send_once(const request& r, bool reused, bool first_attempt,
                                              const config::credential_rule* rule, body_state& body,
                                              std::size_t& resp_head_len, bool& keep) {
  keep = false;
  // A revoke that ran while this request was dialled closed nothing it could see: the
  // head already holds the key, so it is checked here, on the step that would send it.
  if (rule != nullptr && ctx_.secrets.revoked()) {
    release_upstream(false);
    const refusal refused = missing_secret_refusal("", rule->name, secrets::phase::revoked);
    co_await refuse(refused, true);
    co_return sent::over;
  }
  byte_buffer& in = client_.pending();
  deadline_.arm(ctx_.cfg.proxy.timeouts.idle);
  if (!co_await write_all(upstream_->stream(), req_out_, in.data().substr(0, body.buffered))) {
    release_upstream(false);
    if (reused && first_attempt) {
      co_return sent::retry;
    }
    const refusal refused = terminated("upstream closed the connection while the request was sent");
    co_await refuse(refused, true);
    co_return sent::over;
  }
  if (!body.complete) {
    // Streamed from here on: what was sent is gone from the buffer, and no retry.
    in.consume(body.buffered);
    body.buffered = 0;
  }
  if (!body.complete && !body.expect_pending) {
    const auto st = co_await relay_body(client_.leg(), in, upstream_->stream(), r.info.body,
                                        body.remaining, {}, false);
    if (st != relay_status::done) {
      release_upstream(false);
      if (st == relay_status::bad_framing) {
        const refusal refused{refusal_kind::bad_request, 400, "http_request_error",
                              "malformed chunked request body"};
        co_await refuse(refused, true);
      } else if (st == relay_status::sink_failed) {
        const refusal refused =
            terminated("upstream closed the connection during the request body");
        co_await refuse(refused, true);
      }
      co_return sent::over;
    }
  }
  const sent answered = co_await await_final_head(r, reused, first_attempt, body, resp_head_len);
  co_return answered;
}

awaitable<exchange::sent> exchange::await_final_head(const request& r, bool reused,
                                                     bool first_attempt, body_state& body,
                                                     std::size_t& resp_head_len) {
  byte_buffer& in = client_.pending();
  for (;;) {
    if (body.expect_pending) {
      deadline_.arm(expect_window);
    }
    const auto st = co_await read_response_head(resp_head_len, body.is_head);
    if (st == upstream_head::timed_out && body.expect_pending) {
      // The upstream does not send 100 Continue: let the client send its body anyway.
      resp_head_len = 0;
    } else if (st != upstream_head::ok) {
      release_upstream(false);
      if (st == upstream_head::closed_before_response && reused && first_attempt &&
          body.replayable && body.idempotent) {
        co_return sent::retry;
      }
      refusal failed{refusal_kind::upstream_error, 502, "http_protocol_error",
                     std::string(upstream_error_)};
      if (st == upstream_head::timed_out) {
        failed = refusal{refusal_kind::upstream_timeout, 504, "http_response_timeout",
                         "upstream sent no response in time"};
      } else if (st == upstream_head::over_budget) {
        failed = head_budget_refusal(ctx_.heads.limit(), true);
      } else if (st != upstream_head::invalid) {
        failed = terminated("upstream closed the connection before responding");
      }
      if (body.complete) {
        in.consume(body.buffered);
      }
      co_await refuse(failed, true);
      co_return sent::over;
    }
    const int status = resp_head_len == 0 ? 100 : resp_.status;
    if (status < 100 || status >= 200 || status == 101) {
      co_return sent::ok;
    }
    if (resp_head_len == 0 || client_version_ == http::version::http11) {
      if (resp_head_len == 0) {
        out_.assign(continue_100);
      } else {
        http::write_client_response(out_, resp_, resp_info_, client_version_, true,
                                    ctx_.cfg.proxy.via);
      }
      if (!co_await client_.send(out_)) {
        release_upstream(false);
        co_return sent::over;
      }
    }
    up_in_.consume(resp_head_len);
    if (body.expect_pending && status == 100) {
      body.expect_pending = false;
      const auto relayed = co_await relay_body(client_.leg(), in, upstream_->stream(), r.info.body,
                                               body.remaining, {}, false);
      if (relayed != relay_status::done) {
        release_upstream(false);
        co_return sent::over;
      }
    }
  }
}

awaitable<bool> exchange::deliver(const request& r, std::size_t resp_head_len,
                                  bool client_keep_alive, bool upstream_reusable) {
  const double upstream_s = std::chrono::duration<double>(clock::now() - record_.start).count();
  ctx_.series.upstream_latency(record_.mode, upstream_s);
  record_.upstream_ms = upstream_s * 1000;
  ctx_.series.request(record_.mode, resp_.status);
  if (resp_.status != 101) {
    const bool keep = co_await relay_response(resp_head_len, client_keep_alive, upstream_reusable);
    client_.answered(resp_.status);
    co_return keep;
  }
  // Only to what was asked for, WebSocket: after h2c, airlock would relay unread HTTP/2.
  if (!r.info.upgrade || !http::switches_to_relayed_upgrade(resp_)) {
    release_upstream(false);
    const refusal refused{refusal_kind::upstream_error, 502, "http_protocol_error",
                          "upstream switched to an unasked protocol"};
    co_await refuse(refused, true);
    co_return false;
  }
  // A scrubbed host's frames are scanned: airlock asked for no extension, and one the
  // upstream chose anyway (compression) would hide them.
  std::optional<ws_filter> frames;
  if (scrub_) {
    const std::string_view extension = upgrade_extension(resp_);
    if (!extension.empty() && !scrub_pass_) {
      release_upstream(false);
      const refusal refused = unreadable_refusal(extension);
      co_await refuse(refused, true);
      co_return false;
    }
    if (extension.empty()) {
      frames.emplace(scrub_);
    }
  }
  http::write_client_response(out_, resp_, resp_info_, client_version_, false, ctx_.cfg.proxy.via);
  up_in_.consume(resp_head_len);
  if (co_await client_.send(out_)) {
    tunnel upgraded(ctx_, deadline_, client_, upstream_->stream(), up_in_,
                    frames ? &*frames : nullptr, &scrub_memo_, &scrub_scope_);
    co_await upgraded.run();
  }
  if (scrub_) {
    count_scrubbed(frames ? frames->replacements() : 0);
  }
  // One line when the upgraded connection ends: its duration and bytes each way are the
  // whole conversation (Codex's model traffic is nothing but this).
  client_.answered(101);
  co_return false;
}

// OPTIONS with Max-Forwards: 0 ends at airlock (RFC 9110 7.6.2): it says what it relays.
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
