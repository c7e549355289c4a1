#include "proxy/filter/ws_filter.hpp"

#include <algorithm>
#include <utility>

namespace airlock::proxy {

namespace {

constexpr std::uint8_t op_continuation = 0;
constexpr std::uint8_t op_text = 1;
constexpr std::uint8_t op_binary = 2;
constexpr std::uint8_t op_close = 8;
constexpr std::uint8_t op_ping = 9;
constexpr std::uint8_t op_pong = 10;
constexpr std::uint64_t max_control_payload = 125;

struct frame_head {
  std::size_t size = 0;  // bytes of the head; 0 while it is not all there
  bool fin = false;
  std::uint8_t opcode = 0;
  std::uint64_t length = 0;
  std::string_view error;
};

// What can be judged is judged from the bytes there are, so a bad frame fails before the
// rest of its head arrives.
frame_head read_head(std::string_view in) {
  frame_head h;
  if (in.empty()) {
    return h;
  }
  const auto b0 = static_cast<std::uint8_t>(in[0]);
  h.fin = (b0 & 0x80U) != 0;
  h.opcode = b0 & 0x0fU;
  if ((b0 & 0x70U) != 0) {
    // No extension was negotiated: a reserved bit means one anyway (permessage-deflate sets
    // RSV1), and a compressed payload cannot be scanned.
    h.error = "websocket frame with a reserved bit set (an extension airlock cannot scan)";
    return h;
  }
  const bool control = h.opcode >= op_close;
  if (h.opcode != op_continuation && h.opcode != op_text && h.opcode != op_binary &&
      h.opcode != op_close && h.opcode != op_ping && h.opcode != op_pong) {
    h.error = "websocket frame with an unknown opcode";
    return h;
  }
  if (control && !h.fin) {
    h.error = "fragmented websocket control frame";
    return h;
  }
  if (in.size() < 2) {
    return h;
  }
  const auto b1 = static_cast<std::uint8_t>(in[1]);
  if ((b1 & 0x80U) != 0) {
    h.error = "masked websocket frame from the server";
    return h;
  }
  const std::uint8_t len7 = b1 & 0x7fU;
  if (control && len7 > max_control_payload) {
    h.error = "websocket control frame over 125 bytes";
    return h;
  }
  const std::size_t extra = len7 == 127 ? 8 : len7 == 126 ? 2 : 0;
  if (in.size() < 2 + extra) {
    return h;
  }
  h.length = extra == 0 ? len7 : 0;
  for (std::size_t i = 0; i < extra; ++i) {
    h.length = (h.length << 8) | static_cast<std::uint8_t>(in[2 + i]);
  }
  if ((h.length >> 63) != 0) {
    h.error = "websocket frame length with the top bit set";
    return h;
  }
  h.size = 2 + extra;
  return h;
}

// The minimal length encoding, as RFC 6455 5.2 asks of a sender.
void append_head(std::string& out, bool fin, std::uint8_t opcode, std::uint64_t length) {
  char head[10];
  std::size_t n = 2;
  head[0] = static_cast<char>((fin ? 0x80U : 0U) | opcode);
  if (length < 126) {
    head[1] = static_cast<char>(length);
  } else if (length <= 0xffff) {
    head[1] = static_cast<char>(126);
    n = 4;
  } else {
    head[1] = static_cast<char>(127);
    n = 10;
  }
  for (std::size_t i = n; i > 2; --i) {
    head[i - 1] = static_cast<char>(length & 0xffU);
    length >>= 8;
  }
  out.append(head, n);
}

}  // namespace

ws_filter::ws_filter(std::shared_ptr<const scrub_automaton> automaton)
    : message_(automaton), control_(std::move(automaton)) {}

std::uint64_t ws_filter::replacements() const {
  return message_.replacements() + control_.replacements();
}

void ws_filter::rekey(const std::shared_ptr<const scrub_automaton>& automaton) {
  message_.rekey(automaton);
  control_.rekey(automaton);
}

ws_filter::result ws_filter::fail(std::size_t at, std::string_view reason) {
  error_ = reason;
  return {at, true, reason};
}

ws_filter::result ws_filter::feed(std::string_view in, std::string& out) {
  if (!error_.empty()) {
    return {0, true, error_};
  }
  if (closed_) {
    return {in.size(), false, {}};
  }
  std::size_t pos = 0;
  while (pos < in.size()) {
    if (!in_payload_) {
      const frame_head h = read_head(in.substr(pos));
      if (!h.error.empty()) {
        return fail(pos, h.error);
      }
      if (const std::string_view e = out_of_order(h.opcode); !e.empty()) {
        return fail(pos, e);
      }
      if (h.size == 0) {
        break;  // the rest of the head has not come yet
      }
      if (h.opcode >= op_close) {
        // Whole or not at all: a control frame is at most 127 bytes, so waiting costs little,
        // and scrubbed whole it needs no scrubber state of its own across feeds.
        if (in.size() - pos - h.size < h.length) {
          break;
        }
        send_control(h.opcode, in.substr(pos + h.size, h.length), out);
        pos += h.size + h.length;
        if (h.opcode == op_close) {
          closed_ = true;
          return {in.size(), false, {}};
        }
        continue;
      }
      start_data(h.fin, h.opcode, h.length);
      pos += h.size;
    }
    // Also for an empty frame at the end of `in`: it may end its message.
    pos += take_payload(in.substr(pos), out);
  }
  return {pos, false, {}};
}

// Judged from the first byte, like the rest of what read_head can judge early.
std::string_view ws_filter::out_of_order(std::uint8_t opcode) const {
  if (opcode == op_continuation && !in_message_) {
    return "websocket continuation frame with no message open";
  }
  if ((opcode == op_text || opcode == op_binary) && in_message_) {
    return "websocket data frame inside a fragmented message";
  }
  return {};
}

void ws_filter::start_data(bool fin, std::uint8_t opcode, std::uint64_t length) {
  if (opcode != op_continuation) {
    opcode_ = opcode;
    message_sent_ = false;
    in_message_ = true;
  }
  frame_fin_ = fin;
  remaining_ = length;
  in_payload_ = true;
}

// Feeds what there is of the current data frame to the message's scrubber and sends what it
// released as one frame: the last of the message (with what finish() releases) when this
// frame ends it, else a fragment, unless empty.
std::size_t ws_filter::take_payload(std::string_view in, std::string& out) {
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, std::uint64_t{in.size()}));
  const std::string_view released = message_.feed(in.substr(0, n));
  remaining_ -= n;
  const bool last = remaining_ == 0 && frame_fin_;
  if (remaining_ == 0) {
    in_payload_ = false;
  }
  if (!last && released.empty()) {
    return n;
  }
  // finish() gives back exactly what is held, so the head can be written before it.
  const std::size_t tail = last ? message_.held() : 0;
  append_head(out, last, message_sent_ ? op_continuation : opcode_, released.size() + tail);
  out.append(released);
  message_sent_ = true;
  if (last) {
    out.append(message_.finish());
    in_message_ = false;
  }
  return n;
}

void ws_filter::send_control(std::uint8_t opcode, std::string_view payload, std::string& out) {
  append_head(out, true, opcode, payload.size());
  out.append(control_.feed(payload));
  out.append(control_.finish());
}

void ws_filter::append_close(std::string& out, std::uint16_t code, std::string_view reason) {
  reason = reason.substr(0, max_control_payload - 2);
  append_head(out, true, op_close, 2 + reason.size());
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xffU));
  out.append(reason);
}

}  // namespace airlock::proxy
