#include "proxy/tls/workspace_ca.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

using namespace std::chrono_literals;
using test_support::cert_options;
using test_support::make_cert;
using test_support::make_ec_key;
using test_support::read_text;
using test_support::temp_dir;
using test_support::write_cert_pem;
using test_support::write_key_pem;

std::string name_entry(X509_NAME* name, int nid) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(name, nid, buf, sizeof buf);
  return buf;
}

// Seconds from now to t (negative in the past).
long long seconds_from_now(const ASN1_TIME* t) {
  int days = 0;
  int secs = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, t), 1);
  return static_cast<long long>(days) * 86400 + secs;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Expects load() to throw ca_error whose message contains both needles.
void expect_load_error(const std::string& cert, const std::string& key, const std::string& what,
                       const std::string& file) {
  try {
    workspace_ca::load(cert, key);
    ADD_FAILURE() << "load accepted " << cert << " / " << key;
  } catch (const ca_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
  }
}

TEST(workspace_ca_generate, has_the_promised_subject_and_extensions) {
  const auto ca = workspace_ca::generate();
  X509* cert = ca.cert();
  EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
  const std::string cn = name_entry(X509_get_subject_name(cert), NID_commonName);
  EXPECT_EQ(cn.rfind("airlock workspace CA ", 0), 0u) << cn;
  EXPECT_EQ(cn.size(), std::string("airlock workspace CA ").size() + 16);
  EXPECT_EQ(name_entry(X509_get_subject_name(cert), NID_organizationName), "airlock");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)), 0);
  EXPECT_EQ(X509_verify(cert, ca.key()), 1);  // self-signed with its own key
  EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);

  const std::uint32_t flags = X509_get_extension_flags(cert);
  EXPECT_NE(flags & EXFLAG_CA, 0u);
  EXPECT_EQ(X509_get_pathlen(cert), 1);  // room for its cross-signed successor only
  EXPECT_EQ(X509_get_key_usage(cert), static_cast<std::uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  for (const int nid : {NID_basic_constraints, NID_key_usage}) {
    const int idx = X509_get_ext_by_NID(cert, nid, -1);
    ASSERT_GE(idx, 0);
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert, idx)), 1) << OBJ_nid2sn(nid);
  }
  ASSERT_NE(X509_get0_subject_key_id(cert), nullptr);
  EXPECT_EQ(ASN1_STRING_length(X509_get0_subject_key_id(cert)), 20);

  EXPECT_EQ(EVP_PKEY_get_base_id(ca.key()), EVP_PKEY_EC);
  char group[32] = {};
  EVP_PKEY_get_group_name(ca.key(), group, sizeof group, nullptr);
  EXPECT_STREQ(group, "prime256v1");

  bignum_ptr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  EXPECT_GT(BN_num_bits(serial.get()), 64);  // 128 random bits; < 65 has odds 2^-63

  EXPECT_NEAR(static_cast<double>(seconds_from_now(X509_get0_notBefore(cert))), -3600.0, 120.0);
  EXPECT_NEAR(static_cast<double>(seconds_from_now(X509_get0_notAfter(cert))), 7 * 86400.0, 120.0);
  // Two seconds: generation and this line may straddle a second boundary.
  EXPECT_NEAR(static_cast<double>(std::chrono::system_clock::to_time_t(ca.not_after())),
              static_cast<double>(
                  std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + 7 * 24h)),
              2.0);
}

TEST(workspace_ca_generate, every_ca_is_distinct) {
  const auto a = workspace_ca::generate();
  const auto b = workspace_ca::generate();
  EXPECT_NE(name_entry(X509_get_subject_name(a.cert()), NID_commonName),
            name_entry(X509_get_subject_name(b.cert()), NID_commonName));
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.cert()), X509_get0_serialNumber(b.cert())),
            0);
  EXPECT_NE(EVP_PKEY_eq(a.key(), b.key()), 1);
}

TEST(workspace_ca_generate, honours_validity_and_refuses_nonpositive) {
  const auto ca = workspace_ca::generate(2h);
  EXPECT_NEAR(static_cast<double>(seconds_from_now(X509_get0_notAfter(ca.cert()))), 7200.0, 60.0);
  EXPECT_THROW(workspace_ca::generate(0h), ca_error);
}

TEST(workspace_ca_generate, cert_pem_round_trips_without_the_key) {
  const auto ca = workspace_ca::generate();
  const std::string pem = ca.cert_pem();
  EXPECT_EQ(pem.find("PRIVATE KEY"), std::string::npos);
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  x509_ptr back(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(back);
  EXPECT_EQ(X509_cmp(back.get(), ca.cert()), 0);
}

TEST(workspace_ca_load, accepts_a_ca_written_by_a_generated_one) {
  temp_dir dir;
  const auto generated = workspace_ca::generate();
  write_cert_pem(dir.file("ca.pem"), generated.cert());
  write_key_pem(dir.file("ca.key"), generated.key());
  const auto loaded = workspace_ca::load(dir.file("ca.pem"), dir.file("ca.key"));
  EXPECT_EQ(X509_cmp(loaded.cert(), generated.cert()), 0);
  EXPECT_EQ(EVP_PKEY_eq(loaded.key(), generated.key()), 1);
  EXPECT_EQ(loaded.not_after(), generated.not_after());
}

TEST(workspace_ca_load, accepts_cert_and_key_in_one_file) {
  temp_dir dir;
  const auto generated = workspace_ca::generate();
  write_key_pem(dir.file("key.pem"), generated.key());
  write_cert_pem(dir.file("cert.pem"), generated.cert());
  std::FILE* f = std::fopen(dir.file("both.pem").c_str(), "w");
  ASSERT_NE(f, nullptr);
  const std::string both = read_text(dir.file("key.pem")) + read_text(dir.file("cert.pem"));
  std::fwrite(both.data(), 1, both.size(), f);
  std::fclose(f);
  EXPECT_NO_THROW(workspace_ca::load(dir.file("both.pem"), dir.file("both.pem")));
}

TEST(workspace_ca_load, accepts_p384_and_rsa_cas) {
  temp_dir dir;
  for (const bool rsa : {false, true}) {
    const auto key = rsa ? test_support::make_rsa_key(2048) : make_ec_key("P-384");
    ASSERT_TRUE(key);
    const auto cert = make_cert(cert_options{}, key.get());
    ASSERT_TRUE(cert);
    write_cert_pem(dir.file("ca.pem"), cert.get());
    write_key_pem(dir.file("ca.key"), key.get());
    EXPECT_NO_THROW(workspace_ca::load(dir.file("ca.pem"), dir.file("ca.key")));
  }
}

TEST(workspace_ca_load, refuses_a_certificate_that_is_not_a_ca) {
  temp_dir dir;
  auto key = make_ec_key();
  write_key_pem(dir.file("ca.key"), key.get());

  cert_options leaf;
  leaf.ca = false;
  leaf.key_usage = "critical,digitalSignature";
  write_cert_pem(dir.file("leaf.pem"), make_cert(leaf, key.get()).get());
  expect_load_error(dir.file("leaf.pem"), dir.file("ca.key"), "not a CA", dir.file("leaf.pem"));

  cert_options no_constraints;
  no_constraints.basic_constraints = false;
  write_cert_pem(dir.file("v1.pem"), make_cert(no_constraints, key.get()).get());
  expect_load_error(dir.file("v1.pem"), dir.file("ca.key"), "not a CA", dir.file("v1.pem"));

  cert_options no_cert_sign;
  no_cert_sign.key_usage = "critical,digitalSignature,cRLSign";
  write_cert_pem(dir.file("nosign.pem"), make_cert(no_cert_sign, key.get()).get());
  expect_load_error(dir.file("nosign.pem"), dir.file("ca.key"), "keyCertSign",
                    dir.file("nosign.pem"));
}

TEST(workspace_ca_load, refuses_a_key_that_does_not_match) {
  temp_dir dir;
  auto key = make_ec_key();
  auto other = make_ec_key();
  write_cert_pem(dir.file("ca.pem"), make_cert(cert_options{}, key.get()).get());
  write_key_pem(dir.file("other.key"), other.get());
  expect_load_error(dir.file("ca.pem"), dir.file("other.key"), "does not match",
                    dir.file("other.key"));
}

TEST(workspace_ca_load, refuses_expired_and_not_yet_valid) {
  temp_dir dir;
  auto key = make_ec_key();
  write_key_pem(dir.file("ca.key"), key.get());
  cert_options expired;
  expired.not_before = -48h;
  expired.not_after = -1h;
  write_cert_pem(dir.file("expired.pem"), make_cert(expired, key.get()).get());
  expect_load_error(dir.file("expired.pem"), dir.file("ca.key"), "expired",
                    dir.file("expired.pem"));
  cert_options future;
  future.not_before = 24h;
  future.not_after = 48h;
  write_cert_pem(dir.file("future.pem"), make_cert(future, key.get()).get());
  expect_load_error(dir.file("future.pem"), dir.file("ca.key"), "not yet valid",
                    dir.file("future.pem"));
}

TEST(workspace_ca_load, refuses_weak_or_unsupported_keys) {
  temp_dir dir;
  auto rsa = test_support::make_rsa_key(1024);
  write_cert_pem(dir.file("rsa.pem"), make_cert(cert_options{}, rsa.get()).get());
  write_key_pem(dir.file("rsa.key"), rsa.get());
  expect_load_error(dir.file("rsa.pem"), dir.file("rsa.key"), "too weak", dir.file("rsa.key"));
  auto p521 = make_ec_key("P-521");
  write_cert_pem(dir.file("p521.pem"), make_cert(cert_options{}, p521.get()).get());
  write_key_pem(dir.file("p521.key"), p521.get());
  expect_load_error(dir.file("p521.pem"), dir.file("p521.key"), "unsupported EC curve",
                    dir.file("p521.key"));
}

TEST(workspace_ca_load, refuses_unreadable_garbage_and_encrypted_input) {
  temp_dir dir;
  const auto generated = workspace_ca::generate();
  write_cert_pem(dir.file("ca.pem"), generated.cert());
  write_key_pem(dir.file("ca.key"), generated.key());
  expect_load_error(dir.file("missing.pem"), dir.file("ca.key"), "No such file",
                    dir.file("missing.pem"));
  expect_load_error(dir.file("ca.pem"), dir.file("missing.key"), "No such file",
                    dir.file("missing.key"));
  expect_load_error(dir.path().string(), dir.file("ca.key"), "not a regular file",
                    dir.path().string());
  // The key file holds no key (a certificate only): named as the key's problem.
  expect_load_error(dir.file("ca.pem"), dir.file("ca.pem"), "no PEM private key",
                    dir.file("ca.pem"));
  expect_load_error(dir.file("ca.key"), dir.file("ca.key"), "no PEM certificate",
                    dir.file("ca.key"));
  // Must fail at once instead of prompting for a passphrase on a terminal.
  write_key_pem(dir.file("enc.key"), generated.key(), "secret-passphrase");
  expect_load_error(dir.file("ca.pem"), dir.file("enc.key"), "encrypted", dir.file("enc.key"));
}

class workspace_ca_export : public ::testing::Test {
 protected:
  temp_dir tmp_;
  workspace_ca ca_ = workspace_ca::generate();

  std::string write_system_bundle(const std::string& content) {
    const std::string path = tmp_.file("system.crt");
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    return path;
  }
};

TEST_F(workspace_ca_export, writes_pem_bundle_and_env) {
  const std::string dir = tmp_.file("run/airlock");  // parents missing too
  const std::string system = write_system_bundle("SYSTEM ROOT ONE\nSYSTEM ROOT TWO\n");
  ca_.export_to(dir, system);

  const std::string ca_pem = read_text(dir + "/ca.pem");
  const std::string bundle = read_text(dir + "/ca-bundle.pem");
  const std::string env = read_text(dir + "/ca.env");
  EXPECT_EQ(ca_pem, ca_.cert_pem());
  EXPECT_EQ(bundle.rfind("SYSTEM ROOT ONE\nSYSTEM ROOT TWO\n", 0), 0u);
  EXPECT_TRUE(ends_with(bundle, ca_pem));
  EXPECT_EQ(bundle.size(),
            std::string("SYSTEM ROOT ONE\nSYSTEM ROOT TWO\n").size() + ca_pem.size());
  for (const char* var :
       {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"}) {
    EXPECT_NE(env.find(std::string("export ") + var + "=" + dir + "/ca-bundle.pem\n"),
              std::string::npos)
        << var << " in\n"
        << env;
  }
  EXPECT_NE(env.find("export NODE_EXTRA_CA_CERTS=" + dir + "/ca.pem\n"), std::string::npos) << env;
  for (const auto& text : {ca_pem, bundle, env}) {
    EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos);
  }
  const std::vector<std::string> kit{"ca.pem", "ca-bundle.pem", "truststore.p12", "wgetrc",
                                     "ca.env", "proxy.env",     "telemetry.env",  "airlock.env"};
  for (const auto& name : kit) {
    EXPECT_EQ(mode_of(dir + "/" + name), 0644u) << name;
  }
  EXPECT_EQ(mode_of(dir), 0755u);
  // Nothing else left behind (no temp files).
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) {
    ++entries;
  }
  EXPECT_EQ(entries, kit.size());
  // The kit names the proxy it was given, and the default one otherwise.
  EXPECT_NE(read_text(dir + "/proxy.env").find("export HTTPS_PROXY=http://127.0.0.1:3128\n"),
            std::string::npos);
  kit_settings other;
  other.proxy.host = "airlock";
  other.proxy.port = 8080;
  other.telemetry_optouts = false;
  ca_.export_to(dir, system, other);
  EXPECT_NE(read_text(dir + "/proxy.env").find("export HTTPS_PROXY=http://airlock:8080\n"),
            std::string::npos);
  EXPECT_EQ(read_text(dir + "/telemetry.env").find("export "), std::string::npos);
}

TEST_F(workspace_ca_export, refuses_a_directory_with_a_line_break) {
  try {
    ca_.export_to(tmp_.file("two\nlines"), "");
    ADD_FAILURE() << "exported into a directory whose name breaks wgetrc and the env files";
  } catch (const ca_error& e) {
    EXPECT_NE(std::string(e.what()).find("control character"), std::string::npos) << e.what();
  }
}

TEST_F(workspace_ca_export, bundle_is_ca_alone_without_system_store_and_gets_a_newline) {
  const std::string dir = tmp_.file("out");
  ca_.export_to(dir, tmp_.file("no-such-bundle.crt"));
  EXPECT_EQ(read_text(dir + "/ca-bundle.pem"), ca_.cert_pem());

  ca_.export_to(dir, write_system_bundle("NO TRAILING NEWLINE"));
  EXPECT_EQ(read_text(dir + "/ca-bundle.pem"), "NO TRAILING NEWLINE\n" + ca_.cert_pem());
}

TEST_F(workspace_ca_export, replaces_files_from_an_earlier_ca) {
  const std::string dir = tmp_.file("out");
  workspace_ca::generate().export_to(dir, "");
  ca_.export_to(dir, "");
  EXPECT_EQ(read_text(dir + "/ca.pem"), ca_.cert_pem());
  EXPECT_EQ(read_text(dir + "/ca-bundle.pem"), ca_.cert_pem());
}

TEST_F(workspace_ca_export, env_file_quotes_paths_for_sh) {
  const std::string dir = tmp_.file("with space's dir");
  ca_.export_to(dir, "");
  // Sources ca.env in a real sh; the env path is passed single-quoted, its own ' escaped.
  std::string env_arg = "'";
  for (const char c : dir + "/ca.env") {
    env_arg += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  env_arg += "'";
  const std::string cmd =
      "sh -c '. \"$0\" && printf %s \"$SSL_CERT_FILE|$NODE_EXTRA_CA_CERTS\"' " + env_arg;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[1024] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, p);
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(std::string(buf, n), dir + "/ca-bundle.pem|" + dir + "/ca.pem");
}

TEST_F(workspace_ca_export, fails_naming_the_path) {
  const std::string file = write_system_bundle("x");
  try {
    ca_.export_to(file + "/sub", "");
    ADD_FAILURE() << "export into a path under a regular file succeeded";
  } catch (const ca_error& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
  EXPECT_THROW(ca_.export_to(file, ""), ca_error);  // a file, not a directory
}

}  // namespace
}  // namespace airlock::proxy::intercept
