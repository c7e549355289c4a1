#include "proxy/flow/http_client.hpp"

#include <openssl/crypto.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/ssl/error.hpp>

#include "proxy/flow/dialer.hpp"
#include "proxy/flow/http_client_body.hpp"
#include "proxy/http/head.hpp"
#include "proxy/http/message.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

namespace {

// Ends the pending step when the call's deadline passes: the step's cancel runs (closing
// the socket, or ending the wait for a lookup) and the step fails with fired() set. The
// timer's handler shares only this state, so it may run after the call is over and then
// does nothing. Single executor: the handler runs only while the call is suspended, so a
// step that checks fired() before it starts cannot miss the deadline.
class call_deadline {
 public:
  call_deadline(const asio::any_io_executor& ex, clock::time_point at)
      : timer_(ex, at), state_(std::make_shared<state>()) {
    timer_.async_wait([s = state_](const error_code& ec) {
      if (!ec) {
        s->fired = true;
        if (s->cancel) {
          s->cancel();
        }
      }
    });
  }
  ~call_deadline() { state_->cancel = nullptr; }  // the timer's destructor ends its wait
  call_deadline(const call_deadline&) = delete;
  call_deadline& operator=(const call_deadline&) = delete;

  bool fired() const { return state_->fired; }

  // cancel ends the step under way until the returned scope closes.
  [[nodiscard]] auto during(std::function<void()> cancel) {
    state_->cancel = std::move(cancel);
    struct scope {
      std::function<void()>* cancel;
      ~scope() { *cancel = nullptr; }
    };
    return scope{&state_->cancel};
  }

 private:
  struct state {
    bool fired = false;
    std::function<void()> cancel;
  };
  asio::steady_timer timer_;
  std::shared_ptr<state> state_;
};

client_error timed_out(client_error::step at, std::string detail) {
  return client_error{at, true, std::move(detail)};
}

// Reads up to the final response head (interim 1xx answers dropped) and fills out's status
// and fields and info's framing; the bytes after the head stay in buf.
awaitable<std::optional<client_error>> read_head(stream_ref stream, std::string& buf,
                                                 const http_call& call, call_deadline& deadline,
                                                 http_response& out, http::response_info& info) {
  const std::string where = call.to.name.to_string();
  const http::head_limits limits{16 * 1024, 100};
  std::array<char, 4096> chunk{};
  std::size_t resume = 0;
  for (int interim = 0; interim < 8;) {
    const auto scan = http::scan_head(buf, resume, limits);
    if (scan.st == http::head_scan::state::complete) {
      const std::string_view head(buf.data() + scan.skip, scan.length);
      http::response_head parsed;
      http::head_error bad = http::parse_response(head, limits, parsed);
      if (!bad && parsed.status < 200 && parsed.status != 101) {
        buf.erase(0, scan.skip + scan.length);
        resume = 0;
        ++interim;
        continue;
      }
      bad = bad ? bad : http::analyze_response(parsed, call.method, info);
      if (bad) {
        co_return client_error{
            client_error::step::response, false,
            "not an HTTP response from " + where + ": " + std::string(bad.reason)};
      }
      out.status = parsed.status;
      for (const auto& h : parsed.headers) {
        out.headers.emplace_back(h.name, h.value);
      }
      buf.erase(0, scan.skip + scan.length);
      co_return std::nullopt;
    }
    if (scan.st == http::head_scan::state::error) {
      co_return client_error{
          client_error::step::response, false,
          "not an HTTP response from " + where + ": " + std::string(scan.error.reason)};
    }
    resume = scan.scanned;
    error_code ec;
    std::size_t n = 0;
    if (!deadline.fired()) {
      const auto scope = deadline.during([&stream] {
        error_code ignored;
        stream.socket().close(ignored);
      });
      std::tie(ec, n) = co_await stream.read_some(asio::buffer(chunk));
    }
    if (deadline.fired() || ec) {
      co_return client_error{
          client_error::step::read, deadline.fired(),
          "no answer from " + where +
              (deadline.fired() ? std::string(" in time") : ": " + ec.message())};
    }
    buf.append(chunk.data(), n);
  }
  co_return client_error{client_error::step::response, false,
                         "too many interim responses from " + where};
}

awaitable<http_result> read_response(stream_ref stream, const http_call& call,
                                     call_deadline& deadline) {
  const std::string where = call.to.name.to_string();
  std::string buf;
  http_response out;
  http::response_info info;
  if (auto bad = co_await read_head(stream, buf, call, deadline, out, info)) {
    co_return std::move(*bad);
  }
  body_collector body(info.body, info.content_length, call.max_body);
  body.feed(buf);
  std::array<char, 16 * 1024> chunk{};
  while (body.current() == body_collector::state::more && !deadline.fired()) {
    error_code ec;
    std::size_t n = 0;
    {
      const auto scope = deadline.during([&stream] {
        error_code ignored;
        stream.socket().close(ignored);
      });
      std::tie(ec, n) = co_await stream.read_some(asio::buffer(chunk));
    }
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      body.at_eof();
    } else if (ec && !deadline.fired()) {
      co_return client_error{client_error::step::read, false,
                             "the response from " + where + " broke off: " + ec.message()};
    } else {
      body.feed(std::string_view(chunk.data(), n));
    }
  }
  switch (body.current()) {
    case body_collector::state::done:
      out.body = body.body();
      co_return std::move(out);
    case body_collector::state::too_large:
      co_return client_error{
          client_error::step::too_large, false,
          "the response from " + where + " is over " + std::to_string(call.max_body) + " bytes"};
    case body_collector::state::malformed:
      co_return client_error{client_error::step::response, false,
                             "the response body from " + where + " is malformed or cut short"};
    case body_collector::state::more:
      break;
  }
  co_return timed_out(client_error::step::read, "the response from " + where + " is late");
}

}  // namespace

namespace {

// The dialer's refusal as this client's error: the step from the Proxy-Status type it chose.
client_error from_refusal(const refusal& r) {
  using step = client_error::step;
  step at = step::connect;
  if (r.error_type.starts_with("dns_")) {
    at = step::resolve;
  } else if (r.error_type.starts_with("tls_")) {
    at = step::tls;
  }
  return client_error{at, r.kind == refusal_kind::upstream_timeout, r.detail};
}

// The dialer runs under an io_deadline, whose watchdog closes what the dial is waiting on;
// both live as long as the watchdog, which may finish after the call.
struct dial_guard {
  explicit dial_guard(const asio::any_io_executor& ex) : deadline(ex) {}
  io_deadline deadline;
  dial_watch watch;
};

}  // namespace

awaitable<dial_result> dial(const dial_target& to, const dial_context& with,
                            clock::time_point deadline) {
  const auto ex = co_await asio::this_coro::executor;
  const auto guard = std::make_shared<dial_guard>(ex);
  guard->deadline.arm_at(deadline);
  asio::co_spawn(
      ex,
      [guard]() -> awaitable<void> {
        const std::function<void()> on_expiry = [g = guard.get()] { g->watch.close(); };
        co_await guard->deadline.watch(on_expiry);
      },
      asio::detached);
  dialer d(with, ex, guard->deadline, guard->watch);
  const std::string key = (to.tls ? "tls:" : "") + to.name.to_string();
  const dial_request request{to.name, key, to.tls};
  auto got = co_await d.dial(request);
  guard->deadline.stop();
  if (!got) {
    co_return dial_result(from_refusal(got.error()));
  }
  co_return dial_result(std::move(*got));
}

awaitable<http_result> send_http(const http_call& call, const dial_context& with) {
  // Whatever happens, the request (and the credential it may carry) is gone at the end;
  // once written it goes at once.
  struct wipe_on_exit {
    std::span<char> bytes;
    ~wipe_on_exit() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  } wipe{call.request};
  auto dialed = co_await dial(call.to, with, call.deadline);
  if (auto* bad = std::get_if<client_error>(&dialed)) {
    co_return std::move(*bad);
  }
  const upstream_ptr conn = std::move(std::get<upstream_ptr>(dialed));
  const auto ex = co_await asio::this_coro::executor;
  call_deadline deadline(ex, call.deadline);
  stream_ref stream = conn->stream();
  error_code ec;
  {
    const auto scope = deadline.during([c = conn.get()] {
      error_code ignored;
      c->sock.close(ignored);
    });
    const std::array<asio::const_buffer, 1> out{
        asio::buffer(call.request.data(), call.request.size())};
    std::size_t n = 0;
    std::tie(ec, n) = co_await stream.write(out);
  }
  OPENSSL_cleanse(call.request.data(), call.request.size());
  if (ec || deadline.fired()) {
    const std::string where = call.to.name.to_string();
    co_return client_error{client_error::step::write, deadline.fired(),
                           "no answer from " + where + ": " + ec.message()};
  }
  // Named first: GCC 12 could destroy a temporary in a co_await expression twice.
  http_result answer = co_await read_response(stream, call, deadline);
  co_return answer;
}

}  // namespace airlock::proxy
