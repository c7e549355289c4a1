#include "tests/integration/intercept_fixture.hpp"

#include <cstdlib>
#include <sstream>

namespace airlock::test {

void intercept_test::SetUp() {
  std::filesystem::create_directories(scratch("pki"));
  pki_ = make_test_certs(scratch("pki"));
}

std::unique_ptr<tls_echo_server> intercept_test::start_upstream(std::optional<cert_pair> cert) {
  return std::make_unique<tls_echo_server>(tls_echo_options{cert ? *cert : localhost_cert(), {}});
}

std::string intercept_test::tls_yaml(bool trust_test_ca) const {
  std::ostringstream y;
  y << "tls:\n"
    << "  ca: { export_dir: \"" << export_dir().string() << "\" }\n";
  if (trust_test_ca) {
    y << "  upstream: { ca_file: \"" << pki_.ca_cert.string() << "\" }\n";
  }
  return y.str();
}

airlock_process& intercept_test::start_intercepting(const std::string& secrets,
                                                    const std::string& credentials,
                                                    std::map<std::string, std::string> env,
                                                    airlock_settings settings) {
  if (settings.extra_yaml.empty()) {
    settings.extra_yaml = tls_yaml();
  }
  settings.extra_yaml += "secrets:\n" + secrets + "credentials:\n" + credentials;
  settings.env.merge(env);
  return start_airlock(settings);
}

command_result intercept_test::curl_via_ca(std::vector<std::string> args) {
  args.insert(args.begin(), {"--cacert", airlock_ca().string()});
  return curl(std::move(args));
}

fetched intercept_test::fetch(std::vector<std::string> args) {
  args.insert(args.begin(), {"-w", "\n%{http_code}"});
  return split_status(curl_via_ca(std::move(args)));
}

fetched intercept_test::fetch_direct(std::vector<std::string> args) {
  args.insert(args.begin(), {"-w", "\n%{http_code}"});
  return split_status(run_curl(tmp_.path(), std::move(args)));
}

fetched split_status(const command_result& r) {
  fetched out;
  out.exit_code = r.exit_code;
  out.err = r.err;
  const auto nl = r.out.rfind('\n');
  if (nl != std::string::npos) {
    out.status = std::atoi(r.out.c_str() + nl + 1);
    out.body = r.out.substr(0, nl);
  }
  return out;
}

std::string intercept_test::https_url(const tls_echo_server& upstream, const std::string& path) {
  return "https://localhost:" + std::to_string(upstream.port()) + path;
}

std::unique_ptr<raw_client> intercept_test::open_tunnel(std::uint16_t port) {
  auto client = connect();
  const std::string target = "localhost:" + std::to_string(port);
  if (!client->send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")) {
    ADD_FAILURE() << "CONNECT could not be sent";
    return nullptr;
  }
  const auto established = client->read_response(5s, true);
  if (!established || established->status != 200) {
    ADD_FAILURE() << "CONNECT " << target
                  << " not established: " << (established ? established->head : "no answer");
    return nullptr;
  }
  const std::string failed = client->start_tls("localhost", airlock_ca());
  if (!failed.empty()) {
    ADD_FAILURE() << failed;
    return nullptr;
  }
  return client;
}

std::string intercept_test::airlock_output() const {
  return airlock_->stdout_text() + airlock_->stderr_text();
}

std::string newest_request(const tls_echo_server& upstream) {
  const auto requests = upstream.requests();
  if (requests.empty()) {
    ADD_FAILURE() << "no request reached the upstream";
    return {};
  }
  return requests.back();
}

std::size_t count_of(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace airlock::test
