#include "proxy/http/intermediary.hpp"

#include <array>

namespace airlock::proxy::http {

bool reflects_request(std::string_view method) {
  static constexpr std::array<std::string_view, 3> reflecting = {"TRACE", "TRACK", "DEBUG"};
  for (auto m : reflecting) {
    if (iequals(method, m)) {
      return true;
    }
  }
  return false;
}

bool uses_max_forwards(std::string_view method) {
  return iequals(method, "OPTIONS") || iequals(method, "TRACE");
}

local_answer decide_local_answer(std::string_view method, std::optional<std::uint32_t> max_forwards,
                                 bool credential_destination) {
  if (reflects_request(method) && credential_destination) {
    return local_answer::refuse_reflecting;
  }
  if (max_forwards && *max_forwards == 0) {
    if (iequals(method, "OPTIONS")) {
      return local_answer::options_here;
    }
    if (iequals(method, "TRACE")) {
      return local_answer::trace_here;
    }
  }
  return local_answer::forward;
}

bool is_relayed_upgrade(std::string_view upgrade) {
  bool any = false;
  while (!upgrade.empty()) {
    const auto comma = upgrade.find(',');
    std::string_view item = upgrade.substr(0, comma);
    upgrade = comma == std::string_view::npos ? std::string_view{} : upgrade.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (item.empty()) {
      continue;  // empty list elements are allowed and mean nothing (RFC 9110 5.6.1)
    }
    if (!iequals(item, "websocket")) {
      return false;
    }
    any = true;
  }
  return any;
}

bool switches_to_relayed_upgrade(const response_head& head) {
  bool any = false;
  for (const auto& h : head.headers) {
    if (iequals(h.name, "upgrade")) {
      if (!is_relayed_upgrade(h.value)) {
        return false;
      }
      any = true;
    }
  }
  return any;
}

std::string_view via_field(version received) {
  return received == version::http11 ? "Via: 1.1 airlock\r\n" : "Via: 1.0 airlock\r\n";
}

}  // namespace airlock::proxy::http
