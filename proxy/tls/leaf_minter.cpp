#include "proxy/tls/leaf_minter.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "proxy/tls/x509_build.hpp"

namespace airlock::proxy::intercept {

namespace {

// Short enough that a leaf copied out of the process is soon worthless, long enough that a
// week-long agent session never sees one expire (the cache would otherwise need re-minting).
constexpr auto max_leaf_validity = std::chrono::hours(7 * 24);
constexpr std::size_t max_common_name = 64;  // ub-common-name, RFC 5280
constexpr std::size_t max_host_name = 253;

// TLS 1.2 suites usable with the ECDSA leaf key, all ECDHE (forward secret) and AEAD. TLS 1.3
// suites are always ECDHE and keep OpenSSL's defaults.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305";

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
         c == ':';
}

bool is_address(const std::string& name) {
  unsigned char ip[16];
  return inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1;
}

// subjectAltName for name: iPAddress when it is an IPv4 or IPv6 literal (clients check IP
// SANs, not DNS ones, for literal addresses), otherwise dNSName.
general_names_ptr make_san(const std::string& name) {
  unsigned char ip[16];
  int ip_len = 0;
  if (inet_pton(AF_INET, name.c_str(), ip) == 1) {
    ip_len = 4;
  } else if (inet_pton(AF_INET6, name.c_str(), ip) == 1) {
    ip_len = 16;
  }
  general_name_ptr gn(GENERAL_NAME_new());
  if (!gn) {
    return nullptr;
  }
  if (ip_len != 0) {
    asn1_octet_string_ptr value(ASN1_OCTET_STRING_new());
    if (!value || ASN1_OCTET_STRING_set(value.get(), ip, ip_len) != 1) {
      return nullptr;
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, value.release());
  } else {
    asn1_ia5_string_ptr value(ASN1_IA5STRING_new());
    if (!value || ASN1_STRING_set(value.get(), name.data(), static_cast<int>(name.size())) != 1) {
      return nullptr;
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, value.release());
  }
  general_names_ptr names(GENERAL_NAMES_new());
  if (!names || sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) {
    return nullptr;
  }
  gn.release();  // owned by the stack now
  return names;
}

// The CA's key identifier: its subjectKeyIdentifier when it has one (that is what clients
// match an authorityKeyIdentifier against), else computed from its public key.
std::vector<unsigned char> ca_key_id(X509* ca) {
  if (const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(ca); skid != nullptr) {
    const unsigned char* data = ASN1_STRING_get0_data(skid);
    return std::vector<unsigned char>(data, data + ASN1_STRING_length(skid));
  }
  return key_identifier(X509_get0_pubkey(ca));
}

}  // namespace

std::optional<std::string> leaf_name(std::string_view host) {
  if (host.empty() || host.size() > max_host_name) {
    return std::nullopt;
  }
  std::string name(host);
  bool has_colon = false;
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (!is_name_char(c)) {
      return std::nullopt;
    }
    has_colon = has_colon || c == ':';
  }
  unsigned char ip6[16];
  if (has_colon && inet_pton(AF_INET6, name.c_str(), ip6) != 1) {
    return std::nullopt;
  }
  return name;
}

int select_http11_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len,
                       const unsigned char* in, unsigned int in_len, void* /*arg*/) {
  static constexpr unsigned char http11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned int i = 0;
  while (i < in_len) {
    const unsigned int len = in[i];
    ++i;
    if (len > in_len - i) {
      break;  // malformed list; OpenSSL checks it first, this only keeps us in bounds
    }
    if (len == sizeof http11 && std::memcmp(in + i, http11, len) == 0) {
      *out = in + i;
      *out_len = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += len;
  }
  // No http/1.1 on offer (h2-only, say): carry on without ALPN rather than failing, so a
  // client that merely prefers h2 still talks HTTP/1.1; one that insists will close.
  return SSL_TLSEXT_ERR_NOACK;
}

leaf_minter::leaf_minter(const workspace_ca& ca, X509* chain_cert) : ca_not_after_(ca.not_after()) {
  X509* chain = chain_cert != nullptr ? chain_cert : ca.cert();
  if (X509_up_ref(ca.cert()) != 1) {
    throw ca_error("leaf minter: cannot reference the CA: " + take_openssl_error());
  }
  ca_cert_.reset(ca.cert());
  if (X509_up_ref(chain) != 1) {
    throw ca_error("leaf minter: cannot reference the chain: " + take_openssl_error());
  }
  chain_cert_.reset(chain);
  if (EVP_PKEY_up_ref(ca.key()) != 1) {
    throw ca_error("leaf minter: cannot reference the CA key: " + take_openssl_error());
  }
  ca_key_.reset(ca.key());
  leaf_key_ = generate_p256_key();
  if (!leaf_key_) {
    throw ca_error("leaf minter: cannot generate the leaf key: " + take_openssl_error());
  }
  const auto subject_id = key_identifier(leaf_key_.get());
  const auto issuer_id = ca_key_id(ca_cert_.get());
  if (subject_id.empty() || issuer_id.empty()) {
    throw ca_error("leaf minter: cannot compute key identifiers: " + take_openssl_error());
  }
  basic_constraints_ = make_ext(NID_basic_constraints, "critical,CA:FALSE");
  key_usage_ = make_ext(NID_key_usage, "critical,digitalSignature");
  extended_key_usage_ = make_ext(NID_ext_key_usage, "serverAuth");
  subject_key_id_ = make_subject_key_id_ext(subject_id);
  authority_key_id_ = make_authority_key_id_ext(issuer_id);
  if (!basic_constraints_ || !key_usage_ || !extended_key_usage_ || !subject_key_id_ ||
      !authority_key_id_) {
    throw ca_error("leaf minter: cannot build extensions: " + take_openssl_error());
  }
}

x509_ptr leaf_minter::make_leaf(const std::string& name) const {
  const auto now = std::chrono::system_clock::now();
  const auto not_after = std::min(ca_not_after_, now + max_leaf_validity);
  if (not_after <= now) {
    return nullptr;  // the CA has expired: anything signed now would be refused anyway
  }
  x509_ptr cert(X509_new());
  general_names_ptr san = make_san(name);
  if (!cert || !san) {
    return nullptr;
  }
  X509* c = cert.get();
  // An address goes in the SAN only, with an empty subject (the SAN is then critical, RFC
  // 5280 4.2.1.6): OpenSSL holds a dotted CN like "127.0.0.1" to the CA's DNS name
  // constraints, which no address satisfies.
  const bool address = is_address(name);
  const std::string_view cn = std::string_view(name).substr(0, max_common_name);
  // X509_set_pubkey is over half the mint (OpenSSL 3.0 encodes provider keys through its
  // generic encoder, ~400 us). A deprecated EC_KEY-based key would take 11 us; not worth
  // deprecated API for a once-per-host cost.
  if (X509_set_version(c, X509_VERSION_3) != 1 || !set_random_serial(c) ||
      !set_validity(c, now - std::chrono::hours(1), not_after) ||
      (!address && !add_name_entry(X509_get_subject_name(c), "CN", cn)) ||
      X509_set_issuer_name(c, X509_get_subject_name(ca_cert_.get())) != 1 ||
      X509_set_pubkey(c, leaf_key_.get()) != 1 ||
      X509_add1_ext_i2d(c, NID_subject_alt_name, san.get(), address ? 1 : 0, X509V3_ADD_DEFAULT) !=
          1) {
    return nullptr;
  }
  for (const auto* ext : {&basic_constraints_, &key_usage_, &extended_key_usage_, &subject_key_id_,
                          &authority_key_id_}) {
    if (X509_add_ext(c, ext->get(), -1) != 1) {
      return nullptr;
    }
  }
  if (X509_sign(c, ca_key_.get(), EVP_sha256()) <= 0) {
    return nullptr;
  }
  // Parses the extensions now, before the leaf is published to other workers through the
  // cache's mutex; otherwise two workers' first handshakes would both fill OpenSSL's lazy
  // cache on the shared certificate (see cache_trust_anchor_extensions in tls_state.cpp).
  if (X509_check_purpose(c, X509_PURPOSE_SSL_SERVER, 0) != 1) {
    return nullptr;
  }
  return cert;
}

ssl_ctx_ptr leaf_minter::make_context(X509* leaf) const {
  ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    return nullptr;
  }
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(c, tls12_ciphers) != 1 ||
      SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1 ||
      SSL_CTX_use_certificate(c, leaf) != 1 || SSL_CTX_use_PrivateKey(c, leaf_key_.get()) != 1 ||
      SSL_CTX_add1_chain_cert(c, chain_cert_.get()) != 1) {
    return nullptr;
  }
  // No resumption: a session cache per context would multiply memory by the cache size, and
  // a ticket key living as long as the process weakens forward secrecy. A full P-256
  // handshake is cheap and agents keep connections alive.
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_num_tickets(c, 0) != 1) {
    return nullptr;
  }
  // Idle intercepted connections then hold no 34 KiB record buffers; the other two are what
  // tls_socket_stream's retried, partial writes rely on.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_alpn_select_cb(c, select_http11_alpn, nullptr);
  return ctx;
}

std::shared_ptr<SSL_CTX> leaf_minter::mint(const std::string& name) const noexcept {
  try {
    const x509_ptr leaf = make_leaf(name);
    ssl_ctx_ptr ctx = leaf ? make_context(leaf.get()) : nullptr;
    if (!ctx) {
      ERR_clear_error();
      return nullptr;
    }
    // On bad_alloc shared_ptr frees the context itself before throwing.
    return std::shared_ptr<SSL_CTX>(ctx.release(), SSL_CTX_free);
  } catch (...) {
    ERR_clear_error();
    return nullptr;
  }
}

}  // namespace airlock::proxy::intercept
