// admin:, metrics: and the push source: what loads, and what is refused where.

#include <string>

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config/parse_values.hpp"

namespace airlock::config {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    load_string(yaml, "a.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(admin_config, a_unix_socket_by_default) {
  const config c = load_string("", "a.yaml");
  EXPECT_EQ(c.admin.socket, "/run/airlock-admin/admin.sock");
  EXPECT_FALSE(c.admin.listen);  // no TCP port the agent could reach or take over
  EXPECT_TRUE(c.admin.allow_uids.empty());
}

TEST(admin_config, listen_and_token_file) {
  const config c = load_string(
      "admin: { socket: /run/a/admin.sock, allow_uids: [1000, 0], listen: \"0.0.0.0:9901\",\n"
      "         token_file: /run/airlock/admin-token }\n"
      "metrics: { listen: \"[::1]:0\" }\n",
      "a.yaml");
  EXPECT_EQ(c.admin.socket, "/run/a/admin.sock");
  EXPECT_EQ(c.admin.allow_uids, (std::vector<std::uint32_t>{1000, 0}));
  EXPECT_EQ(c.admin.listen, (endpoint{"0.0.0.0", 9901}));
  EXPECT_EQ(c.admin.token_file, "/run/airlock/admin-token");
  EXPECT_EQ(c.metrics.listen, (endpoint{"::1", 0}));
}

TEST(admin_config, off_loopback_without_a_token_is_refused) {
  EXPECT_EQ(error_of("admin:\n  listen: \"0.0.0.0:9901\"\n"),
            "a.yaml:2:11: admin: a listener outside loopback needs token_file");
  EXPECT_EQ(error_of("admin: { listen: \"127.0.0.2:9901\" }\n"), "no error");
  EXPECT_EQ(error_of("admin: { listen: \"[::1]:9901\" }\n"), "no error");
}

TEST(admin_config, listen_alone_means_no_socket) {
  const config c = load_string("admin: { listen: \"127.0.0.1:9901\" }\n", "a.yaml");
  EXPECT_TRUE(c.admin.socket.empty());
  const config both =
      load_string("admin: { listen: \"127.0.0.1:9901\", socket: /run/x/admin.sock }\n", "a.yaml");
  EXPECT_EQ(both.admin.socket, "/run/x/admin.sock");
}

TEST(admin_config, nobody_cannot_be_allowed) {
  EXPECT_NE(error_of("admin: { allow_uids: [65534] }\n").find("overflow UID"), std::string::npos);
}

TEST(admin_config, names_are_refused_in_listen) {
  // "localhost" was bound as 127.0.0.1 while clients dialled ::1 first, where the agent
  // could listen and catch the token.
  for (const char* host : {"localhost", "airlock", "ip6-localhost", "127.1"}) {
    const auto e = error_of(std::string("admin: { listen: \"") + host + ":9901\" }\n");
    EXPECT_NE(e.find("a.yaml:1:18: admin.listen: an IP address literal is needed"),
              std::string::npos)
        << host << ": " << e;
  }
}

TEST(admin_config, tcp_without_a_token_is_refused_while_secrets_exist) {
  const std::string secrets = "secrets:\n  a: { env: A }\n";
  const auto e = error_of("admin:\n  listen: \"127.0.0.1:9901\"\n" + secrets);
  EXPECT_NE(e.find("a.yaml:2:11: admin.listen: a TCP admin listener needs token_file"),
            std::string::npos)
      << e;
  EXPECT_NE(error_of("admin: { listen: \"127.0.0.1:9901\" }\ncredentials:\n"
                     "  - { host: a.test, headers: { X: \"y\" } }\n"),
            "no error");
  // With a token, or the loudly named opt-out, it starts.
  EXPECT_EQ(error_of("admin: { listen: \"127.0.0.1:9901\", token_file: /t }\n" + secrets),
            "no error");
  EXPECT_EQ(error_of("admin: { listen: \"127.0.0.1:9901\", insecure_tcp_without_token: true }\n" +
                     secrets),
            "no error");
  // No secrets at all: nothing to push or steal.
  EXPECT_EQ(error_of("admin: { listen: \"127.0.0.1:9901\" }\n"), "no error");
}

TEST(admin_config, socket_paths) {
  EXPECT_EQ(error_of("admin: { socket: admin.sock }\n"),
            "a.yaml:1:18: admin.socket: an absolute path is needed, got \"admin.sock\"");
  EXPECT_NE(error_of("admin: { socket: /" + std::string(120, 'a') + " }\n").find("at most 107"),
            std::string::npos);
  // The agent reads the export directory: the socket must not sit beside the CA.
  EXPECT_NE(error_of("admin: { socket: /run/airlock/admin.sock }\n")
                .find("admin.socket: must not be in or under tls.ca.export_dir"),
            std::string::npos);
  EXPECT_NE(error_of("admin: { socket: /run/airlock/sub/admin.sock }\n")
                .find("admin.socket: must not be in or under tls.ca.export_dir"),
            std::string::npos);
  EXPECT_EQ(error_of("admin: { socket: /run/airlock-admin/admin.sock }\n"), "no error");
  EXPECT_EQ(error_of("admin: { socket: \"\" }\n"),
            "a.yaml:1:8: admin: give a socket or a listen address (the admin API is how secrets "
            "are pushed and revoked)");
  EXPECT_EQ(error_of("admin: { socket: \"\", listen: \"127.0.0.1:1\" }\n"), "no error");
  EXPECT_NE(error_of("admin: { allow_uids: [-1] }\n"), "no error");
  EXPECT_NE(error_of("admin: { allow_uids: 5 }\n"), "no error");
}

TEST(is_loopback, recognises_loopback_only) {
  for (const char* h : {"127.0.0.1", "127.255.0.9", "::1", "localhost"}) {
    EXPECT_TRUE(is_loopback(h)) << h;
  }
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "::ffff:127.0.0.1", "localhost.evil"}) {
    EXPECT_FALSE(is_loopback(h)) << h;
  }
}

TEST(secret_sources, push_is_a_source_without_location) {
  const config c = load_string("secrets:\n  openai: { push: true, required: true }\n", "a.yaml");
  ASSERT_EQ(c.secrets.size(), 1u);
  EXPECT_EQ(c.secrets[0].from, secret_source::kind::push);
  EXPECT_TRUE(c.secrets[0].location.empty());
  EXPECT_TRUE(c.secrets[0].required);
}

TEST(secret_sources, exactly_one_source) {
  EXPECT_EQ(error_of("secrets:\n  a: { push: true, env: X }\n"),
            "a.yaml:2:6: secrets.a: give exactly one source: file, env or push");
  EXPECT_EQ(error_of("secrets:\n  a: { required: true }\n"),
            "a.yaml:2:6: secrets.a: give exactly one source: file, env or push");
  EXPECT_EQ(error_of("secrets:\n  a: { push: false }\n"),
            "a.yaml:2:14: secrets.a.push: only true makes sense; give file or env instead");
}

}  // namespace
}  // namespace airlock::config

namespace airlock::config {
namespace {

TEST(revoke_hook, loads_with_method_url_and_headers) {
  const config c = load_string(
      "secrets:\n"
      "  github:\n"
      "    env: GITHUB_TOKEN\n"
      "    revoke:\n"
      "      method: delete\n"
      "      url: https://api.github.com/installation/token\n"
      "      headers: { Authorization: \"Bearer {{github}}\", X-Other: \"{{later}}\" }\n"
      "  later: { push: true }\n",
      "a.yaml");
  ASSERT_EQ(c.secrets.size(), 2u);
  ASSERT_TRUE(c.secrets[0].revoke);
  const revoke_hook& h = *c.secrets[0].revoke;
  EXPECT_EQ(h.method, "DELETE");
  EXPECT_EQ(h.url, "https://api.github.com/installation/token");
  EXPECT_TRUE(h.tls);
  EXPECT_EQ(h.host, "api.github.com");
  EXPECT_EQ(h.port, 443);
  EXPECT_EQ(h.path, "/installation/token");
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[0].first, "Authorization");
  EXPECT_FALSE(c.secrets[1].revoke);
}

TEST(revoke_hook, mistakes_are_reported_where_they_are) {
  EXPECT_EQ(error_of("secrets:\n  a:\n    push: true\n    revoke: { method: GET }\n"),
            "a.yaml:4:13: secrets.a.revoke: missing url");
  EXPECT_EQ(error_of("secrets:\n  a:\n    push: true\n    revoke: { url: \"ftp://x\" }\n"),
            "a.yaml:4:20: secrets.a.revoke.url: the scheme must be https or http, got "
            "\"ftp://x\"");
  EXPECT_EQ(error_of("secrets:\n  a:\n    push: true\n"
                     "    revoke: { url: \"https://x\", headers: { A: \"{{nope}}\" } }\n"),
            "a.yaml:4:47: secrets.a.revoke.headers.A: \"{{nope}}\" names no secret declared "
            "under secrets:");
  EXPECT_EQ(error_of("secrets:\n  a:\n    push: true\n"
                     "    revoke: { url: \"https://x\", headers: { Host: evil } }\n"),
            "a.yaml:4:44: secrets.a.revoke.headers: airlock sets \"Host\" itself");
}

std::string rule_with(const std::string& scrub) {
  return "secrets:\n  k:\n    push: true\ncredentials:\n"
         "  - { host: a.example, headers: { X-Key: \"{{k}}\" }" +
         scrub + " }\n";
}

TEST(scrub_options, on_by_default_refusing_what_it_cannot_read) {
  const auto c = load_string(rule_with(""), "a.yaml");
  ASSERT_EQ(c.credentials.size(), 1u);
  EXPECT_TRUE(c.credentials[0].scrub.enabled);
  EXPECT_FALSE(c.credentials[0].scrub.pass_unreadable);
}

TEST(scrub_options, off_or_passing_unreadable_bodies_when_asked) {
  EXPECT_FALSE(load_string(rule_with(", scrub: false"), "a.yaml").credentials[0].scrub.enabled);
  const auto pass = load_string(rule_with(", scrub: { on_unreadable: pass }"), "a.yaml");
  EXPECT_TRUE(pass.credentials[0].scrub.enabled);
  EXPECT_TRUE(pass.credentials[0].scrub.pass_unreadable);
  const auto off = load_string(rule_with(", scrub: { enabled: false }"), "a.yaml");
  EXPECT_FALSE(off.credentials[0].scrub.enabled);
}

TEST(scrub_options, mistakes_are_reported_where_they_are) {
  EXPECT_EQ(error_of(rule_with(", scrub: { on_unreadable: ignore }")),
            "a.yaml:5:77: credentials[0].scrub.on_unreadable: expected refuse or pass, got "
            "\"ignore\"");
  EXPECT_NE(error_of(rule_with(", scrub: { onunreadable: pass }")).find("a.yaml:5:"),
            std::string::npos);
  EXPECT_NE(error_of(rule_with(", scrub: maybe")).find("a.yaml:5:60"), std::string::npos);
}

}  // namespace
}  // namespace airlock::config
