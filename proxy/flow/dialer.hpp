#pragma once
// Getting an upstream connection: from the worker's pool, or dialed (resolve override, IP
// literal or asynchronous lookup, then connect to the endpoints the filter allows) and, for
// TLS upstreams, a verified handshake that resumes the last session for the same authority.
// It keeps no request state: the caller gets the connection or the refusal that says why.
// The one dialer: the data plane's exchanges and airlock's own calls (revoke hooks, through
// http_client) both dial with it.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "config/model.hpp"
#include "proxy/flow/dns_pool.hpp"
#include "proxy/flow/result.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/io/io_deadline.hpp"
#include "proxy/policy/endpoint_filter.hpp"
#include "proxy/tls/stream.hpp"

namespace airlock::proxy {

// What the connection's deadline cancels while a dial is in flight.
struct dial_watch {
  tcp::socket* socket = nullptr;
  std::shared_ptr<dns_pool::lookup> lookup;

  void cancel();
  void close();
};

struct stats;
class upstream_pool;
class tls_session_cache;

// What a dial uses besides the target. The data plane fills every field; airlock's own calls
// (revoke hooks) leave out egress, self, the pool, counters and session cache: they dial
// trusted config URLs, which no endpoint check applies to.
struct dial_context {
  explicit dial_context(dns_pool& lookups, SSL_CTX* upstream_tls = nullptr,
                        const std::map<std::string, config::endpoint>* overrides = nullptr)
      : dns(lookups), tls(upstream_tls), resolve(overrides) {}

  dns_pool& dns;
  SSL_CTX* tls = nullptr;  // the shared upstream client context; a TLS target needs it
  const std::map<std::string, config::endpoint>* resolve = nullptr;  // resolve: overrides
  const config::egress_config* egress = nullptr;   // private-address classes refused
  std::span<const tcp::endpoint> self;             // airlock's own listeners, never dialled
  std::optional<clock::duration> connect_timeout;  // re-arms the caller's deadline
  stats* counters = nullptr;
  upstream_pool* pool = nullptr;
  tls_session_cache* sessions = nullptr;
};

struct dial_request {
  const authority& target;
  const std::string& key;  // pool and TLS-session key ("tls:host:port" or "host:port")
  bool tls = false;
};

class dialer {
 public:
  dialer(const dial_context& ctx, asio::any_io_executor ex, io_deadline& deadline,
         dial_watch& watch)
      : ctx_(ctx), ex_(std::move(ex)), deadline_(deadline), watch_(watch) {}

  // A pooled connection when allowed, else a new one. can_retry: the request may be sent
  // again on a fresh connection if a pooled one turns out dead, so the pool may skip its
  // liveness probe. reused says which it was.
  awaitable<result<upstream_ptr>> get(const dial_request& r, bool allow_pooled, bool can_retry,
                                      bool& reused);
  awaitable<result<upstream_ptr>> dial(const dial_request& r);

 private:
  // The endpoints of plan (its literal, or the lookup of its host) that the endpoint filter
  // lets this dial use.
  awaitable<result<std::vector<tcp::endpoint>>> resolve(const authority& target,
                                                        const dial_plan& plan);
  awaitable<std::optional<refusal>> connect(upstream_conn& conn,
                                            const std::vector<tcp::endpoint>& to,
                                            const authority& target);
  awaitable<std::optional<refusal>> handshake(upstream_conn& conn, const dial_request& r);

  // Counts on the data plane's counters, when the dial has them.
  void count(std::atomic<std::uint64_t> stats::*counter) const;

  dial_context ctx_;
  asio::any_io_executor ex_;
  io_deadline& deadline_;
  dial_watch& watch_;
};

}  // namespace airlock::proxy
