// The doctor's check host (check_host.hpp), answered by airlock itself: nothing is dialled.

#include "proxy/flow/exchange.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/policy/check_host.hpp"
#include "proxy/version.hpp"

namespace airlock::proxy {

awaitable<bool> exchange::answer_check_host(const request& r, const destination& to) {
  const check_answer answer = answer_check(r.head.method, to.origin_form(), version, to.tls);
  // A body would have to be read past to keep the connection: closing is simpler.
  const bool keep = r.info.keep_alive && r.info.body == http::body_kind::none && !client_.closing();
  out_.assign("HTTP/1.1 ");
  out_.append(std::to_string(answer.status));
  out_.push_back(' ');
  out_.append(reason_phrase(answer.status));
  out_.append("\r\nContent-Type: ");
  out_.append(answer.content_type);
  out_.append("\r\nContent-Length: ");
  out_.append(std::to_string(answer.body.size()));
  out_.append("\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
  if (answer.status == 405) {
    out_.append("Allow: GET, HEAD\r\n");
  }
  if (!keep) {
    out_.append("Connection: close\r\n");
  } else if (client_version_ == http::version::http10) {
    out_.append("Connection: keep-alive\r\n");
  }
  out_.append("\r\n");
  if (r.head.method != "HEAD") {
    out_.append(answer.body);
  }
  client_.pending().consume(r.head_len);
  deadline_.arm(ctx_.cfg.proxy.timeouts.header);
  const bool sent = co_await client_.send(out_);
  ctx_.series.request(record_.mode, answer.status);
  client_.answered(answer.status);
  co_return sent&& keep;
}

}  // namespace airlock::proxy
