#include "proxy/responses.hpp"

#include <fmt/format.h>

namespace airlock::proxy {

std::string_view reason_phrase(int status) {
  switch (status) {
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

std::string make_error_response(const refusal& r, bool close) {
  const bool json = !r.json_body.empty();
  std::string body =
      json ? r.json_body + "\n"
           : fmt::format("airlock: {} {}: {}\n", r.status, reason_phrase(r.status), r.detail);
  // The detail goes into a quoted sf-string: drop what could break out of it.
  std::string quoted;
  quoted.reserve(r.detail.size());
  for (char c : r.detail) {
    const auto u = static_cast<unsigned char>(c);
    if (c != '"' && c != '\\' && u >= 0x20 && u < 0x7f) {
      quoted.push_back(c);
    }
  }
  return fmt::format(
      "HTTP/1.1 {} {}\r\n"
      "Content-Type: {}\r\n"
      "Content-Length: {}\r\n"
      "Cache-Control: no-store\r\n"
      "Proxy-Status: airlock; error={}; details=\"{}\"\r\n"
      "{}"
      "\r\n{}",
      r.status, reason_phrase(r.status), json ? "application/json" : "text/plain; charset=utf-8",
      body.size(), r.error_type, quoted, close ? "Connection: close\r\n" : "", body);
}

}  // namespace airlock::proxy
