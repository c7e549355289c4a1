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

void make_key(const std::filesystem::path& dir, const std::string& step,
              const std::filesystem::path& key) {
  openssl(
      dir, step,
      {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.string()});
}

std::string join_sans(const std::vector<std::string>& sans) {
  std::string out;
  for (const auto& san : sans) {
    out += (out.empty() ? "" : ", ") + san;
  }
  return out;
}

// What a server certificate needs for OpenSSL, curl and Python to accept it.
std::string leaf_extensions(const std::vector<std::string>& sans) {
  return "basicConstraints = critical, CA:FALSE\n"
         "keyUsage = critical, digitalSignature\n"
         "extendedKeyUsage = serverAuth\n"
         "subjectAltName = " +
         join_sans(sans) + "\n";
}

}  // namespace

test_certs make_test_certs(const std::filesystem::path& dir) {
  test_certs out{dir / "ca.pem", dir / "leaf.pem", dir / "leaf.key", dir / "ca.key"};
  const auto csr = dir / "leaf.csr";
  const auto ext = dir / "leaf.ext";
  write_file(ext, leaf_extensions({"DNS:localhost", "IP:127.0.0.1"}));
  make_key(dir, "ca-key", out.ca_key);
  openssl(dir, "ca-cert",
          {"req", "-x509", "-new", "-key", out.ca_key.string(), "-subj", "/CN=airlock test CA",
           "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign", "-out", out.ca_cert.string()});
  make_key(dir, "leaf-key", out.leaf_key);
  openssl(dir, "leaf-csr",
          {"req", "-new", "-key", out.leaf_key.string(), "-subj", "/CN=localhost", "-out",
           csr.string()});
  openssl(dir, "leaf-cert",
          {"x509", "-req", "-in", csr.string(), "-CA", out.ca_cert.string(), "-CAkey",
           out.ca_key.string(), "-set_serial", "2", "-days", "2", "-extfile", ext.string(), "-out",
           out.leaf_cert.string()});
  return out;
}

namespace {

// A key and a certificate request for a leaf named `name` in ca's directory, and the
// extensions file for sans: what both kinds of minted leaf start from.
struct leaf_request {
  cert_pair files;
  std::filesystem::path csr;
  std::filesystem::path ext;
};

leaf_request request_leaf(const test_certs& ca, const std::string& name,
                          const std::vector<std::string>& sans) {
  const auto dir = ca.ca_cert.parent_path();
  leaf_request out{
      {dir / (name + ".pem"), dir / (name + ".key")}, dir / (name + ".csr"), dir / (name + ".ext")};
  write_file(out.ext, leaf_extensions(sans));
  make_key(dir, name + "-key", out.files.key);
  openssl(dir, name + "-csr",
          {"req", "-new", "-key", out.files.key.string(), "-subj", "/CN=" + name, "-out",
           out.csr.string()});
  return out;
}

}  // namespace

cert_pair mint_leaf(const test_certs& ca, const std::string& name,
                    const std::vector<std::string>& sans) {
  const auto dir = ca.ca_cert.parent_path();
  const leaf_request req = request_leaf(ca, name, sans);
  // Random serials: two leaves from one CA must never share issuer and serial.
  openssl(dir, name + "-cert",
          {"x509", "-req", "-in", req.csr.string(), "-CA", ca.ca_cert.string(), "-CAkey",
           ca.ca_key.string(), "-CAcreateserial", "-CAserial", (dir / "ca.srl").string(), "-days",
           "2", "-extfile", req.ext.string(), "-out", req.files.cert.string()});
  return req.files;
}

cert_pair mint_expired_leaf(const test_certs& ca, const std::string& name,
                            const std::vector<std::string>& sans) {
  const auto dir = ca.ca_cert.parent_path();
  const leaf_request req = request_leaf(ca, name, sans);
  // openssl x509 (3.0) only counts days from now; openssl ca takes explicit dates, and
  // wants a config naming its database.
  const auto db = dir / (name + "-db");
  std::filesystem::create_directories(db);
  write_file(db / "index.txt", "");
  write_file(db / "serial", "1000\n");
  const auto conf = db / "ca.cnf";
  write_file(conf, "[ca]\ndefault_ca = test\n[test]\ndatabase = " + (db / "index.txt").string() +
                       "\nnew_certs_dir = " + db.string() +
                       "\nserial = " + (db / "serial").string() +
                       "\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
                       "[any]\ncommonName = supplied\n");
  openssl(dir, name + "-cert",
          {"ca", "-batch", "-notext", "-config", conf.string(), "-cert", ca.ca_cert.string(),
           "-keyfile", ca.ca_key.string(), "-in", req.csr.string(), "-startdate", "20200101000000Z",
           "-enddate", "20200102000000Z", "-extfile", req.ext.string(), "-out",
           req.files.cert.string()});
  return req.files;
}

cert_pair make_self_signed(const std::filesystem::path& dir, const std::string& name,
                           const std::vector<std::string>& sans) {
  cert_pair out{dir / (name + ".pem"), dir / (name + ".key")};
  make_key(dir, name + "-key", out.key);
  openssl(dir, name + "-cert",
          {"req", "-x509", "-new", "-key", out.key.string(), "-subj", "/CN=" + name, "-days", "2",
           "-addext", "basicConstraints=critical,CA:FALSE", "-addext",
           "keyUsage=critical,digitalSignature", "-addext", "extendedKeyUsage=serverAuth",
           "-addext", "subjectAltName=" + join_sans(sans), "-out", out.cert.string()});
  return out;
}

}  // namespace airlock::test
