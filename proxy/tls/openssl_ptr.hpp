#pragma once
// Owning pointers for the OpenSSL objects the intercept module creates, so that every early
// return (and every exception from a loader) frees what was built so far.

#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace airlock::proxy::intercept {

template <auto free_fn>
struct openssl_deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    free_fn(p);
  }
};

template <typename T, auto free_fn>
using openssl_ptr = std::unique_ptr<T, openssl_deleter<free_fn>>;

using asn1_integer_ptr = openssl_ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using asn1_octet_string_ptr = openssl_ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using asn1_ia5_string_ptr = openssl_ptr<ASN1_IA5STRING, ASN1_IA5STRING_free>;
using authority_keyid_ptr = openssl_ptr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using bignum_ptr = openssl_ptr<BIGNUM, BN_free>;
using bio_ptr = openssl_ptr<BIO, BIO_free_all>;
using general_name_ptr = openssl_ptr<GENERAL_NAME, GENERAL_NAME_free>;
using general_names_ptr = openssl_ptr<GENERAL_NAMES, GENERAL_NAMES_free>;
using pkey_ctx_ptr = openssl_ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using pkey_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
using ssl_ctx_ptr = openssl_ptr<SSL_CTX, SSL_CTX_free>;
using ssl_ptr = openssl_ptr<SSL, SSL_free>;
using x509_ext_ptr = openssl_ptr<X509_EXTENSION, X509_EXTENSION_free>;
using x509_ptr = openssl_ptr<X509, X509_free>;
using x509_pubkey_ptr = openssl_ptr<X509_PUBKEY, X509_PUBKEY_free>;
using x509_store_ctx_ptr = openssl_ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using x509_store_ptr = openssl_ptr<X509_STORE, X509_STORE_free>;

}  // namespace airlock::proxy::intercept
