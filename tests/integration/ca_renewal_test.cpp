// The workspace CA against the real binary: it is name-constrained to the intercepted hosts,
// and with a short tls.ca.lifetime it is renewed while airlock runs, clients that trust the
// exported files (re-read or not) keep being intercepted, and the expiry metric follows.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

const std::string secret = "  anthropic: { env: ANTHROPIC_KEY }\n";

std::string rule_for(const tls_echo_server& up) {
  return "  - { host: localhost, port: " + std::to_string(up.port()) +
         ", headers: { x-api-key: \"{{anthropic}}\" } }\n";
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::size_t cert_count(const std::filesystem::path& p) {
  return count_of(read_all(p), "-----BEGIN CERTIFICATE-----");
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ca_renewal_test : public intercept_test {
 protected:
  // airlock with a CA living `lifetime`, intercepting localhost:up's port.
  void start(const tls_echo_server& up, const std::string& lifetime) {
    airlock_settings s;
    s.extra_yaml = "tls:\n  ca: { export_dir: \"" + export_dir().string() +
                   "\", lifetime: " + lifetime + " }\n  upstream: { ca_file: \"" +
                   pki_.ca_cert.string() + "\" }\n";
    start_intercepting(secret, rule_for(up), {{"ANTHROPIC_KEY", api_key}}, s);
  }

  // An intercepted request trusting only the CAs in `trust`: the key must arrive.
  ::testing::AssertionResult intercepted(const tls_echo_server& up,
                                         const std::filesystem::path& trust) {
    const auto r =
        split_status(curl({"-w", "\n%{http_code}", "--cacert", trust.string(), "-H",
                           std::string("x-api-key: ") + placeholder, https_url(up, "/v1/x")}));
    if (r.exit_code != 0 || r.status != 200) {
      return ::testing::AssertionFailure()
             << "curl exit " << r.exit_code << " status " << r.status << ": " << r.err;
    }
    const auto requests = up.requests();
    if (requests.size() != ++sent_ ||
        field_values(requests.back(), "x-api-key") != strings{api_key}) {
      return ::testing::AssertionFailure()
             << "no injected key in " << (requests.empty() ? "no request" : requests.back());
    }
    return ::testing::AssertionSuccess();
  }

  double expiry() { return metric("airlock_ca_expiry_timestamp_seconds"); }

  // Inode of each file in the export directory, by name.
  std::map<std::string, std::uintmax_t> kit_inodes() const {
    std::map<std::string, std::uintmax_t> out;
    for (const auto& entry : std::filesystem::directory_iterator(export_dir())) {
      struct stat st {};
      EXPECT_EQ(::stat(entry.path().c_str(), &st), 0) << entry.path();
      out[entry.path().filename().string()] = st.st_ino;
    }
    return out;
  }

  std::size_t sent_ = 0;  // requests intercepted() has seen reach the upstream
};

TEST_F(ca_renewal_test, ExportedCaIsConstrainedToTheInterceptedHosts) {
  auto up = start_upstream();
  start(*up, "168h");
  ASSERT_TRUE(intercepted(*up, airlock_ca()));
  const auto r = run_command({"/usr/bin/openssl", "x509", "-noout", "-ext", "nameConstraints",
                              "-in", airlock_ca().string()},
                             tmp_.path(), "openssl-x509", 10s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("critical"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DNS:localhost"), std::string::npos) << r.out;
  // No rule names an address: every IPv4 and IPv6 address is excluded.
  EXPECT_NE(r.out.find("IP:0.0.0.0/0.0.0.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0"), std::string::npos) << r.out;
  const double week = expiry() - unix_now();
  EXPECT_NEAR(week, 7 * 86400.0, 120.0);
}

TEST_F(ca_renewal_test, ClientsStayInterceptedAcrossARenewal) {
  auto up = start_upstream();
  start(*up, "9s");  // renewed at 6 s; the old CA stays trusted 3 s more
  const double first_expiry = expiry();
  EXPECT_NEAR(first_expiry - unix_now(), 9.0, 3.0);
  ASSERT_TRUE(intercepted(*up, airlock_ca()));
  // What a client that loaded the files before the renewal trusts: the first CA alone.
  const auto before = scratch("before-renewal.pem");
  std::filesystem::copy_file(airlock_ca(), before);
  ASSERT_EQ(cert_count(before), 1u);

  // Every file of the kit is replaced at the renewal (by rename, so a new inode), not only
  // the certificates.
  const auto kit = kit_inodes();
  ASSERT_EQ(kit.size(), 8u);

  const auto wait_start = std::chrono::steady_clock::now();
  double renewed_expiry = first_expiry;
  while (renewed_expiry == first_expiry && seconds_since(wait_start) < 15) {
    std::this_thread::sleep_for(100ms);
    renewed_expiry = expiry();
  }
  ASSERT_GT(renewed_expiry, first_expiry) << "no renewal within 15 s";
  EXPECT_GE(metric("airlock_ca_renewals_total"), 1);
  // During the overlap the files carry both CAs and both kinds of client get through: the
  // one that re-reads the files, and the one that still trusts only the first CA (the new
  // CA comes cross-signed by the old one).
  EXPECT_EQ(cert_count(airlock_ca()), 2u);
  EXPECT_TRUE(intercepted(*up, airlock_ca()));
  EXPECT_TRUE(intercepted(*up, before));
  const auto renewed = kit_inodes();
  for (const auto& [name, inode] : kit) {
    EXPECT_NE(renewed.at(name), inode) << name << " was not rewritten at the renewal";
  }
  // Java's trust store carries both CAs too, beside the system roots.
  const auto p12 =
      run_command({"/usr/bin/openssl", "pkcs12", "-in", (export_dir() / "truststore.p12").string(),
                   "-passin", "pass:changeit", "-nokeys"},
                  tmp_.path(), "openssl-pkcs12", 20s);
  ASSERT_EQ(p12.exit_code, 0) << p12.err;
  EXPECT_EQ(count_of(p12.out, "friendlyName: airlock-ca-"), 2u);
  EXPECT_EQ(count_of(p12.out, "BEGIN CERTIFICATE"),
            count_of(read_all(export_dir() / "ca-bundle.pem"), "BEGIN CERTIFICATE"));

  // Through the first CA's expiry and the next renewal, a client re-reading the files never
  // fails.
  bool saw_retired = false;
  while (unix_now() < first_expiry + 5) {
    saw_retired = saw_retired || cert_count(airlock_ca()) == 1;
    EXPECT_TRUE(intercepted(*up, airlock_ca()));
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_TRUE(saw_retired) << "the expired CA never left ca.pem";
  EXPECT_GT(expiry(), renewed_expiry);  // renewed again
  // Leaves never outlive their CA: trust in the expired first CA alone gets nothing.
  EXPECT_FALSE(intercepted(*up, before));
  EXPECT_EQ(count_of(airlock_output(), "trying again"), 0u);  // no renewal failed
}

}  // namespace
}  // namespace airlock::test
