#include "proxy/http/responses.hpp"

#include <fmt/format.h>

#include "proxy/http/head.hpp"
#include "proxy/observe/json.hpp"

namespace airlock::proxy {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string make_error_response(const refusal& r, bool close, bool json_wanted) {
  std::string body;
  bool json = false;
  if (!r.json_body.empty()) {
    body = r.json_body + "\n";
    json = true;
  } else if (json_wanted && !r.reason.empty()) {
    json_writer w(body);
    w.begin_object();
    w.field("error", r.reason);
    w.field("rule", r.rule);
    w.field("detail", r.detail);
    w.field("retry", false);
    w.end_object();
    body += '\n';
    json = true;
  } else {
    body = fmt::format("airlock: {} {}: {}\n", r.status, reason_phrase(r.status), r.detail);
  }
  if (r.status == 204) {
    body.clear();
  }
  // The detail goes into a quoted sf-string: drop what could break out of it.
  std::string quoted;
  quoted.reserve(r.detail.size());
  for (char c : r.detail) {
    const auto u = static_cast<unsigned char>(c);
    if (c != '"' && c != '\\' && u >= 0x20 && u < 0x7f) {
      quoted.push_back(c);
    }
  }
  std::string reason_field;
  if (!r.reason.empty()) {
    reason_field = "X-Airlock-Reason: " + r.reason;
    if (!r.rule.empty()) {
      reason_field += " rule=";
      for (char c : r.rule) {
        const auto u = static_cast<unsigned char>(c);
        reason_field.push_back(u > 0x20 && u < 0x7f ? c : '_');
      }
    }
    reason_field += "\r\n";
  }
  if (!r.allow.empty()) {
    reason_field += "Allow: ";
    reason_field += r.allow;
    reason_field += "\r\n";
  }
  return fmt::format(
      "HTTP/1.1 {} {}\r\n"
      "{}"
      "Cache-Control: no-store\r\n"
      "Proxy-Status: airlock; error={}; details=\"{}\"\r\n"
      "{}{}"
      "\r\n{}",
      r.status, reason_phrase(r.status),
      r.status == 204
          ? std::string()
          : fmt::format("Content-Type: {}\r\nContent-Length: {}\r\n",
                        json ? "application/json" : "text/plain; charset=utf-8", body.size()),
      r.error_type, quoted, reason_field, close ? "Connection: close\r\n" : "", body);
}

refusal head_budget_refusal(std::size_t limit, bool response) {
  refusal r{refusal_kind::head_budget, 503, "proxy_internal_error",
            fmt::format("{} heads in progress hold all of proxy.max_pending_head_bytes ({} "
                        "bytes) beyond the first 16 KiB of each; retry, or send a smaller head",
                        response ? "large response" : "large request", limit)};
  r.reason = "head_budget_exhausted";
  return r;
}

refusal decode_budget_refusal(std::size_t limit) {
  refusal r{refusal_kind::decode_budget, 503, "proxy_internal_error",
            fmt::format("compressed answers being decoded for scrubbing hold all of "
                        "proxy.max_decoding_bytes ({} bytes); retry (airlock asked the upstream "
                        "for identity, which most answer with)",
                        limit)};
  r.reason = "decode_budget_exhausted";
  return r;
}

bool accepts_json(std::string_view accept) {
  for (std::size_t i = 0; i + 16 <= accept.size(); ++i) {
    if (http::iequals(accept.substr(i, 16), "application/json")) {
      return true;
    }
  }
  return false;
}

// Before every required secret has arrived (setup), 503 names the missing one so the
// agent can wait and retry; after revoke, 403 says no credential will come again.
refusal missing_secret_refusal(const std::string& secret, const std::string& rule,
                               secrets::phase phase) {
  if (phase == secrets::phase::revoked) {
    refusal r{refusal_kind::credentials_revoked, 403, "http_request_denied",
              "credentials revoked: this workspace's secrets were wiped; rule \"" + rule +
                  "\" injects nothing any more"};
    r.reason = "credentials_revoked";
    r.rule = rule;
    json_writer w(r.json_body);
    w.begin_object();
    w.field("error", r.reason);
    w.field("rule", rule);
    w.end_object();
    return r;
  }
  refusal r{refusal_kind::secret_missing, 503, "destination_unavailable",
            "secret \"" + secret + "\" needed by credential rule \"" + rule + "\" is not present"};
  r.reason = "secret_missing";
  r.rule = rule;
  json_writer w(r.json_body);
  w.begin_object();
  w.field("error", r.reason);
  w.field("secret", secret);
  w.field("rule", rule);
  w.field("phase", secrets::phase_name(phase));
  w.field("detail", r.detail);
  w.end_object();
  return r;
}

}  // namespace airlock::proxy
