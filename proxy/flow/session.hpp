#pragma once
// One client connection: reads request heads, answers what airlock refuses, and
// hands each request to the forward or tunnel path. Runs as a coroutine on its
// worker's single-threaded io_context; a watchdog enforces the connection deadline.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/flow/byte_buffer.hpp"
#include "proxy/flow/dns_pool.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/http/chunked.hpp"
#include "proxy/http/head.hpp"
#include "proxy/http/message.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/io/io_deadline.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/tls/stream.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy {

class worker;
class kernel_pipe;

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket client, worker& owner);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Spawns the connection coroutine and its watchdog.
  void start();

  // Drain: closes the connection now if it is between requests; otherwise the
  // current response goes out with "Connection: close".
  void drain();

  // Closes every socket now (end of the drain deadline).
  void abort();

  // Whether this connection (or the upstream connection it holds) carried an injected
  // credential: revoke closes it, so nothing sent with the key keeps flowing.
  bool carried_credential() const;

 private:
  enum class phase { idle, reading, busy };
  enum class head_status { ok, closed, rejected };

  // Outcome of reading a response head from the upstream.
  enum class upstream_head { ok, closed_before_response, failed, timed_out, invalid, over_budget };

  enum class relay_status { done, source_failed, sink_failed, bad_framing, timed_out };

  awaitable<void> run();
  awaitable<head_status> read_request_head(std::size_t& head_len);
  awaitable<bool> serve_forward(std::size_t head_len);
  // Answers what airlock must not relay (a reflecting method where credentials go, an
  // OPTIONS or TRACE with Max-Forwards: 0): whether the connection goes on, or nullopt
  // when the request is to be forwarded.
  awaitable<std::optional<bool>> answer_here(const authority& target, std::size_t head_len);
  awaitable<bool> answer_options(std::size_t head_len);
  // Returns true when the tunnel was intercepted: requests then keep coming, over TLS.
  awaitable<bool> serve_connect(std::size_t head_len);
  awaitable<bool> intercept(const authority& target);

  // Tries a pooled connection for key (when allowed), else dials a new one into upstream_.
  // A refusal with status 0 means connected.
  // can_retry: the request may be sent again on a fresh connection if a pooled one
  // turns out dead, so the pool may skip its liveness probe.
  awaitable<refusal> connect_upstream(const authority& target, bool allow_pooled, bool& reused,
                                      bool tls, bool can_retry);
  awaitable<refusal> dial(const authority& target, bool tls);
  // Whether ep is one of airlock's own listeners (a request to it would loop).
  bool is_self(const tcp::endpoint& ep) const;
  awaitable<refusal> upstream_handshake(const authority& target);

  // Reads one response head into resp_/resp_info_; on invalid, upstream_error_ says why.
  awaitable<upstream_head> read_response_head(std::size_t& head_len, bool is_head_request);
  // Forwards the final response and its body; returns whether the client stays open.
  awaitable<bool> relay_response(std::size_t head_len, bool client_keep_alive,
                                 bool upstream_reusable);

  // Copies one message body of the given framing from src (starting with the bytes in
  // src_buf) to dst; prefix (a head) is written together with the first bytes.
  awaitable<relay_status> relay_body(stream_ref src, byte_buffer& src_buf, stream_ref dst,
                                     http::body_kind kind, std::uint64_t length,
                                     std::string_view prefix, bool to_client);

  // Relays bytes both ways until both directions have ended (CONNECT, Upgrade).
  awaitable<void> tunnel(stream_ref upstream);
  awaitable<void> pump(stream_ref from, byte_buffer& buf, stream_ref to, bool upward);
  // The rest of one plain direction through a kernel pipe; failed means both must end.
  enum class splice_end { half_closed, failed };
  awaitable<splice_end> splice_pump(stream_ref from, kernel_pipe& pipe, stream_ref to, bool upward);

  // Writes a then b completely; counts bytes sent to the client.
  awaitable<bool> write_all(stream_ref to, std::string_view a, std::string_view b = {});

  stream_ref client() { return stream_ref(client_, client_tls_ ? &*client_tls_ : nullptr); }
  stream_ref upstream() { return upstream_->stream(); }

  // Applies the egress policy to a destination (path: nullopt for CONNECT). True, with
  // refusal_ set, when the request must be refused; report-only denials are logged and
  // counted here and let through.
  bool policy_refuses(const authority& target, std::optional<std::string_view> path);

  // Answers with the error in refusal_; the body says why, for the agent. The refusal
  // is a member, set by a plain statement first, because GCC 12 can destroy temporaries
  // twice when they sit in a co_await full-expression.
  awaitable<void> respond_error(bool close);
  awaitable<void> reject_request(int status, std::string_view reason);

  // Copies of a head (the upstream request, its target and authority for the log and the
  // pool key, the response head for the client) are the connection's own up to a small
  // allowance; what they hold beyond it is reserved from the head budget while they exist.
  // False when the budget refuses: the request is then refused with 503.
  bool cover_copies();
  // At the end of a request: large copies are freed and their share given back.
  void shed_copies();
  std::size_t copies_bytes() const;

  // Returns upstream_ to the pool when reusable, else closes it.
  void release_upstream(bool reusable);
  void on_deadline();
  void close_all();

  tcp::socket client_;
  worker& worker_;
  io_deadline deadline_;
  phase phase_ = phase::reading;
  bool draining_ = false;
  bool first_request_ = true;

  byte_buffer in_;                               // from the client
  byte_buffer up_in_;                            // from the upstream
  head_hold copies_;                             // the budget's share for large copies
  std::optional<tls_socket_stream> client_tls_;  // set once a CONNECT is intercepted
  upstream_ptr upstream_;
  std::shared_ptr<dns_pool::lookup> lookup_;  // the name lookup in flight, if any
  std::string out_;                           // the head being sent, reused across requests
  std::string req_out_;  // the upstream request head; wiped after use, it may hold a secret
  std::string host_text_;
  std::string route_path_;  // the upstream target of a routed request
  // Secrets in use while a head is built, by name: sizing the head and writing it read
  // each one once.
  std::vector<std::pair<std::string_view, secrets::value_ref>> pins_;
  std::optional<authority> intercepted_;  // the CONNECT authority of an intercepted tunnel
  bool carried_credential_ = false;       // a request on it had a credential injected
  std::string key_;                       // pool key of upstream_
  std::string_view upstream_error_;
  refusal refusal_;
  bool prefer_json_ = false;  // the request's Accept asks for JSON
  traffic_mode mode_ = traffic_mode::forward;
  clock::time_point req_start_{};  // when the current request head was complete

  // For the access log: what the current request was, and byte counts at its start.
  void access_begin();
  void access_target(const authority& auth, std::string_view origin_form);
  void access_end(int status, std::string_view reason);
  std::string peer_;
  std::string log_method_;
  std::string log_authority_;
  std::string log_path_;
  std::string log_rule_;
  double upstream_ms_ = -1;
  std::uint64_t in_total_ = 0;
  std::uint64_t out_total_ = 0;
  std::uint64_t in_mark_ = 0;
  std::uint64_t out_mark_ = 0;

  http::version client_version_ = http::version::http11;
  http::request_head req_;
  http::request_info req_info_;
  http::response_head resp_;
  http::response_info resp_info_;
  http::chunked_scanner chunks_;
};

}  // namespace airlock::proxy
