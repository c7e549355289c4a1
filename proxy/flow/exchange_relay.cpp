// Moving one message from one leg to the other: response heads from the upstream, and
// bodies in either direction, streamed as they arrive within the framing's bounds.

#include <algorithm>
#include <array>

#include "proxy/flow/exchange.hpp"
#include "proxy/policy/rewrite.hpp"

namespace airlock::proxy {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;

}  // namespace

awaitable<bool> exchange::relay_response(std::size_t head_len, bool client_keep_alive,
                                         bool upstream_reusable) {
  if (client_version_ == http::version::http10 && resp_info_.body == http::body_kind::chunked) {
    // airlock asked in HTTP/1.0, which rules chunked out; relaying it would garble the body.
    release_upstream(false);
    const refusal refused{refusal_kind::upstream_error, 502, "http_protocol_error",
                          "upstream answered an HTTP/1.0 request with chunked framing"};
    co_await refuse(refused, true);
    co_return false;
  }
  response_filter::decision scrub;
  if (scrub_) {
    scrub = response_filter::decide(resp_, resp_info_, client_version_, scrub_pass_);
    if (!scrub.unreadable.empty()) {
      release_upstream(false);
      const refusal refused = unreadable_refusal(scrub.unreadable);
      co_await refuse(refused, true);
      co_return false;
    }
    if (scrub.filter && scrub.body.coding != body_coding::kind::identity &&
        !decoding_.cover(response_filter::decoding_reserve)) {
      release_upstream(false);
      const refusal refused = decode_budget_refusal(ctx_.scrubs.decodes().limit());
      co_await refuse(refused, true);
      co_return false;
    }
  }
  const bool until_close = resp_info_.body == http::body_kind::until_close ||
                           scrub.framing == http::client_framing::until_close;
  const bool keep = client_keep_alive && !until_close && !client_.closing();
  http::write_client_response(out_, resp_, resp_info_, client_version_, keep, ctx_.cfg.proxy.via,
                              scrub.framing);
  if (!cover_copies()) {
    release_upstream(false);
    const refusal refused = head_budget_refusal(ctx_.heads.limit(), true);
    co_await refuse(refused, true);
    co_return false;
  }
  up_in_.consume(head_len);
  up_in_.shrink();  // the buffer's share goes back before the body; out_ holds its own
  chunks_.reset();
  relay_status st = relay_status::done;
  if (scrub.filter) {
    filter_.start(scrub_, scrub.body);
    st = co_await relay_filtered(out_);
  } else {
    st = co_await relay_body(upstream_->stream(), up_in_, client_.leg(), resp_info_.body,
                             resp_info_.content_length, out_, true);
  }
  if (scrub_) {
    count_scrubbed(scrub.filter ? filter_.replacements() : 0);
  }
  if (st == relay_status::done) {
    release_upstream(upstream_reusable && resp_info_.keep_alive &&
                     resp_info_.body != http::body_kind::until_close);
    co_return keep;
  }
  if (until_close) {
    // A reset is the only way to tell the client a close-delimited body is cut short: by
    // the upstream, a timeout, or (decoded for an HTTP/1.0 client) a coding found broken.
    client_.reset_on_close();
  }
  release_upstream(false);
  co_return false;
}

awaitable<exchange::upstream_head> exchange::read_response_head(std::size_t& head_len,
                                                                bool is_head_request) {
  const auto& cfg = ctx_.cfg.proxy;
  const http::head_limits limits{cfg.max_header_bytes, cfg.max_header_count};
  std::size_t resume = 0;
  for (;;) {
    if (!up_in_.empty()) {
      const auto scan = http::scan_head(up_in_.data(), resume, limits);
      if (scan.st == http::head_scan::state::complete) {
        up_in_.consume(scan.skip);
        head_len = scan.length;
        if (scrub_) {
          // Before parsing: same length, and every field value the client sees is masked.
          scrubbed_ += filter_.scrub_head(scrub_, up_in_.writable_data(), head_len);
        }
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
    const asio::mutable_buffer room = up_in_.prepare(1);
    if (up_in_.over_budget()) {
      co_return upstream_head::over_budget;
    }
    auto [ec, n] = co_await upstream_->stream().read_some(room);
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

awaitable<exchange::relay_status> exchange::relay_body(stream_ref src, byte_buffer& buf,
                                                       stream_ref dst, http::body_kind kind,
                                                       std::uint64_t length,
                                                       std::string_view prefix, bool to_client) {
  const auto idle = ctx_.cfg.proxy.timeouts.idle;
  std::uint64_t remaining = length;
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
    buf.shrink();
    auto [ec, n] = co_await src.read_some(buf.prepare(read_chunk));
    if (ec) {
      if (ec == asio::error::eof && kind == http::body_kind::until_close) {
        co_return relay_status::done;
      }
      co_return deadline_.fired() ? relay_status::timed_out : relay_status::source_failed;
    }
    buf.commit(n);
    if (!to_client) {
      client_.count_in(n);
    }
  }
}

awaitable<bool> exchange::write_all(stream_ref to, std::string_view a, std::string_view b,
                                    std::string_view c) {
  const std::array<asio::const_buffer, 3> bufs{asio::buffer(a.data(), a.size()),
                                               asio::buffer(b.data(), b.size()),
                                               asio::buffer(c.data(), c.size())};
  auto [ec, n] = co_await to.write(bufs);
  if (to.same_socket(client_.leg())) {
    client_.count_out(n);
  }
  co_return !ec;
}

awaitable<void> exchange::refuse(const refusal& r, bool close) {
  co_await client_.refuse(r, close);
}

}  // namespace airlock::proxy
