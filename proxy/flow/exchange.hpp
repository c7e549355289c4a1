#pragma once
// One request and its answer. The connection hands each request head to its exchange,
// which asks route_decision where it goes, builds the upstream head (with the credential, if a rule
// injects one), gets an upstream connection from the dialer, sends the request, relays
// interim answers, then the final answer and its body, or tunnels after a 101 or a
// CONNECT. Its state is the request's own; it talks to the client only through
// client_side.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/filter/response_filter.hpp"
#include "proxy/flow/byte_buffer.hpp"
#include "proxy/flow/client_side.hpp"
#include "proxy/flow/dialer.hpp"
#include "proxy/flow/flow_context.hpp"
#include "proxy/flow/head_budget.hpp"
#include "proxy/flow/request_record.hpp"
#include "proxy/flow/scrub_cache.hpp"
#include "proxy/http/chunked.hpp"
#include "proxy/http/head.hpp"
#include "proxy/http/message.hpp"
#include "proxy/io/io_deadline.hpp"
#include "proxy/policy/route_decision.hpp"
#include "secrets/store.hpp"

namespace airlock::config {
struct credential_rule;
}

namespace airlock::proxy {

class exchange {
 public:
  exchange(flow_context& ctx, const asio::any_io_executor& ex, client_side& client,
           io_deadline& deadline, request_record& record);
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;

  // The request as the connection read it, and the connection's context.
  struct request {
    const http::request_head& head;
    const http::request_info& info;
    std::size_t head_len;
    // The CONNECT authority when the request came inside an intercepted tunnel.
    const std::optional<authority>& intercepted;
  };

  // What the connection does next: keep reading requests, or (after a CONNECT to a host a
  // credential rule names) speak TLS to the client as intercept and read requests inside.
  struct outcome {
    bool keep = false;
    std::optional<authority> intercept;
  };
  // Any request: a CONNECT, a forward, a reverse route, or a request inside an intercepted
  // tunnel.
  awaitable<outcome> serve(const request& r);

  // The connection's deadline fired: pending upstream I/O ends with operation_aborted.
  void cancel();
  // Closes the upstream side now.
  void close();
  // Whether a request of this connection had a credential injected, or the upstream
  // connection held now did: revoke closes it.
  bool carried_credential() const;
  // At the end of a request: large copies are freed and their share given back.
  void shed_copies();

 private:
  // Outcome of reading a response head from the upstream.
  enum class upstream_head { ok, closed_before_response, failed, timed_out, invalid, over_budget };
  enum class relay_status { done, source_failed, sink_failed, bad_framing, timed_out };
  // What sending needs once the head is consumed from the client's buffer: how much of
  // the body came with it, what is left to stream, and whether the request may be repeated.
  struct body_state {
    std::size_t buffered = 0;
    std::uint64_t remaining = 0;
    bool complete = true;
    bool expect_pending = false;
    bool is_head = false;
    // A request the upstream may have received whole is sent again only when repeating it
    // is harmless (RFC 9110 9.2.2): a POST could charge the agent's account twice.
    bool idempotent = false;
    // Held entirely in memory: can be sent again if a pooled connection turns out dead.
    bool replayable = false;
  };

  // Steps of serve(), in order.
  void count_policy(const route_decision& d);
  awaitable<bool> forward(const request& r, destination& to, std::optional<std::size_t> rule_index);
  awaitable<outcome> connect(const request& r, destination& to,
                             const route_decision::action_type& action);
  awaitable<bool> answer_options(const request& r);
  awaitable<bool> answer_check_host(const request& r, const destination& to);
  std::optional<refusal> build_head(const request& r, const absolute_target& target,
                                    const config::credential_rule* rule);
  std::optional<refusal> start_body(const request& r, const config::credential_rule* rule,
                                    body_state& body);
  awaitable<bool> send_and_relay(const request& r, const authority& auth, bool tls,
                                 const config::credential_rule* rule, body_state& body);
  // Sends the head and body and reads interim answers: ok with resp_ holding the final
  // head, retry on a fresh connection, or over (answered, or the connection ends: keep).
  enum class sent { ok, retry, over };
  awaitable<sent> send_once(const request& r, bool reused, bool first_attempt,
                            const config::credential_rule* rule, body_state& body,
                            std::size_t& resp_head_len, bool& keep);
  // Reads response heads, relaying interim ones, until the final one is in resp_.
  awaitable<sent> await_final_head(const request& r, bool reused, bool first_attempt,
                                   body_state& body, std::size_t& resp_head_len);
  awaitable<bool> deliver(const request& r, std::size_t resp_head_len, bool client_keep_alive,
                          bool upstream_reusable);

  // Relaying (exchange_relay.cpp).
  awaitable<upstream_head> read_response_head(std::size_t& head_len, bool is_head_request);
  awaitable<bool> relay_response(std::size_t head_len, bool client_keep_alive,
                                 bool upstream_reusable);
  awaitable<relay_status> relay_body(stream_ref src, byte_buffer& src_buf, stream_ref dst,
                                     http::body_kind kind, std::uint64_t length,
                                     std::string_view prefix, bool to_client);
  awaitable<bool> write_all(stream_ref to, std::string_view a, std::string_view b = {},
                            std::string_view c = {});

  // Scrubbing (exchange_scrub.cpp): whether this request's answers are scrubbed, and with
  // what; the filtered relay of a body; the count, once the answer is over.
  void choose_scrub(const authority& upstream, const config::credential_rule* rule);
  awaitable<relay_status> relay_filtered(std::string_view prefix);
  void count_scrubbed(std::uint64_t in_body);
  refusal unreadable_refusal(std::string_view coding) const;
  awaitable<void> refuse(const refusal& r, bool close);

  // Returns upstream_ to the pool when reusable, else closes it.
  void release_upstream(bool reusable);
  // Copies of a head are the exchange's own up to a small allowance; beyond it they are
  // reserved from the head budget while they exist. False when the budget refuses.
  bool cover_copies();
  std::size_t copies_bytes() const;

  flow_context& ctx_;
  client_side& client_;
  io_deadline& deadline_;
  request_record& record_;
  dial_watch watch_;
  dialer dialer_;

  http::version client_version_ = http::version::http11;
  head_hold copies_;
  head_hold decoding_;  // of ctx_.scrubs.decodes(), while a compressed answer is decoded
  upstream_ptr upstream_;
  byte_buffer up_in_;    // from the upstream
  std::string out_;      // the head being sent to the client, reused across requests
  std::string req_out_;  // the upstream request head; wiped after use, it may hold a secret
  std::string host_text_;
  std::string route_path_;  // the upstream target of a routed request
  std::string key_;         // pool key of upstream_
  // Secrets in use while a head is built, by name: sizing the head and writing it read
  // each one once.
  std::vector<std::pair<std::string_view, secrets::value_ref>> pins_;
  bool carried_credential_ = false;
  std::string_view upstream_error_;
  http::response_head resp_;
  http::response_info resp_info_;
  http::chunked_scanner chunks_;
  // Scrubbing: the automaton of the upstream's scope (null: not a scrubbed host).
  std::shared_ptr<const scrub_automaton> scrub_;
  bool scrub_pass_ = false;     // every rule naming the host lets unreadable bodies pass
  std::size_t scrub_rule_ = 0;  // the rule its replacements are counted under
  std::uint64_t scrubbed_ = 0;  // replacements in this request's answers so far
  authority scrub_host_;        // whose scope scrub_scope_ is
  scrub_scope scrub_scope_;
  scrub_memo scrub_memo_;
  response_filter filter_;
};

}  // namespace airlock::proxy
