#pragma once
// Relays bytes both ways until both directions have ended: a blind CONNECT tunnel, or an
// upgraded connection (WebSocket) after its 101. Half-close passes through, each direction
// is bounded by the idle deadline, and a bulk plain direction moves to splice(2).

#include <optional>
#include <string>

#include "proxy/filter/ws_filter.hpp"
#include "proxy/flow/byte_buffer.hpp"
#include "proxy/flow/client_side.hpp"
#include "proxy/flow/flow_context.hpp"
#include "proxy/flow/scrub_cache.hpp"
#include "proxy/io/io_deadline.hpp"
#include "proxy/tls/stream.hpp"

namespace airlock::proxy {

class kernel_pipe;

class tunnel {
 public:
  // client: the agent's side (its leg, its buffered bytes, its byte counts); upstream and
  // up_buf: the other side and what was read from it beyond the last head.
  // frames: WebSocket frames from the upstream go through it to the agent (a scrubbed
  // host's upgrade); nullptr relays the bytes as they are. memo and scope: where its
  // secrets are looked up again, so a rotation while the connection is open is followed.
  tunnel(flow_context& ctx, io_deadline& deadline, client_side& client, stream_ref upstream,
         byte_buffer& up_buf, ws_filter* frames = nullptr, scrub_memo* memo = nullptr,
         const scrub_scope* scope = nullptr)
      : ctx_(ctx),
        deadline_(deadline),
        client_(client),
        upstream_(upstream),
        up_buf_(up_buf),
        frames_(frames),
        memo_(memo),
        scope_(scope) {}

  awaitable<void> run();

 private:
  enum class splice_end { half_closed, failed };

  awaitable<void> pump(stream_ref from, byte_buffer& buf, stream_ref to, bool upward);
  // The rest of one plain direction through a kernel pipe; failed means both must end.
  awaitable<splice_end> splice_pump(stream_ref from, kernel_pipe& pipe, stream_ref to, bool upward);
  awaitable<bool> write_all(stream_ref to, std::string_view bytes, bool upward);
  // Writes what the buffer holds: through the frame filter downward when there is one.
  // Returns the bytes consumed, or nothing when the write failed or the frames were invalid.
  awaitable<std::optional<std::size_t>> pass_on(byte_buffer& buf, stream_ref to, bool upward);

  flow_context& ctx_;
  io_deadline& deadline_;
  client_side& client_;
  stream_ref upstream_;
  byte_buffer& up_buf_;
  ws_filter* frames_;
  scrub_memo* memo_;
  const scrub_scope* scope_;
  std::string framed_;  // the filter's output, reused
};

}  // namespace airlock::proxy
