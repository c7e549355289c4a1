#pragma once
// Getting an upstream connection: from the worker's pool, or dialed (resolve override, IP
// literal or asynchronous lookup, then connect to the endpoints the filter allows) and, for
// TLS upstreams, a verified handshake that resumes the last session for the same authority.
// It keeps no request state: the caller gets the connection or the refusal that says why.

#include <memory>
#include <string>

#include "proxy/flow/dns_pool.hpp"
#include "proxy/flow/flow_context.hpp"
#include "proxy/flow/result.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/io/io_deadline.hpp"
#include "proxy/tls/stream.hpp"

namespace airlock::proxy {

// What the connection's deadline cancels while a dial is in flight.
struct dial_watch {
  tcp::socket* socket = nullptr;
  std::shared_ptr<dns_pool::lookup> lookup;

  void cancel();
  void close();
};

struct dial_request {
  const authority& target;
  const std::string& key;  // pool and TLS-session key ("tls:host:port" or "host:port")
  bool tls = false;
};

class dialer {
 public:
  dialer(flow_context& ctx, asio::any_io_executor ex, io_deadline& deadline, dial_watch& watch)
      : ctx_(ctx), ex_(std::move(ex)), deadline_(deadline), watch_(watch) {}

  // A pooled connection when allowed, else a new one. can_retry: the request may be sent
  // again on a fresh connection if a pooled one turns out dead, so the pool may skip its
  // liveness probe. reused says which it was.
  awaitable<result<upstream_ptr>> get(const dial_request& r, bool allow_pooled, bool can_retry,
                                      bool& reused);
  awaitable<result<upstream_ptr>> dial(const dial_request& r);

 private:
  awaitable<result<std::vector<tcp::endpoint>>> resolve(const authority& target,
                                                        const std::string& host, std::uint16_t port,
                                                        bool overridden);
  awaitable<std::optional<refusal>> connect(upstream_conn& conn,
                                            const std::vector<tcp::endpoint>& to,
                                            const authority& target);
  awaitable<std::optional<refusal>> handshake(upstream_conn& conn, const dial_request& r);

  flow_context& ctx_;
  asio::any_io_executor ex_;
  io_deadline& deadline_;
  dial_watch& watch_;
};

}  // namespace airlock::proxy
