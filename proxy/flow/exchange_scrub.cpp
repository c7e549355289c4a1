// Response scrubbing in an exchange (issue 18): which answers are scrubbed and with which
// secrets, a body relayed through the response filter, and the count once it is over.

#include <spdlog/spdlog.h>

#include "proxy/flow/exchange.hpp"
#include "proxy/observe/access_log.hpp"
#include "proxy/observe/metrics.hpp"

namespace airlock::proxy {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;

}  // namespace

void exchange::choose_scrub(const authority& upstream, const config::credential_rule* rule) {
  scrubbed_ = 0;
  // A connection keeps talking to one host: its scope is worked out once.
  if (!(upstream == scrub_host_)) {
    scrub_host_ = upstream;
    scrub_scope_ = scrub_scope_for(ctx_.cfg.credentials, upstream.host, upstream.port);
  }
  if (scrub_scope_.empty()) {
    scrub_.reset();
    return;
  }
  scrub_ = scrub_memo_.get(ctx_.scrubs, scrub_scope_);
  scrub_pass_ = scrub_scope_.pass_unreadable;
  scrub_rule_ = rule != nullptr ? static_cast<std::size_t>(rule - ctx_.cfg.credentials.data())
                                : scrub_scope_.rules.front();
}

void exchange::count_scrubbed(std::uint64_t in_body) {
  const std::uint64_t n = scrubbed_ + in_body;
  if (n > 0) {
    ctx_.series.scrubbed(scrub_rule_, n);
    spdlog::debug("scrub: {} occurrence(s) masked in a response from {}", n,
                  scrub_host_.to_string());
  }
  if (access_log_enabled()) {
    record_.scrubbed = static_cast<std::int64_t>(n);
  }
}

refusal exchange::unreadable_refusal(std::string_view coding) const {
  refusal r{refusal_kind::scrub_unreadable, 502, "http_response_content_coding",
            "the upstream answered in a coding airlock cannot scan for secrets (" +
                std::string(coding) + "); it asked for identity"};
  r.reason = "scrub_unreadable";
  // The rule that refused: not one that lets unreadable bodies pass, even if it injected.
  std::size_t refusing = scrub_rule_;
  for (const std::uint32_t i : scrub_scope_.rules) {
    if (!ctx_.cfg.credentials[i].scrub.pass_unreadable) {
      refusing = i;
      break;
    }
  }
  r.rule = ctx_.cfg.credentials[refusing].name;
  return r;
}

awaitable<exchange::relay_status> exchange::relay_filtered(std::string_view prefix) {
  const auto idle = ctx_.cfg.proxy.timeouts.idle;
  stream_ref src = upstream_->stream();
  stream_ref dst = client_.leg();
  bool eof = false;
  for (;;) {
    // A long answer (an event stream) may outlive a rotation: it is scanned for the values
    // that the upstream can have been sent since, not only for those of when it began.
    filter_.rekey(scrub_memo_.get(ctx_.scrubs, scrub_scope_));
    const response_filter::step s = eof ? filter_.end_of_input() : filter_.feed(up_in_.data());
    if (!s.error.empty()) {
      upstream_error_ = s.error;
      spdlog::debug("scrub: response from {} cut short: {}", scrub_host_.to_string(), s.error);
      co_return eof ? relay_status::source_failed : relay_status::bad_framing;
    }
    if (!prefix.empty() || !s.out[0].empty() || !s.out[1].empty()) {
      deadline_.arm(idle);
      if (!co_await write_all(dst, prefix, s.out[0], s.out[1])) {
        co_return deadline_.fired() ? relay_status::timed_out : relay_status::sink_failed;
      }
      prefix = {};
    }
    // After the write: a plain body's output is a view of these bytes.
    up_in_.consume(s.consumed);
    if (s.done) {
      co_return relay_status::done;
    }
    if (s.more) {
      continue;
    }
    if (eof) {
      co_return relay_status::source_failed;
    }
    deadline_.arm(idle);
    up_in_.shrink();
    auto [ec, n] = co_await src.read_some(up_in_.prepare(read_chunk));
    if (ec == asio::error::eof) {
      eof = true;
      continue;
    }
    if (ec) {
      co_return deadline_.fired() ? relay_status::timed_out : relay_status::source_failed;
    }
    up_in_.commit(n);
  }
}

}  // namespace airlock::proxy
