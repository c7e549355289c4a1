#pragma once
// A throwaway PKI made with the openssl CLI at test time: an ECDSA P-256 CA and a
// leaf for "localhost" and 127.0.0.1 that it signed, valid for two days.

#include <filesystem>

namespace airlock::test {

struct test_certs {
  std::filesystem::path ca_cert;  // PEM, for curl --cacert
  std::filesystem::path leaf_cert;
  std::filesystem::path leaf_key;
};

// Writes the files into dir; throws std::runtime_error with openssl's output on failure.
test_certs make_test_certs(const std::filesystem::path& dir);

}  // namespace airlock::test
