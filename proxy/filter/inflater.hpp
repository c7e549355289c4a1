#pragma once
// Streaming gzip and deflate decoding (zlib), so a compressed response from a scrubbed host
// can be scanned and relayed as identity (issue 18). Pure: bytes in, bytes out, no I/O.
//
// Bounded whatever the input: one call writes at most out.size() bytes, so a small input
// that inflates to gigabytes (a bomb) costs the caller one buffer at a time, never more.
// zlib's state (about 40 KiB with its window) is allocated once, by the constructor and the
// first feed, and freed by the destructor; a feed allocates nothing else and throws nothing.
//
// gzip (RFC 1952) may be several members one after the other, as a concatenation of gzip
// files is; each is checked (CRC and length) and decoded in turn. HTTP's "deflate" is the
// zlib format (RFC 1950), but many servers send raw deflate (RFC 1951): the first two bytes
// decide, a valid zlib header meaning zlib and anything else raw deflate. Bytes after the
// end of the stream that do not begin another gzip member are an error, not ignored: what
// follows the end is not what a client that stops there would read.

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace airlock::proxy {

class inflater {
 public:
  enum class coding { gzip, deflate };
  explicit inflater(coding c);
  ~inflater();
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  struct result {
    std::size_t consumed = 0;  // bytes of `in` used
    std::size_t produced = 0;  // bytes written to the front of `out`
    bool done = false;         // the coded stream ended (its last member so far, for gzip)
    bool error = false;        // not a valid stream; `reason` says why, for a 502
    std::string_view reason;   // a static string naming the fault, never the data
  };

  // Decodes from `in` into `out`: stops when `out` is full, `in` is used up, or the stream
  // ends. Call again with the rest of `in` while produced == out.size(): zlib may hold
  // output it has decoded but not written even when all of `in` was consumed, so at the end
  // of a body that means calling with an empty `in` until produced < out.size(). Unless there
  // was an error, a call that returns produced < out.size() has consumed all of `in`.
  //
  // An empty `out` makes no progress (it returns at once). After an error every call
  // returns the same error. A gzip stream reports done at the end of each member whose end
  // is the end of the input so far: a later feed may begin another member.
  result feed(std::string_view in, std::span<char> out);

  // Whether the stream ended cleanly (for gzip: at the end of a member, with no part of
  // another one begun): a body that ends before this is truncated.
  bool finished() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace airlock::proxy
