#pragma once
// A response body from a scrubbed host on its way to the agent (issue 18): taken out of
// its framing (and out of gzip or deflate), scrubbed, and framed again for the client.
// Pure: bytes in, views of bytes to send out; no I/O.
//
// Framing is kept where the scrubber allows it: a Content-Length or close-delimited body
// keeps its length byte for byte (a replacement is as long as what it replaces). A chunked
// body is re-chunked, one chunk per feed, since the scrubber may hold a few bytes back
// across a chunk boundary; its trailers are dropped (a trailer could carry what the
// body may not, and hardly any client reads them). A decoded body goes out chunked (or
// delimited by close to an HTTP/1.0 client), its length unknown until it ends.
//
// Memory: one feed's output is at most the input it consumed, or max_decoded bytes when
// decoding (a small input that inflates to gigabytes is drained max_decoded at a time:
// `more` says to call again before reading).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/filter/inflater.hpp"
#include "proxy/http/chunked.hpp"
#include "proxy/http/message.hpp"
#include "proxy/policy/rewrite.hpp"
#include "proxy/policy/scrub_scope.hpp"
#include "proxy/policy/scrubber.hpp"

namespace airlock::proxy {

class response_filter {
 public:
  // How the upstream sends the body, and what airlock makes of it.
  struct plan {
    http::body_kind framing = http::body_kind::none;         // as the upstream frames the body
    std::uint64_t length = 0;                                // for body_kind::length
    body_coding::kind coding = body_coding::kind::identity;  // gzip or deflate: decoded
    bool chunked_out = false;  // re-chunk: the upstream's was chunked, or it is decoded for 1.1
  };

  // How a response from a scrubbed host goes to the client: filtered with `body` and
  // framed as `framing`, or (unreadable) refused, unless the rules let it pass unscanned.
  struct decision {
    bool filter = false;          // false: no body, or an unreadable one let through as it is
    std::string_view unreadable;  // the coding airlock cannot read; refuse when set
    http::client_framing framing = http::client_framing::as_upstream;
    plan body;
  };
  static constexpr std::size_t max_decoded = 64 * 1024;
  // What decoding one answer can hold, reserved from proxy.max_decoding_bytes: max_decoded
  // of text, the coded bytes of one 16 KiB read waiting in pending_, and zlib's state
  // (a 32 KiB window and about 7 KiB more).
  static constexpr std::size_t decoding_reserve = 128 * 1024;

  static decision decide(const http::response_head& head, const http::response_info& info,
                         http::version client, bool pass_unreadable);

  // One response: the scrubber is kept from the last when the automaton is the same.
  void start(const std::shared_ptr<const scrub_automaton>& automaton, const plan& p);

  struct step {
    std::size_t consumed = 0;  // bytes of the input used
    bool done = false;         // the body is complete and all of it is in `out`
    bool more = false;         // output is waiting without more input: call again first
    std::string_view error;    // the body cannot be delivered whole; stop
    std::array<std::string_view, 2> out{};  // to send, in order; valid until the next call
  };
  // The bytes the upstream sent after the head (beyond the body's end is left unconsumed).
  step feed(std::string_view in);
  // The upstream closed: the end of a close-delimited body, else an error.
  step end_of_input();

  // Masks a head's bytes in place (field values, the reason phrase): same length, so the
  // parser's views stay valid. Before start(); returns the replacements.
  std::uint64_t scrub_head(const std::shared_ptr<const scrub_automaton>& automaton, char* data,
                           std::size_t size);

  // The secrets changed mid-body (a rotation): the rest of it is scanned for the new ones.
  void rekey(const std::shared_ptr<const scrub_automaton>& automaton);

  // Between responses: the decoder's state and large buffers go, so an idle connection
  // holds none of them.
  void shed();

  // Replacements in this response's body so far.
  std::uint64_t replacements() const {
    return scrubber_ ? scrubber_->replacements() - counted_ : 0;
  }

 private:
  void use(const std::shared_ptr<const scrub_automaton>& automaton);
  step plain(std::string_view in);
  step chunked(std::string_view in);
  step decoded(std::string_view in);
  // Decodes pending coded bytes into text_ until max_decoded; false on a coding error.
  bool inflate(std::string_view& coded, step& s);
  step finish_body(step s);
  step framed(step s);

  plan plan_;
  std::optional<scrubber> scrubber_;
  const scrub_automaton* automaton_ = nullptr;
  std::optional<inflater> inflater_;
  http::chunked_scanner chunks_;
  std::uint64_t remaining_ = 0;
  std::uint64_t counted_ = 0;  // scrubber_->replacements() when this response began
  std::string text_;           // scrubbed bytes of this feed, when they had to be copied
  std::string pending_;        // coded bytes taken out of chunks, not yet inflated
  std::size_t pending_at_ = 0;
  bool framing_done_ = false;  // the coded body's framing has ended
  std::array<char, 24> size_line_{};
};

}  // namespace airlock::proxy
