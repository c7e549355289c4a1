#include "proxy/tls/name_constraints.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <openssl/x509v3.h>

namespace airlock::proxy::intercept {

namespace {

using subtree_ptr = openssl_ptr<GENERAL_SUBTREE, GENERAL_SUBTREE_free>;
using name_constraints_ptr = openssl_ptr<NAME_CONSTRAINTS, NAME_CONSTRAINTS_free>;

std::vector<unsigned char> parse_ip(const std::string& host) {
  unsigned char raw[16];
  if (inet_pton(AF_INET, host.c_str(), raw) == 1) {
    return {raw, raw + 4};
  }
  if (inet_pton(AF_INET6, host.c_str(), raw) == 1) {
    return {raw, raw + 16};
  }
  return {};
}

general_name_ptr dns_name(const std::string& name) {
  general_name_ptr gn(GENERAL_NAME_new());
  asn1_ia5_string_ptr value(ASN1_IA5STRING_new());
  if (!gn || !value ||
      ASN1_STRING_set(value.get(), name.data(), static_cast<int>(name.size())) != 1) {
    return nullptr;
  }
  GENERAL_NAME_set0_value(gn.get(), GEN_DNS, value.release());
  return gn;
}

// An iPAddress subtree's base is the address followed by its mask (RFC 5280 4.2.1.10).
general_name_ptr ip_name(const ip_subtree& range) {
  std::vector<unsigned char> bytes = range.address;
  bytes.insert(bytes.end(), range.mask.begin(), range.mask.end());
  general_name_ptr gn(GENERAL_NAME_new());
  asn1_octet_string_ptr value(ASN1_OCTET_STRING_new());
  if (!gn || !value ||
      ASN1_OCTET_STRING_set(value.get(), bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return nullptr;
  }
  GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, value.release());
  return gn;
}

// Appends a subtree with base gn (and no minimum or maximum, as RFC 5280 requires) to *list,
// creating the list on first use.
bool push_subtree(STACK_OF(GENERAL_SUBTREE) * *list, general_name_ptr gn) {
  if (!gn) {
    return false;
  }
  if (*list == nullptr && (*list = sk_GENERAL_SUBTREE_new_null()) == nullptr) {
    return false;
  }
  subtree_ptr st(GENERAL_SUBTREE_new());
  if (!st) {
    return false;
  }
  GENERAL_NAME_free(st->base);
  st->base = gn.release();
  if (sk_GENERAL_SUBTREE_push(*list, st.get()) <= 0) {
    return false;
  }
  st.release();  // owned by the list now
  return true;
}

}  // namespace

ca_scope scope_for_hosts(std::span<const std::string> hosts) {
  ca_scope out;
  for (const std::string& host : hosts) {
    if (host.size() > 2 && host.compare(0, 2, "*.") == 0) {
      out.dns.push_back(host.substr(1));
    } else if (auto ip = parse_ip(host); !ip.empty()) {
      out.ips.push_back(std::move(ip));
    } else if (!host.empty()) {
      out.dns.push_back(host);
    }
  }
  std::sort(out.dns.begin(), out.dns.end());
  out.dns.erase(std::unique(out.dns.begin(), out.dns.end()), out.dns.end());
  // By length, then byte by byte: GCC 12 mistakes std::vector's memcmp-based operator< for
  // an overread here (-Wstringop-overread).
  std::sort(out.ips.begin(), out.ips.end(), [](const auto& a, const auto& b) {
    if (a.size() != b.size()) {
      return a.size() < b.size();
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) {
        return a[i] < b[i];
      }
    }
    return false;
  });
  out.ips.erase(std::unique(out.ips.begin(), out.ips.end()), out.ips.end());
  return out;
}

constraint_lists constraints_for(const ca_scope& scope) {
  constraint_lists out;
  out.permitted_dns = scope.dns.empty() ? std::vector<std::string>{"invalid"} : scope.dns;
  bool v4 = false;
  bool v6 = false;
  for (const auto& ip : scope.ips) {
    out.permitted_ip.push_back({ip, std::vector<unsigned char>(ip.size(), 0xff)});
    v4 = v4 || ip.size() == 4;
    v6 = v6 || ip.size() == 16;
  }
  if (!v4) {
    out.excluded_ip.push_back({std::vector<unsigned char>(4, 0), std::vector<unsigned char>(4, 0)});
  }
  if (!v6) {
    out.excluded_ip.push_back(
        {std::vector<unsigned char>(16, 0), std::vector<unsigned char>(16, 0)});
  }
  return out;
}

x509_ext_ptr make_name_constraints_ext(const ca_scope& scope) {
  const constraint_lists lists = constraints_for(scope);
  name_constraints_ptr nc(NAME_CONSTRAINTS_new());
  if (!nc) {
    return nullptr;
  }
  for (const auto& name : lists.permitted_dns) {
    if (!push_subtree(&nc->permittedSubtrees, dns_name(name))) {
      return nullptr;
    }
  }
  for (const auto& range : lists.permitted_ip) {
    if (!push_subtree(&nc->permittedSubtrees, ip_name(range))) {
      return nullptr;
    }
  }
  for (const auto& range : lists.excluded_ip) {
    if (!push_subtree(&nc->excludedSubtrees, ip_name(range))) {
      return nullptr;
    }
  }
  // Critical, as RFC 5280 requires: a client that cannot process the constraints must refuse
  // the CA rather than trust it for everything.
  return x509_ext_ptr(X509V3_EXT_i2d(NID_name_constraints, 1, nc.get()));
}

bool has_name_constraints(X509* cert) {
  int critical = 0;
  name_constraints_ptr nc(static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_name_constraints, &critical, nullptr)));
  return nc && (sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) > 0 ||
                sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) > 0);
}

}  // namespace airlock::proxy::intercept
