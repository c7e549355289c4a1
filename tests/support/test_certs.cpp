#include "tests/support/test_certs.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/files.hpp"

namespace airlock::test {

namespace {

void openssl(const std::filesystem::path& dir, const std::string& step,
             std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  const auto r = run_command(std::move(args), dir, "openssl-" + step, std::chrono::seconds(20));
  if (r.exit_code != 0) {
    throw std::runtime_error("openssl " + step + " failed:\n" + r.out + r.err);
  }
}

}  // namespace

test_certs make_test_certs(const std::filesystem::path& dir) {
  test_certs out{dir / "ca.pem", dir / "leaf.pem", dir / "leaf.key"};
  const auto ca_key = dir / "ca.key";
  const auto csr = dir / "leaf.csr";
  const auto ext = dir / "leaf.ext";
  write_file(ext,
             "basicConstraints = critical, CA:FALSE\n"
             "keyUsage = critical, digitalSignature\n"
             "extendedKeyUsage = serverAuth\n"
             "subjectAltName = DNS:localhost, IP:127.0.0.1\n");
  openssl(dir, "ca-key",
          {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
           ca_key.string()});
  openssl(dir, "ca-cert",
          {"req", "-x509", "-new", "-key", ca_key.string(), "-subj", "/CN=airlock test CA", "-days",
           "2", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign", "-out", out.ca_cert.string()});
  openssl(dir, "leaf-key",
          {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
           out.leaf_key.string()});
  openssl(dir, "leaf-csr",
          {"req", "-new", "-key", out.leaf_key.string(), "-subj", "/CN=localhost", "-out",
           csr.string()});
  openssl(
      dir, "leaf-cert",
      {"x509", "-req", "-in", csr.string(), "-CA", out.ca_cert.string(), "-CAkey", ca_key.string(),
       "-set_serial", "2", "-days", "2", "-extfile", ext.string(), "-out", out.leaf_cert.string()});
  return out;
}

}  // namespace airlock::test
