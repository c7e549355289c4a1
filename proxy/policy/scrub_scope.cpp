#include "proxy/policy/scrub_scope.hpp"

#include <algorithm>

#include <openssl/crypto.h>

#include "proxy/http/message.hpp"
#include "proxy/policy/inject.hpp"

namespace airlock::proxy {

namespace {

void add_secrets_of(const config::value_template& t, std::vector<std::string_view>& names) {
  for (const auto& part : t.parts) {
    if (part.secret && std::find(names.begin(), names.end(), part.text) == names.end()) {
      names.push_back(part.text);
    }
  }
}

}  // namespace

scrub_scope scrub_scope_for(const std::vector<config::credential_rule>& rules,
                            std::string_view host, std::uint16_t port) {
  scrub_scope out;
  out.pass_unreadable = true;
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    if (r.scrub.enabled && host_matches(r.match.host, host) &&
        (r.match.port == 0 ? 443 : r.match.port) == port) {
      out.rules.push_back(i);
      out.pass_unreadable = out.pass_unreadable && r.scrub.pass_unreadable;
    }
  }
  out.pass_unreadable = out.pass_unreadable && !out.rules.empty();
  return out;
}

std::vector<scrub_text> scrub_values(const std::vector<config::credential_rule>& rules,
                                     const scrub_scope& scope, const secret_lookup& lookup) {
  std::vector<std::string_view> names;
  std::vector<scrub_text> out;
  for (const std::uint32_t i : scope.rules) {
    const auto& r = rules[i];
    for (const auto& [field, value] : r.headers) {
      add_secrets_of(value, names);
    }
    for (const auto& [param, value] : r.query) {
      add_secrets_of(value, names);
    }
    if (r.basic_auth) {
      add_secrets_of(r.basic_auth->password, names);
      std::string password;
      password.reserve(1024);  // no reallocation leaves a copy behind the wipe
      if (!render(password, r.basic_auth->password, lookup)) {
        scrub_text pair(r.basic_auth->username);
        pair.push_back(':');
        pair.append(password);
        out.push_back(std::move(pair));
      }
      OPENSSL_cleanse(password.data(), password.size());
    }
  }
  for (const std::string_view name : names) {
    if (const auto value = lookup(name)) {
      out.emplace_back(*value);
    }
  }
  return out;
}

body_coding coding_of(const http::response_head& head) {
  body_coding out;
  int codings = 0;
  const auto note = [&](std::string_view c, bool transfer) {
    if (transfer && http::iequals(c, "chunked")) {
      return;  // framing, undone by the relay itself
    }
    if (http::iequals(c, "identity")) {
      return;
    }
    ++codings;
    if (http::iequals(c, "gzip") || http::iequals(c, "x-gzip")) {
      out.what = body_coding::kind::gzip;
    } else if (http::iequals(c, "deflate")) {
      out.what = body_coding::kind::deflate;
    } else {
      out.what = body_coding::kind::unreadable;
      out.name = c;
    }
  };
  for (const auto& h : head.headers) {
    if (http::iequals(h.name, "content-encoding")) {
      http::for_each_token(h.value, [&](std::string_view c) { note(c, false); });
    } else if (http::iequals(h.name, "transfer-encoding")) {
      http::for_each_token(h.value, [&](std::string_view c) { note(c, true); });
    }
    if (out.what == body_coding::kind::unreadable) {
      return out;
    }
  }
  if (codings > 1) {
    // Codings stacked (gzip over gzip, deflate then gzip): rare enough that decoding one
    // layer and scanning compressed bytes is not worth the code; refused like any other.
    out.what = body_coding::kind::unreadable;
    out.name = "stacked codings";
  }
  return out;
}

std::string_view upgrade_extension(const http::response_head& head) {
  for (const auto& h : head.headers) {
    if (http::iequals(h.name, "sec-websocket-extensions")) {
      std::string_view first;
      http::for_each_token(h.value, [&](std::string_view e) {
        if (first.empty()) {
          first = e.substr(0, e.find(';'));
        }
      });
      if (!first.empty()) {
        return first;
      }
    }
  }
  return {};
}

}  // namespace airlock::proxy
