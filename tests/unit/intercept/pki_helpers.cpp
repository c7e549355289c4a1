#include "tests/unit/intercept/pki_helpers.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace airlock::proxy::intercept::test_support {

namespace fs = std::filesystem;

temp_dir::temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "airlock-intercept-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

pkey_ptr make_ec_key(const char* curve) {
  return pkey_ptr(EVP_EC_gen(curve));
}

pkey_ptr make_rsa_key(unsigned bits) {
  return pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

namespace {

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  x509_ext_ptr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

std::string openssl_error() {
  char buf[256] = "no OpenSSL error";
  if (const unsigned long e = ERR_get_error(); e != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
  }
  ERR_clear_error();
  return buf;
}

}  // namespace

x509_ptr make_cert(const cert_options& opts, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  x509_ptr cert(X509_new());
  X509* c = cert.get();
  X509_NAME* name = X509_get_subject_name(c);
  bool ok = c != nullptr && X509_set_version(c, X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(c), 4242) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(c), opts.not_before.count()) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(c), opts.not_after.count()) != nullptr &&
            X509_NAME_add_entry_by_txt(
                name, "CN", MBSTRING_ASC,
                reinterpret_cast<const unsigned char*>(opts.common_name.c_str()), -1, -1, 0) == 1 &&
            X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
            X509_set_pubkey(c, key) == 1;
  X509* signer = issuer ? issuer : c;
  if (ok && opts.basic_constraints) {
    ok = add_ext(c, signer, NID_basic_constraints, opts.ca ? "critical,CA:TRUE" : "CA:FALSE");
  }
  if (ok && !opts.key_usage.empty()) {
    ok = add_ext(c, signer, NID_key_usage, opts.key_usage);
  }
  if (ok && !opts.subject_alt_name.empty()) {
    ok = add_ext(c, signer, NID_subject_alt_name, opts.subject_alt_name);
  }
  ok = ok && add_ext(c, signer, NID_subject_key_identifier, "hash") &&
       X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
  if (!ok) {
    ADD_FAILURE() << "make_cert: " << openssl_error();
    return nullptr;
  }
  return cert;
}

void write_cert_pem(const std::string& path, X509* cert) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  ASSERT_TRUE(bio && PEM_write_bio_X509(bio.get(), cert) == 1) << path;
}

void write_key_pem(const std::string& path, EVP_PKEY* key, const char* passphrase) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  ASSERT_TRUE(bio) << path;
  const EVP_CIPHER* cipher = passphrase ? EVP_aes_256_cbc() : nullptr;
  auto* pass = reinterpret_cast<unsigned char*>(const_cast<char*>(passphrase));
  const int pass_len =
      passphrase ? static_cast<int>(std::char_traits<char>::length(passphrase)) : 0;
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), key, cipher, pass, pass_len, nullptr, nullptr), 1);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int verify_leaf(X509* leaf, STACK_OF(X509) * intermediates, X509* trusted, const std::string& host,
                bool ip) {
  x509_store_ptr store(X509_STORE_new());
  x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), trusted) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf, intermediates) != 1) {
    ADD_FAILURE() << "verify_leaf setup: " << openssl_error();
    return X509_V_ERR_UNSPECIFIED;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (set != 1) {
    ADD_FAILURE() << "verify_leaf cannot set host " << host;
    return X509_V_ERR_UNSPECIFIED;
  }
  const int rc = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return rc == 1 ? X509_V_OK : (err == X509_V_OK ? X509_V_ERR_UNSPECIFIED : err);
}

namespace {

// True when the SSL call may continue once the peer has moved.
bool wants_more(SSL* ssl, int rc) {
  const int e = SSL_get_error(ssl, rc);
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

}  // namespace

handshake_result handshake(SSL_CTX* server_ctx, X509* trusted_ca, const client_options& opts) {
  handshake_result out;
  ssl_ctx_ptr client_ctx(SSL_CTX_new(TLS_client_method()));
  if (!client_ctx ||
      X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()), trusted_ca) != 1) {
    out.error = "client ctx: " + openssl_error();
    return out;
  }
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (opts.max_version != 0) {
    SSL_CTX_set_max_proto_version(client_ctx.get(), opts.max_version);
  }
  ssl_ptr client(SSL_new(client_ctx.get()));
  ssl_ptr server(SSL_new(server_ctx));
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  if (!client || !server || BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) {
    out.error = "ssl objects: " + openssl_error();
    return out;
  }
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  if (opts.ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(client.get()), opts.host.c_str());
  } else {
    SSL_set_tlsext_host_name(client.get(), opts.host.c_str());
    SSL_set1_host(client.get(), opts.host.c_str());
  }
  if (!opts.alpn_wire.empty()) {
    // Returns 0 on success, unlike most of OpenSSL.
    SSL_set_alpn_protos(client.get(), reinterpret_cast<const unsigned char*>(opts.alpn_wire.data()),
                        static_cast<unsigned>(opts.alpn_wire.size()));
  }
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());

  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
    if (!client_done) {
      const int rc = SSL_do_handshake(client.get());
      client_done = rc == 1;
      if (!client_done && !wants_more(client.get(), rc)) {
        out.error = "client: " + openssl_error() +
                    " verify=" + X509_verify_cert_error_string(SSL_get_verify_result(client.get()));
        return out;
      }
    }
    if (!server_done) {
      const int rs = SSL_do_handshake(server.get());
      server_done = rs == 1;
      if (!server_done && !wants_more(server.get(), rs)) {
        out.error = "server: " + openssl_error();
        return out;
      }
    }
  }
  if (!client_done || !server_done) {
    out.error = "handshake did not finish";
    return out;
  }
  const unsigned char* proto = nullptr;
  unsigned proto_len = 0;
  SSL_get0_alpn_selected(client.get(), &proto, &proto_len);
  out.alpn.assign(reinterpret_cast<const char*>(proto), proto_len);
  out.version = SSL_get_version(client.get());
  out.cipher = SSL_get_cipher_name(client.get());

  const std::string ping = "GET / HTTP/1.1\r\n\r\n";
  if (SSL_write(client.get(), ping.data(), static_cast<int>(ping.size())) !=
      static_cast<int>(ping.size())) {
    out.error = "client write: " + openssl_error();
    return out;
  }
  char buf[256];
  for (int round = 0; round < 10 && out.echoed.size() < ping.size(); ++round) {
    const int n = SSL_read(server.get(), buf, sizeof buf);
    if (n > 0) {
      out.echoed.append(buf, static_cast<std::size_t>(n));
    } else if (!wants_more(server.get(), n)) {
      out.error = "server read: " + openssl_error();
      return out;
    }
  }
  out.ok = SSL_get_verify_result(client.get()) == X509_V_OK;
  if (!out.ok) {
    out.error = "verify result not OK";
  }
  return out;
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

}  // namespace airlock::proxy::intercept::test_support
