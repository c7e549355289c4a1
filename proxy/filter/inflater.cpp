#include "proxy/filter/inflater.hpp"

#include <zlib.h>

#include <climits>
#include <new>

namespace airlock::proxy {

namespace {

constexpr std::string_view no_memory = "out of memory for the decompressor";

// zlib counts in unsigned int: a larger buffer is taken a piece at a time.
uInt clamp(std::size_t n) {
  return n > UINT_MAX ? UINT_MAX : static_cast<uInt>(n);
}

// RFC 1950: deflate (method 8) with a window zlib can hold, and the check bits right. Raw
// deflate rarely starts like this: its first bits would have to be a non-final stored block
// with set padding bits, which no common encoder writes.
bool zlib_header(unsigned char cmf, unsigned char flg) {
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

}  // namespace

struct inflater::state {
  enum class phase { detect, inflating, ended, failed };

  z_stream z{};
  coding kind = coding::gzip;
  phase at = phase::failed;
  bool initialised = false;
  bool holding_first = false;  // deflate: the first byte came alone; the second decides
  unsigned char first = 0;
  std::string_view reason = no_memory;

  ~state() {
    if (initialised) {
      inflateEnd(&z);
    }
  }

  void fail(result& r, std::string_view why) {
    at = phase::failed;
    reason = why;
    r.error = true;
    r.reason = why;
  }

  std::string_view invalid() const {
    return kind == coding::gzip ? "gzip stream invalid" : "deflate stream invalid";
  }

  // Picks zlib or raw deflate from the first two bytes of a deflate body.
  void choose(unsigned char b0, unsigned char b1) {
    if (zlib_header(b0, b1)) {
      inflateReset2(&z, MAX_WBITS);  // no window yet, so this only switches the format
    }
    at = phase::inflating;
  }

  std::size_t run(const unsigned char* data, std::size_t size, std::span<char> out, result& r);
};

// Decodes `data` into `out` from r.produced on and returns how much of `data` it used.
// Stops when `out` is full, `data` is used up, the stream ends or fails. The usual case is
// one inflate call; more for each further gzip member in `data`.
std::size_t inflater::state::run(const unsigned char* data, std::size_t size, std::span<char> out,
                                 result& r) {
  std::size_t used = 0;
  for (;;) {
    if (at == phase::ended) {
      if (used == size) {
        return used;
      }
      // Only a gzip magic may follow a gzip member; zlib checks the rest of its header.
      const bool member =
          kind == coding::gzip && data[used] == 0x1f && (size - used < 2 || data[used + 1] == 0x8b);
      if (!member) {
        fail(r, kind == coding::gzip ? "data after the end of the gzip stream"
                                     : "data after the end of the deflate stream");
        return used;
      }
      inflateReset(&z);
      at = phase::inflating;
    }
    if (r.produced == out.size()) {
      return used;
    }
    // Called even with no input left: zlib may hold decoded bytes a full `out` cut off.
    z.next_in = const_cast<Bytef*>(data + used);
    z.avail_in = clamp(size - used);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + r.produced);
    z.avail_out = clamp(out.size() - r.produced);
    const uInt in_before = z.avail_in;
    const uInt out_before = z.avail_out;
    const int code = inflate(&z, Z_NO_FLUSH);
    used += in_before - z.avail_in;
    r.produced += out_before - z.avail_out;
    switch (code) {
      case Z_STREAM_END:
        at = phase::ended;
        break;
      case Z_OK:  // progress was made; again only when a count was clamped
        if (used == size) {
          return used;
        }
        break;
      case Z_BUF_ERROR:  // no progress possible: it needs more input
        return used;
      case Z_NEED_DICT:
        fail(r, "deflate stream needs a preset dictionary");
        return used;
      case Z_MEM_ERROR:
        fail(r, no_memory);
        return used;
      default:
        fail(r, invalid());
        return used;
    }
  }
}

inflater::inflater(coding c) : state_(new (std::nothrow) state) {
  if (!state_) {
    return;
  }
  state_->kind = c;
  // gzip alone (16 + window): zlib's header check then refuses a zlib or raw stream. deflate
  // starts raw and switches to zlib if the first two bytes are a zlib header.
  if (inflateInit2(&state_->z, c == coding::gzip ? 16 + MAX_WBITS : -MAX_WBITS) != Z_OK) {
    return;  // at == failed, reason == no_memory
  }
  state_->initialised = true;
  state_->at = c == coding::gzip ? state::phase::inflating : state::phase::detect;
}

inflater::~inflater() = default;

inflater::result inflater::feed(std::string_view in, std::span<char> out) {
  result r;
  if (!state_ || state_->at == state::phase::failed) {
    r.error = true;
    r.reason = state_ ? state_->reason : no_memory;
    return r;
  }
  state& s = *state_;
  if (out.empty() || (s.at == state::phase::detect && in.empty())) {
    r.done = s.at == state::phase::ended;
    return r;
  }
  const auto* data = reinterpret_cast<const unsigned char*>(in.data());
  if (s.at == state::phase::detect) {
    if (!s.holding_first) {
      if (in.size() == 1) {
        s.first = data[0];
        s.holding_first = true;
        r.consumed = 1;
        return r;
      }
      s.choose(data[0], data[1]);
    } else {
      s.choose(s.first, data[0]);
      // A header byte: zlib takes it into its bit buffer whatever the format, with no output.
      s.holding_first = false;
      s.run(&s.first, 1, out, r);
      if (r.error) {
        return r;
      }
    }
  }
  r.consumed = s.run(data, in.size(), out, r);
  r.done = s.at == state::phase::ended;
  return r;
}

bool inflater::finished() const {
  return state_ && state_->at == state::phase::ended;
}

}  // namespace airlock::proxy
