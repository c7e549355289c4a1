#include "tests/integration/scrub_fixture.hpp"

#include <zlib.h>

#include <cstdio>

#include "tests/support/scrub_reference.hpp"

namespace airlock::test {

namespace ref = airlock::proxy::testing;

std::vector<std::string> spellings_of(std::string_view secret) {
  std::vector<std::string> out = ref::concrete_spellings(secret);
  // Mixtures: case alternating digit by digit, and the ways to spell a byte alternating
  // byte by byte, as no one encoder writes them but a decoder reads them.
  std::string hex_mixed;
  std::string percent_mixed;
  std::string json_mixed;
  std::string raw_and_escaped;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const auto b = static_cast<std::uint8_t>(secret[i]);
    const bool odd = i % 2 == 1;
    hex_mixed += ref::hex_byte(b, odd)[0];
    hex_mixed += ref::hex_byte(b, !odd)[1];
    percent_mixed += '%';
    percent_mixed += ref::hex_byte(b, odd);
    json_mixed += "\\u00";
    json_mixed += ref::hex_byte(b, !odd);
    if (odd) {
      raw_and_escaped += '%';
      raw_and_escaped += ref::hex_byte(b, false);
    } else {
      raw_and_escaped += secret[i];
    }
  }
  if (secret.size() >= proxy::scrub_min_derived_length) {
    out.push_back(hex_mixed);
  }
  out.insert(out.end(), {percent_mixed, json_mixed, raw_and_escaped});
  return out;
}

std::string masked(std::string_view body, const std::vector<std::string>& values,
                   std::size_t* occurrences) {
  const std::vector<std::string_view> views(values.begin(), values.end());
  return ref::reference_scrub(views, body, occurrences);
}

std::string leaked(std::string_view text, std::string_view secret) {
  std::string found;
  for (const std::string& s : spellings_of(secret)) {
    if (text.find(s) != std::string_view::npos) {
      found += "[" + s + "] ";
    }
  }
  return found;
}

std::string chunk(std::string_view data) {
  char size[20];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

std::string dechunk(std::string_view body) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const auto eol = body.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      return out;
    }
    const std::size_t size = std::stoul(std::string(body.substr(pos, eol - pos)), nullptr, 16);
    if (size == 0) {
      return out;
    }
    out += body.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
}

std::string chunked(const std::vector<std::string>& pieces, std::string_view trailers) {
  std::string out;
  for (const std::string& p : pieces) {
    if (!p.empty()) {
      out += chunk(p);
    }
  }
  return out + "0\r\n" + std::string(trailers) + "\r\n";
}

std::string sized_response(std::string_view body, std::string_view fields) {
  return "HTTP/1.1 200 OK\r\n" + std::string(fields) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

namespace {

int window_bits(zformat f) {
  switch (f) {
    case zformat::gzip:
      return 15 + 16;
    case zformat::zlib:
      return 15;
    case zformat::raw:
      return -15;
  }
  return 15;
}

// What inflate makes of data (every gzip member, for gzip), even when the stream is cut
// short or goes bad later: the bytes it did produce are what a client would get.
std::string inflate_all(std::string_view data, zformat f) {
  z_stream z{};
  if (inflateInit2(&z, window_bits(f)) != Z_OK) {
    return {};
  }
  std::string out;
  std::string piece(64 * 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(piece.data());
    z.avail_out = static_cast<uInt>(piece.size());
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(piece.data(), piece.size() - z.avail_out);
    if (rc == Z_STREAM_END && f == zformat::gzip && z.avail_in > 0) {
      inflateReset(&z);  // another member follows
      continue;
    }
    if (rc != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
      break;
    }
  }
  inflateEnd(&z);
  return out;
}

void add_decodings(std::string_view data, int depth, std::vector<std::string>& out) {
  if (depth == 0) {
    return;
  }
  for (const zformat f : {zformat::gzip, zformat::zlib, zformat::raw}) {
    std::string d = inflate_all(data, f);
    if (f == zformat::raw && d.empty()) {
      // permessage-deflate leaves off the final empty block's tail.
      d = inflate_all(std::string(data) + std::string("\x00\x00\xff\xff", 4), f);
    }
    if (!d.empty()) {
      add_decodings(d, depth - 1, out);
      out.push_back(std::move(d));
    }
  }
}

}  // namespace

std::string compress(std::string_view data, zformat format) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, window_bits(format), 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(rc == Z_STREAM_END ? out.size() - z.avail_out : 0);
  deflateEnd(&z);
  return out;
}

std::vector<std::string> decodings(std::string_view data) {
  std::vector<std::string> out;
  add_decodings(data, 3, out);
  return out;
}

std::string ws_encode(const ws_frame& f, bool masked_frame) {
  std::string out;
  out += static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv1 ? 0x40 : 0) | (f.opcode & 0x0f));
  const std::uint8_t mask_bit = masked_frame ? 0x80 : 0;
  const std::size_t n = f.payload.size();
  if (n < 126) {
    out += static_cast<char>(mask_bit | n);
  } else if (n < 65536) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out += static_cast<char>((n >> shift) & 0xff);
    }
  }
  if (!masked_frame) {
    return out + f.payload;
  }
  const char key[4] = {0x37, static_cast<char>(0xfa), 0x21, 0x3d};
  out.append(key, 4);
  for (std::size_t i = 0; i < n; ++i) {
    out += static_cast<char>(f.payload[i] ^ key[i % 4]);
  }
  return out;
}

std::vector<ws_frame> ws_take_frames(std::string& data) {
  std::vector<ws_frame> out;
  std::size_t pos = 0;
  for (;;) {
    if (data.size() < pos + 2) {
      break;
    }
    const auto b0 = static_cast<std::uint8_t>(data[pos]);
    const auto b1 = static_cast<std::uint8_t>(data[pos + 1]);
    std::size_t at = pos + 2;
    std::uint64_t n = b1 & 0x7f;
    const std::size_t extra = n == 126 ? 2 : n == 127 ? 8 : 0;
    if (data.size() < at + extra) {
      break;
    }
    if (extra > 0) {
      n = 0;
      for (std::size_t i = 0; i < extra; ++i) {
        n = n << 8 | static_cast<std::uint8_t>(data[at + i]);
      }
      at += extra;
    }
    const bool is_masked = (b1 & 0x80) != 0;
    const std::size_t key_at = at;
    at += is_masked ? 4 : 0;
    if (data.size() < at + n) {
      break;
    }
    ws_frame f{(b0 & 0x80) != 0, (b0 & 0x40) != 0, b0 & 0x0f, data.substr(at, n)};
    for (std::size_t i = 0; is_masked && i < n; ++i) {
      f.payload[i] = static_cast<char>(f.payload[i] ^ data[key_at + i % 4]);
    }
    out.push_back(std::move(f));
    pos = at + n;
  }
  data.erase(0, pos);
  return out;
}

std::string numbered(std::string_view prefix, std::size_t i) {
  std::string out(prefix);
  out += std::to_string(i);
  return out;
}

std::string request_target(std::string_view request) {
  const auto first = request.find(' ');
  const auto second = request.find(' ', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) {
    return {};
  }
  return std::string(request.substr(first + 1, second - first - 1));
}

std::unique_ptr<tls_echo_server> scrub_test::start_scripted(respond_fn respond,
                                                            std::chrono::milliseconds gap,
                                                            bool close_after) {
  tls_echo_options opts{localhost_cert(), {}};
  opts.respond_parts = std::move(respond);
  opts.part_gap = gap;
  opts.close_after_response = close_after;
  return std::make_unique<tls_echo_server>(std::move(opts));
}

std::unique_ptr<tls_echo_server> scrub_test::start_fixed(const std::string& response) {
  return std::make_unique<tls_echo_server>(
      tls_echo_options{localhost_cert(), [response](const std::string&) { return response; }});
}

std::string scrub_test::key_rule(const std::string& name, std::uint16_t port,
                                 const std::string& more) {
  return "  - { name: " + name + ", host: localhost, port: " + std::to_string(port) +
         ", headers: { x-api-key: \"{{key}}\" }" + more + " }\n";
}

airlock_process& scrub_test::start_scrubbing(const std::string& rules, airlock_settings settings) {
  return start_intercepting(scrub_secrets_yaml, rules,
                            {{"SCRUB_KEY", scrub_secret}, {"OTHER_KEY", other_secret}},
                            std::move(settings));
}

std::optional<http_response> scrub_test::get(raw_client& tunnel, std::uint16_t port,
                                             const std::string& path, const std::string& fields) {
  if (!tunnel.send("GET " + path + " HTTP/1.1\r\nHost: localhost:" + std::to_string(port) + "\r\n" +
                   fields + "\r\n")) {
    return std::nullopt;
  }
  return tunnel.read_response(10s);
}

double scrub_test::scrubbed_total(const std::string& rule) {
  const double v = metric("airlock_scrubbed_total{rule=\"" + rule + "\"}");
  return v < 0 ? 0 : v;
}

}  // namespace airlock::test
