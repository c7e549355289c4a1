#pragma once
// WebSocket frames from a scrubbed upstream to the agent (issue 18), parsed and their
// payloads scrubbed. Pure: bytes in, bytes out, no I/O.
//
// Server-to-client frames (RFC 6455). A data message (text or binary and its continuations)
// is one scrubber stream, so a secret cut across fragments is still caught; each control
// frame (ping, pong, close) is scrubbed whole on its own. Output is re-framed, which RFC 6455
// 5.4 lets an intermediary do when no extension was negotiated (airlock strips
// Sec-WebSocket-Extensions for credential hosts): each input data frame gives at most one
// output frame per feed, carrying what the scrubber released, so a frame that holds nothing
// back comes out byte for byte (with the minimal length encoding), and a frame larger than a
// read goes out as it arrives, as non-final fragments, never buffered whole. The bytes the
// scrubber holds back (they could begin a secret) stay held across frames and control frames
// and go out with the frame that ends the message.
//
// Fails closed, for good, on what it cannot scan or frame: a reserved bit set (an extension,
// compressed payloads), a masked frame (servers never mask), an unknown opcode, a length with
// the top bit set, a fragmented or oversized control frame, a continuation with no message
// open or a new message inside one. The bytes of a message held back then never go out.
//
// After a close frame the upstream may send nothing more (RFC 6455 5.5.1): whatever follows
// it is consumed and dropped, and closed() says so, so the caller can stop reading.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/policy/scrub_automaton.hpp"
#include "proxy/policy/scrubber.hpp"

namespace airlock::proxy {

class ws_filter {
 public:
  explicit ws_filter(std::shared_ptr<const scrub_automaton> automaton);

  struct result {
    std::size_t consumed = 0;  // bytes of `in` used (the rest waits for more input)
    bool error = false;        // frames airlock cannot scan; `reason` says why
    std::string_view reason;
  };

  // Reads upstream frame bytes from `in` and appends the frames for the agent to `out`.
  // Bytes not consumed are a frame head or a control frame not yet whole (at most 127
  // bytes): the caller keeps them and feeds them again with what follows. `out` grows by at
  // most in.size() plus the bytes held back before plus 10 bytes per frame. On error `out`
  // holds only whole frames, all scrubbed, and every later feed fails the same way.
  result feed(std::string_view in, std::string& out);

  // The secrets changed (a rotation) on a connection that stays open: what comes from here
  // on is scanned for the new ones.
  void rekey(const std::shared_ptr<const scrub_automaton>& automaton);

  // Occurrences replaced so far, on this connection.
  std::uint64_t replacements() const;

  // Whether a close frame went out (what follows it is dropped).
  bool closed() const { return closed_; }

  // A close frame from airlock itself, for telling the agent why the stream ended (1002:
  // protocol error, 1011: internal error); the reason is cut to the 123 bytes a frame allows.
  static void append_close(std::string& out, std::uint16_t code, std::string_view reason);

 private:
  std::string_view out_of_order(std::uint8_t opcode) const;
  void start_data(bool fin, std::uint8_t opcode, std::uint64_t length);
  std::size_t take_payload(std::string_view in, std::string& out);
  void send_control(std::uint8_t opcode, std::string_view payload, std::string& out);
  result fail(std::size_t at, std::string_view reason);

  scrubber message_;             // the data message under way
  scrubber control_;             // each control frame, from its start (finish() readies it again)
  std::uint64_t remaining_ = 0;  // payload bytes of the current data frame still to come
  bool in_payload_ = false;      // inside a data frame (its head read)
  bool frame_fin_ = false;       // the current data frame ends its message
  bool in_message_ = false;      // a data message is open
  bool message_sent_ = false;    // a frame of it went out: the next is a continuation
  std::uint8_t opcode_ = 0;      // the open message's (text or binary)
  bool closed_ = false;
  std::string_view error_;
};

}  // namespace airlock::proxy
