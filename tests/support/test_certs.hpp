#pragma once
// A throwaway PKI made with the openssl CLI at test time: an ECDSA P-256 CA and a
// leaf for "localhost" and 127.0.0.1 that it signed, valid for two days; more leaves
// for other names from the same CA, and self-signed ones no CA vouches for, so an
// upstream can present the right, the wrong or an untrusted certificate.

#include <filesystem>
#include <string>
#include <vector>

namespace airlock::test {

struct test_certs {
  std::filesystem::path ca_cert;  // PEM, for curl --cacert
  std::filesystem::path leaf_cert;
  std::filesystem::path leaf_key;
  std::filesystem::path ca_key;  // for mint_leaf
};

// A certificate and its private key, PEM files.
struct cert_pair {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// Writes the files into dir; throws std::runtime_error with openssl's output on failure.
test_certs make_test_certs(const std::filesystem::path& dir);

// A leaf signed by ca for the subject alternative names sans ("DNS:api.test",
// "IP:127.0.0.1"), files named after `name` in ca's directory. Throws as above.
cert_pair mint_leaf(const test_certs& ca, const std::string& name,
                    const std::vector<std::string>& sans);

// The same, but valid only in January 2020: expired. Throws as above.
cert_pair mint_expired_leaf(const test_certs& ca, const std::string& name,
                            const std::vector<std::string>& sans);

// A self-signed leaf (its own issuer, not a CA) for sans, written into dir. Throws as above.
cert_pair make_self_signed(const std::filesystem::path& dir, const std::string& name,
                           const std::vector<std::string>& sans);

}  // namespace airlock::test
