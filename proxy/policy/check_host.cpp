#include "proxy/policy/check_host.hpp"

#include <cstdio>

namespace airlock::proxy {

namespace {

// A git pkt-line: four hex digits counting themselves, then the payload.
void append_pkt_line(std::string& out, std::string_view payload) {
  char length[5];
  std::snprintf(length, sizeof(length), "%04zx", payload.size() + 4);
  out.append(length, 4);
  out.append(payload);
}

std::string git_advertisement() {
  std::string out;
  append_pkt_line(out, "# service=git-upload-pack\n");
  out += "0000";
  // The first ref line carries the capabilities after a NUL; an all-zero id is never
  // fetched, ls-remote only lists it.
  std::string ref(40, '0');
  ref += " refs/heads/";
  ref += check_marker;
  ref.push_back('\0');
  ref += "agent=airlock\n";
  append_pkt_line(out, ref);
  out += "0000";
  return out;
}

std::string simple_index() {
  const std::string file = std::string(check_marker) + "-1.0.tar.gz";
  return "<!DOCTYPE html>\n<html><body><a href=\"" + file + "\">" + file + "</a></body></html>\n";
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool is_check_host(std::string_view host) {
  return host == check_host_name;
}

check_answer answer_check(std::string_view method, std::string_view target,
                          std::string_view version, bool tls) {
  if (method != "GET" && method != "HEAD") {
    return {405, "text/plain", std::string(check_marker) + ": only GET and HEAD are answered\n"};
  }
  const auto query_at = target.find('?');
  const std::string_view path = target.substr(0, query_at);
  const std::string_view query =
      query_at == std::string_view::npos ? std::string_view() : target.substr(query_at + 1);
  if (ends_with(path, "/info/refs") && query.find("service=git-upload-pack") != query.npos) {
    return {200, "application/x-git-upload-pack-advertisement", git_advertisement()};
  }
  if (starts_with(path, "/simple/")) {
    return {200, "text/html", simple_index()};
  }
  if (starts_with(path, "/-/ping")) {
    return {200, "application/json",
            "{\"ok\":\"" + std::string(check_marker) + "\",\"server\":\"airlock\"}\n"};
  }
  std::string body(check_marker);
  body += ": answered by airlock ";
  body += version;
  body += tls ? " inside an intercepted tunnel\n" : " as a forward proxy (plain http)\n";
  return {200, "text/plain", body};
}

}  // namespace airlock::proxy
