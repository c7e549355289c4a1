#pragma once
// For the WebSocket filter's tests and fuzz target, written independently of the code under
// test: an encoder of server frames (any length encoding, reserved bits, a mask, to build bad
// ones too), a strict reader of what the filter sends the agent, and the events (whole
// messages, control frames) the agent should see, scrubbed by the reference scrubber.
// Header-only, so the standalone libFuzzer build needs no library of tests.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/scrub_reference.hpp"

namespace airlock::proxy::testing {

struct ws_frame {
  bool fin = true;
  std::uint8_t opcode = 1;
  std::string payload;
};

// As a server writes it. length_bytes: 0 for the minimal encoding, else 1, 2 or 8 (whether
// it fits or not); bits: set in the first byte (reserved bits); mask: a client's masking key.
inline std::string ws_encode(const ws_frame& f, int length_bytes = 0, std::uint8_t bits = 0,
                             bool mask = false) {
  const std::uint64_t n = f.payload.size();
  if (length_bytes == 0) {
    length_bytes = n < 126 ? 1 : n <= 0xffff ? 2 : 8;
  }
  std::string out;
  out += static_cast<char>((f.fin ? 0x80 : 0) | bits | f.opcode);
  const char m = mask ? static_cast<char>(0x80) : 0;
  if (length_bytes == 1) {
    out += static_cast<char>(m | static_cast<char>(n));
  } else {
    out += static_cast<char>(m | (length_bytes == 2 ? 126 : 127));
    for (int i = length_bytes - 1; i >= 0; --i) {
      out += static_cast<char>((n >> (8 * i)) & 0xff);
    }
  }
  if (!mask) {
    return out + f.payload;
  }
  const std::string key = "\x11\x22\x33\x44";
  out += key;
  for (std::size_t i = 0; i < f.payload.size(); ++i) {
    out += static_cast<char>(f.payload[i] ^ key[i % 4]);
  }
  return out;
}

// Reads what a server may send when no extension was negotiated (RFC 6455 5.2-5.5), up to
// the first frame that breaks a rule (judged as soon as the bytes it needs are there), the
// end of the bytes (a frame cut short is left out) or a close frame (nothing may follow it).
struct ws_parsed {
  std::vector<ws_frame> frames;
  bool invalid = false;
};

inline ws_parsed ws_parse(std::string_view s) {
  ws_parsed p;
  bool open = false;
  for (std::size_t at = 0; at < s.size();) {
    const auto b0 = static_cast<std::uint8_t>(s[at]);
    const std::uint8_t op = b0 & 0x0f;
    const bool fin = (b0 & 0x80) != 0;
    const bool control = op >= 8;
    const bool known = op <= 2 || (op >= 8 && op <= 10);
    if ((b0 & 0x70) != 0 || !known || (control && !fin) || (op == 0 && !open) ||
        (op != 0 && !control && open)) {
      p.invalid = true;
      return p;
    }
    if (s.size() - at < 2) {
      return p;
    }
    const auto b1 = static_cast<std::uint8_t>(s[at + 1]);
    std::uint64_t n = b1 & 0x7f;
    if ((b1 & 0x80) != 0 || (control && n > 125)) {
      p.invalid = true;
      return p;
    }
    const std::size_t extra = n == 127 ? 8 : n == 126 ? 2 : 0;
    if (s.size() - at < 2 + extra) {
      return p;
    }
    if (extra != 0) {
      n = 0;
      for (std::size_t i = 0; i < extra; ++i) {
        n = (n << 8) | static_cast<std::uint8_t>(s[at + 2 + i]);
      }
    }
    if ((n >> 63) != 0) {
      p.invalid = true;
      return p;
    }
    if (s.size() - at - 2 - extra < n) {
      return p;
    }
    p.frames.push_back({fin, op, std::string(s.substr(at + 2 + extra, n))});
    at += 2 + extra + n;
    if (!control) {
      open = !fin;
    }
    if (op == 8) {
      return p;
    }
  }
  return p;
}

// A close frame's payload: the status code (big-endian) and the reason.
inline std::string ws_close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xff);
  return out.append(reason);
}

// A whole data message (opcode 1 or 2) or a control frame, as the agent's client sees it.
struct ws_event {
  std::uint8_t opcode = 0;
  std::string payload;
  bool operator==(const ws_event&) const = default;
};

// Reads what the filter sends, strictly: whole frames only, unmasked, no reserved bit,
// minimal length encodings, control frames whole and short, continuations in order, no empty
// fragment that does not end its message. A message may span several reads.
class ws_reader {
 public:
  // The first rule broken, or "".
  std::string read(std::string_view bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      if (bytes.size() - at < 2) {
        return "a partial frame head";
      }
      const auto b0 = static_cast<std::uint8_t>(bytes[at]);
      const auto b1 = static_cast<std::uint8_t>(bytes[at + 1]);
      const bool fin = (b0 & 0x80) != 0;
      const std::uint8_t op = b0 & 0x0f;
      if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0) {
        return "a reserved bit or a mask";
      }
      std::size_t head = 2;
      std::uint64_t n = b1 & 0x7f;
      if (n >= 126) {
        const std::size_t extra = n == 126 ? 2 : 8;
        if (bytes.size() - at < 2 + extra) {
          return "a partial frame head";
        }
        n = 0;
        for (std::size_t i = 0; i < extra; ++i) {
          n = (n << 8) | static_cast<std::uint8_t>(bytes[at + 2 + i]);
        }
        if ((extra == 2 && n < 126) || (extra == 8 && n <= 0xffff)) {
          return "a length not in its minimal encoding";
        }
        head += extra;
      }
      if (bytes.size() - at - head < n) {
        return "a partial frame";
      }
      const std::string_view payload = bytes.substr(at + head, n);
      at += head + n;
      heads_ += head;
      ++frames_;
      if (op >= 8) {
        if (!fin || n > 125 || op > 10) {
          return "a bad control frame";
        }
        events.push_back({op, std::string(payload)});
        continue;
      }
      if (op > 2 || (op == 0) != open_) {
        return "a data frame out of order";
      }
      if (!fin && n == 0) {
        return "an empty fragment";
      }
      if (op != 0) {
        message_ = {op, {}};
        open_ = true;
      }
      message_.payload += payload;
      if (fin) {
        events.push_back(std::move(message_));
        message_ = {};
        open_ = false;
      }
    }
    return "";
  }

  std::vector<ws_event> events;
  bool open() const { return open_; }
  std::size_t frames() const { return frames_; }
  std::size_t head_bytes() const { return heads_; }

 private:
  ws_event message_;
  bool open_ = false;
  std::size_t frames_ = 0;
  std::size_t heads_ = 0;
};

// What the agent should see for `frames`: each message's payload scrubbed as one body, each
// control frame's on its own. A message not ended is left out. occurrences: what the
// reference counts in them all.
inline std::vector<ws_event> ws_expected(const std::vector<std::string_view>& values,
                                         const std::vector<ws_frame>& frames,
                                         std::size_t* occurrences = nullptr) {
  std::vector<ws_event> out;
  ws_event message;
  std::size_t total = 0;
  std::size_t n = 0;
  for (const ws_frame& f : frames) {
    if (f.opcode >= 8) {
      out.push_back({f.opcode, reference_scrub(values, f.payload, &n)});
      total += n;
      continue;
    }
    if (f.opcode != 0) {
      message = {f.opcode, {}};
    }
    message.payload += f.payload;
    if (f.fin) {
      message.payload = reference_scrub(values, message.payload, &n);
      total += n;
      out.push_back(std::move(message));
      message = {};
    }
  }
  if (occurrences != nullptr) {
    *occurrences = total;
  }
  return out;
}

}  // namespace airlock::proxy::testing
