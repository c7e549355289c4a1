// The agent's side of interception: the CA files airlock exports and the real clients
// that use them (curl through ca.env, python3-requests with REQUESTS_CA_BUNDLE, git
// cloning from a server that only airlock's injected credential opens), and clients
// that cannot trust a CA at all (plain http:// upgraded to TLS upstream).

#include <gtest/gtest.h>

#include <set>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/git_http_backend.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;
using intercept_clients_test = intercept_test;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST_F(intercept_clients_test, ExportedCaFiles) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  const std::string dir = export_dir().string();

  EXPECT_NE(airlock().stdout_text().find("trust airlock's CA:    " + dir + "/ca.pem"),
            std::string::npos)
      << airlock().stdout_text();
  // The CA certificate and the kit that points at it, nothing else: its key stays in memory.
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(export_dir())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"airlock.env", "ca-bundle.pem", "ca.env", "ca.pem", "proxy.env",
                                   "telemetry.env", "truststore.p12", "wgetrc"}));

  const std::string ca = read_file(airlock_ca());
  EXPECT_EQ(count_of(ca, "-----BEGIN CERTIFICATE-----"), 1u);
  EXPECT_EQ(count_of(ca, "PRIVATE KEY"), 0u);
  const std::string bundle = read_file(export_dir() / "ca-bundle.pem");
  EXPECT_TRUE(ends_with(bundle, ca)) << "ca-bundle.pem does not end with ca.pem";
  EXPECT_GT(bundle.size(), ca.size()) << "the system roots are missing from the bundle";
  EXPECT_EQ(count_of(bundle, "PRIVATE KEY"), 0u);

  const std::string env = read_file(export_dir() / "ca.env");
  for (const char* var :
       {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"}) {
    EXPECT_NE(env.find(std::string("export ") + var + "=" + dir + "/ca-bundle.pem\n"),
              std::string::npos)
        << var << " in\n"
        << env;
  }
  EXPECT_NE(env.find("export NODE_EXTRA_CA_CERTS=" + dir + "/ca.pem\n"), std::string::npos) << env;
  EXPECT_EQ(count_of(env, "export "), 14u) << env;  // kit_files_test has the rest

  // The CA really is a CA, and what an agent that sources ca.env gets is a working
  // curl: no --cacert, CURL_CA_BUNDLE from the file.
  const auto text =
      run_command({"/usr/bin/openssl", "x509", "-noout", "-text", "-in", airlock_ca().string()},
                  tmp_.path(), "openssl-ca", 20s);
  EXPECT_NE(text.out.find("CA:TRUE"), std::string::npos) << text.out;
  const auto sourced = run_command(
      {"/bin/sh", "-c",
       ". \"$0\" && exec /usr/bin/curl -q -sS --noproxy '' --max-time 20 -x \"$1\" \"$2\"",
       (export_dir() / "ca.env").string(), airlock().proxy_url(), https_url(*up, "/sourced")},
      tmp_.path(), "curl-sourced", 30s);
  ASSERT_EQ(sourced.exit_code, 0) << sourced.err;
  EXPECT_EQ(request_line(sourced.out), "GET /sourced HTTP/1.1");
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

// requests with the exported bundle (the system roots plus airlock's CA) and only an
// https proxy: a session whose two calls, the second a POST, both carry the key.
constexpr const char* requests_script = R"(
import sys, requests
s = requests.Session()
proxies = {"https": sys.argv[1]}
a = s.get(sys.argv[2] + "/v1/models", proxies=proxies, headers={"x-api-key": "placeholder"},
          timeout=20)
b = s.post(sys.argv[2] + "/v1/messages", proxies=proxies, json={"model": "m"},
           headers={"x-api-key": "placeholder"}, timeout=20)
sys.stdout.write("%d %d\n%s%s" % (a.status_code, b.status_code, a.text, b.text))
)";

TEST_F(intercept_clients_test, PythonRequestsWithTheExportedBundle) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  const auto r = run_command(
      {"/usr/bin/env", "REQUESTS_CA_BUNDLE=" + (export_dir() / "ca-bundle.pem").string(),
       "/usr/bin/python3", "-c", requests_script, airlock().proxy_url(), https_url(*up, "")},
      tmp_.path(), "python-requests", 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "200 200");
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(request_line(requests[0]), "GET /v1/models HTTP/1.1");
  EXPECT_EQ(request_line(requests[1]), "POST /v1/messages HTTP/1.1");
  for (const auto& req : requests) {
    EXPECT_EQ(field_values(req, "x-api-key"), strings{api_key}) << req;
  }
  EXPECT_EQ(count_of(up->received(), "placeholder"), 0u);
}

// A client that cannot be made to trust a CA sends plain http:// to the credential
// host; the credential still only travels over verified TLS.
TEST_F(intercept_clients_test, PlainHttpToCredentialHostGoesUpstreamOverTls) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  const std::string authority = "localhost:" + std::to_string(up->port());
  const auto r = curl({"-H", std::string("x-api-key: ") + placeholder, "-w", "\n%{http_code}",
                       "http://" + authority + "/v1/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ends_with(r.out, "\n200")) << r.out;
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string got = up->requests()[0];
  EXPECT_EQ(request_line(got), "GET /v1/x HTTP/1.1");
  EXPECT_EQ(field_values(got, "host"), strings{authority});
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
  EXPECT_EQ(up->handshakes(), 1u);
}

// `resolve:` maps names like curl --resolve for every upstream, TLS ones included (the
// lookup uses "api.test:PORT", not the pool key "tls:api.test:PORT").
TEST_F(intercept_clients_test, ResolveMapAppliesToInterceptedUpstreams) {
  auto up = start_upstream(mint_leaf(pki_, "api", {"DNS:api.test"}));
  const std::string authority = "api.test:" + std::to_string(up->port());
  airlock_settings settings;
  settings.resolve[authority] = up->address();
  start_intercepting(anthropic_secret,
                     "  - { host: api.test, port: " + std::to_string(up->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);

  const auto r = fetch({"-i", "https://" + authority + "/v1/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field_values(up->received(), "x-api-key"), strings{api_key});
}

// http://api.test/ (port 80) goes upstream as https://api.test/ (port 443).
TEST_F(intercept_clients_test, PlainHttpOnPort80IsSentToPort443) {
  auto up = start_upstream(mint_leaf(pki_, "api", {"DNS:api.test"}));
  airlock_settings settings;
  settings.resolve["api.test:443"] = up->address();
  start_intercepting(anthropic_secret,
                     "  - { host: api.test, headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);

  const auto r = curl({"-i", "-w", "\n%{http_code}", "http://api.test/v1/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ends_with(r.out, "\n200")) << r.out;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "host"), strings{"api.test"});
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

class git_clone_test : public intercept_test {
 protected:
  command_result git(std::vector<std::string> args, const std::string& name) {
    // No prompt for credentials: a 401 must fail the clone, not wait for a terminal.
    args.insert(args.begin(), {"/usr/bin/env", "GIT_TERMINAL_PROMPT=0", "/usr/bin/git", "-c",
                               "user.name=airlock test", "-c", "user.email=test@airlock.invalid",
                               "-c", "init.defaultBranch=main"});
    return run_command(std::move(args), tmp_.path(), "git-" + name, 60s);
  }

  // A bare repository with one commit under scratch("repos")/repo.git.
  void make_repository() {
    const auto work = scratch("work");
    ASSERT_EQ(git({"init", "-q", work.string()}, "init").exit_code, 0);
    write_file(work / "README", "cloned through airlock\n");
    ASSERT_EQ(git({"-C", work.string(), "add", "README"}, "add").exit_code, 0);
    const auto commit = git({"-C", work.string(), "commit", "-q", "-m", "first"}, "commit");
    ASSERT_EQ(commit.exit_code, 0) << commit.err;
    const auto bare = scratch("repos") / "repo.git";
    ASSERT_EQ(git({"clone", "-q", "--bare", work.string(), bare.string()}, "bare").exit_code, 0);
  }
};

// git's smart HTTP behind TLS, open only to "Basic x-access-token:<token>": the agent
// has no credential, airlock's basic_auth rule is the only way in.
TEST_F(git_clone_test, CloneAuthenticatedOnlyByInjection) {
  ASSERT_NO_FATAL_FAILURE(make_repository());
  std::filesystem::create_directories(scratch("cgi"));
  const std::string expected = "Basic eC1hY2Nlc3MtdG9rZW46Z2hwLVJFQUwtOTRkMWM3YWIzZTZm";
  const auto repos = scratch("repos");
  const auto cgi_dir = scratch("cgi");
  tls_echo_server up(
      tls_echo_options{localhost_cert(), [&](const std::string& request) {
                         const auto head = request.substr(0, request.find("\r\n\r\n") + 4);
                         if (field_values(head, "authorization") != strings{expected}) {
                           return std::string(
                               "HTTP/1.1 401 Unauthorized\r\n"
                               "WWW-Authenticate: Basic realm=\"git\"\r\n"
                               "Content-Length: 0\r\n\r\n");
                         }
                         return git_http_backend_response(repos, cgi_dir, request);
                       }});
  const std::string port = std::to_string(up.port());
  start_intercepting("  github: { env: GITHUB_TOKEN }\n",
                     "  - host: localhost\n"
                     "    port: " +
                         port +
                         "\n"
                         "    basic_auth: { username: x-access-token, password: \"{{github}}\" }\n",
                     {{"GITHUB_TOKEN", git_token}});
  const auto clone = [&](const std::string& url, const std::filesystem::path& ca,
                         const std::string& dest) {
    return git({"-c", "http.proxy=" + airlock().proxy_url(), "-c", "http.sslCAInfo=" + ca.string(),
                "clone", "-q", url, scratch(dest).string()},
               dest);
  };

  // Control: the same server through a blind tunnel (127.0.0.1 has no rule) asks for a
  // password, which git, without a terminal, cannot give.
  const auto denied = clone("https://127.0.0.1:" + port + "/repo.git", pki_.ca_cert, "denied");
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("could not read Username"), std::string::npos) << denied.err;

  const auto r = clone("https://localhost:" + port + "/repo.git", airlock_ca(), "clone");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(scratch("clone") / "README"), "cloned through airlock\n");
  // Every request the server answered carried the injected credential and nothing else.
  const auto requests = up.requests();
  ASSERT_GE(requests.size(), 2u);
  std::size_t injected = 0;
  for (const auto& req : requests) {
    if (field_values(req, "host") == strings{"localhost:" + port}) {
      EXPECT_EQ(field_values(req, "authorization"), strings{expected}) << req;
      ++injected;
    }
  }
  EXPECT_GE(injected, 2u);
  EXPECT_EQ(count_of(r.out + r.err, git_token), 0u);
}

}  // namespace
}  // namespace airlock::test
