#include "proxy/filter/response_filter.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <span>

namespace airlock::proxy {

namespace {

constexpr std::size_t inflate_chunk = 16 * 1024;
constexpr std::size_t kept_capacity = 4096;
constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "\r\n0\r\n\r\n";

}  // namespace

response_filter::decision response_filter::decide(const http::response_head& head,
                                                  const http::response_info& info,
                                                  http::version client, bool pass_unreadable) {
  decision d;
  plan& body = d.body;
  body = plan{info.body, info.content_length};
  if (info.body == http::body_kind::none) {
    return d;
  }
  const body_coding coding = coding_of(head);
  if (coding.what == body_coding::kind::unreadable) {
    if (!pass_unreadable) {
      d.unreadable = coding.name;
    }
    return d;  // passed: as the upstream sent it, unscanned (the head was scrubbed)
  }
  d.filter = true;
  if (coding.what == body_coding::kind::identity) {
    body.chunked_out = info.body == http::body_kind::chunked;
    return d;
  }
  body.coding = coding.what;
  // Decoded, the length is unknown until the end: chunked, or to an HTTP/1.0 client (which
  // cannot read chunked) delimited by closing.
  d.framing = client == http::version::http11 ? http::client_framing::chunked
                                              : http::client_framing::until_close;
  body.chunked_out = d.framing == http::client_framing::chunked;
  return d;
}

void response_filter::use(const std::shared_ptr<const scrub_automaton>& automaton) {
  if (automaton_ != automaton.get() || !scrubber_) {
    scrubber_.emplace(automaton);
    automaton_ = automaton.get();
  }
}

std::uint64_t response_filter::scrub_head(const std::shared_ptr<const scrub_automaton>& automaton,
                                          char* data, std::size_t size) {
  use(automaton);
  const std::uint64_t before = scrubber_->replacements();
  const std::string_view first = scrubber_->feed(std::string_view(data, size));
  if (first.data() == data && first.size() == size) {
    scrubber_->finish();  // nothing held, nothing masked: the common case, no copy
    return 0;
  }
  text_.assign(first);
  text_.append(scrubber_->finish());
  const std::uint64_t n = scrubber_->replacements() - before;
  if (n > 0 && text_.size() == size) {
    std::memcpy(data, text_.data(), size);
  }
  text_.clear();
  return n;
}

void response_filter::rekey(const std::shared_ptr<const scrub_automaton>& automaton) {
  if (scrubber_ && automaton_ != automaton.get()) {
    scrubber_->rekey(automaton);
    automaton_ = automaton.get();
  }
}

void response_filter::shed() {
  inflater_.reset();
  for (std::string* s : {&text_, &pending_}) {
    if (s->capacity() > kept_capacity) {
      std::string().swap(*s);
    }
  }
}

void response_filter::start(const std::shared_ptr<const scrub_automaton>& automaton,
                            const plan& p) {
  use(automaton);
  plan_ = p;
  counted_ = scrubber_->replacements();
  remaining_ = p.length;
  chunks_.reset();
  inflater_.reset();
  if (p.coding == body_coding::kind::gzip || p.coding == body_coding::kind::deflate) {
    inflater_.emplace(p.coding == body_coding::kind::gzip ? inflater::coding::gzip
                                                          : inflater::coding::deflate);
  }
  text_.clear();
  pending_.clear();
  pending_at_ = 0;
  framing_done_ = false;
}

response_filter::step response_filter::feed(std::string_view in) {
  if (inflater_) {
    return decoded(in);
  }
  if (plan_.framing == http::body_kind::chunked) {
    return chunked(in);
  }
  return plain(in);
}

// Content-Length or close-delimited, not coded: the scrubber's view goes out as it is.
response_filter::step response_filter::plain(std::string_view in) {
  step s;
  if (plan_.framing == http::body_kind::none) {
    s.done = true;
    return s;
  }
  std::size_t take = in.size();
  if (plan_.framing == http::body_kind::length) {
    take = static_cast<std::size_t>(std::min<std::uint64_t>(take, remaining_));
    remaining_ -= take;
  }
  s.consumed = take;
  const std::string_view released = scrubber_->feed(in.substr(0, take));
  if (plan_.framing != http::body_kind::length || remaining_ > 0) {
    s.out[0] = released;
    return s;
  }
  s.done = true;
  if (scrubber_->held() == 0) {
    scrubber_->finish();  // releases nothing, so `released` stays valid
    s.out[0] = released;
    return s;
  }
  // The last bytes: what was held joins them (finish() reuses the scrubber's buffer).
  text_.assign(released);
  text_.append(scrubber_->finish());
  s.out[0] = text_;
  return s;
}

// Chunked, not coded: every data run of this feed scrubbed into one new chunk.
response_filter::step response_filter::chunked(std::string_view in) {
  step s;
  text_.clear();
  while (s.consumed < in.size()) {
    std::string_view run;
    const auto r = chunks_.feed_data(in.substr(s.consumed), run);
    s.consumed += r.consumed;
    if (r.error) {
      s.error = "malformed chunked framing from upstream";
      return s;
    }
    if (!run.empty()) {
      text_.append(scrubber_->feed(run));
    }
    if (r.done) {
      text_.append(scrubber_->finish());
      s.done = true;
      break;
    }
  }
  return framed(s);
}

// gzip or deflate: the coded bytes out of their framing, inflated, scrubbed, re-framed.
response_filter::step response_filter::decoded(std::string_view in) {
  step s;
  text_.clear();
  for (;;) {
    // First what zlib or the last chunk still holds; with nothing pending this only asks
    // zlib for output it kept back when max_decoded was reached.
    std::string_view coded(pending_.data() + pending_at_, pending_.size() - pending_at_);
    if (!inflate(coded, s)) {
      return s;
    }
    pending_at_ = pending_.size() - coded.size();
    if (coded.empty()) {
      pending_.clear();
      pending_at_ = 0;
    }
    if (s.more) {
      return framed(s);
    }
    if (framing_done_ || plan_.framing == http::body_kind::none) {
      return finish_body(s);
    }
    if (s.consumed == in.size()) {
      return framed(s);
    }
    const std::string_view rest = in.substr(s.consumed);
    if (plan_.framing == http::body_kind::chunked) {
      std::string_view run;
      const auto r = chunks_.feed_data(rest, run);
      s.consumed += r.consumed;
      if (r.error) {
        s.error = "malformed chunked framing from upstream";
        return s;
      }
      pending_.assign(run);  // a chunk's bytes are consumed whole, so they wait here
      framing_done_ = r.done;
      continue;
    }
    std::size_t take = rest.size();
    if (plan_.framing == http::body_kind::length) {
      take = static_cast<std::size_t>(std::min<std::uint64_t>(take, remaining_));
    }
    std::string_view direct = rest.substr(0, take);
    const bool ok = inflate(direct, s);
    const std::size_t used = take - direct.size();
    s.consumed += used;
    if (plan_.framing == http::body_kind::length) {
      remaining_ -= used;
      framing_done_ = remaining_ == 0;
    }
    if (!ok) {
      return s;
    }
    if (s.more) {
      return framed(s);
    }
  }
}

bool response_filter::inflate(std::string_view& coded, step& s) {
  std::array<char, inflate_chunk> out;
  while (text_.size() < max_decoded) {
    const std::size_t room = std::min(out.size(), max_decoded - text_.size());
    const auto r = inflater_->feed(coded, std::span<char>(out.data(), room));
    coded.remove_prefix(r.consumed);
    if (r.error) {
      s.error = r.reason;
      return false;
    }
    if (r.produced > 0) {
      text_.append(scrubber_->feed(std::string_view(out.data(), r.produced)));
    }
    if (r.done) {
      if (!coded.empty()) {
        s.error = "data after the end of the coded body";
        return false;
      }
      return true;
    }
    if ((r.produced < room && coded.empty()) || (r.produced == 0 && r.consumed == 0)) {
      return true;  // all of it in; zlib wants more input
    }
  }
  // Full: the rest of `coded`, and what zlib holds back, come out on the next call.
  s.more = true;
  return true;
}

response_filter::step response_filter::finish_body(step s) {
  if (inflater_) {
    // zlib may still hold output for an input it has taken whole.
    std::string_view none;
    if (!inflate(none, s)) {
      return s;
    }
    if (s.more) {
      return framed(s);
    }
    if (!inflater_->finished()) {
      s.error = "the coded body ended before its coding did";
      return s;
    }
  }
  text_.append(scrubber_->finish());
  s.done = true;
  s.more = false;
  return framed(s);
}

response_filter::step response_filter::end_of_input() {
  step s;
  if (plan_.framing != http::body_kind::until_close) {
    s.error = "upstream closed before the body's end";
    return s;
  }
  text_.clear();
  if (inflater_) {
    framing_done_ = true;
    return finish_body(s);
  }
  s.out[0] = scrubber_->finish();
  s.done = true;
  return s;
}

// text_ as the client's framing: itself, or one chunk (and the last chunk when done).
response_filter::step response_filter::framed(step s) {
  if (!plan_.chunked_out) {
    s.out[0] = text_;
    return s;
  }
  if (!text_.empty()) {
    const int n = std::snprintf(size_line_.data(), size_line_.size(), "%zx\r\n", text_.size());
    s.out[0] = std::string_view(size_line_.data(), static_cast<std::size_t>(n));
    text_.append(s.done ? last_chunk : crlf);
  } else if (s.done) {
    text_.assign(last_chunk.substr(2));
  }
  s.out[1] = text_;
  return s;
}

}  // namespace airlock::proxy
