// SSRF through IPv6 forms that carry an IPv4 address: IPv4-compatible, IPv4-translated,
// 6to4, Teredo and local-use NAT64 spellings of the metadata service and of loopback are
// refused with the usual private_address answer, in CONNECT authorities and in request
// targets alike. Run in a network namespace with only loopback: should the refusal
// regress, airlock's dial to "::a9fe:a9fe" finds no route instead of leaving the machine.
// IPv4-mapped spellings are the IPv4 address itself and get the IPv4 spelling's answer.

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/loopback_netns.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

// The last checks of a namespace run: the permitted upstream got exactly the one request it
// was sent, and airlock's log tail goes with any failure.
template <typename Upstream, typename Proxy>
std::string finish(std::string failures, const Upstream& up, const Proxy& proxy) {
  if (up.requests().size() != 1) {
    failures += "the upstream got " + std::to_string(up.requests().size()) + " requests\n";
  }
  if (!failures.empty()) {
    const std::string log = proxy.stderr_text();
    failures += "airlock stderr (tail):\n" +
                log.substr(log.size() - std::min<std::size_t>(log.size(), 4000));
  }
  return failures;
}

struct attempt {
  std::string request_target;  // CONNECT authority, or absolute URI for GET
  std::string reason;          // expected X-Airlock-Reason
};

// What is wrong with airlock's answer to one attempt; empty when it was the refusal.
std::string check_refused(std::uint16_t proxy_port, const attempt& a) {
  const bool connect = a.request_target.rfind("http://", 0) != 0;
  std::string host = a.request_target;
  if (!connect) {
    host = host.substr(7, host.find('/', 7) - 7);
  }
  raw_client client(proxy_port);
  client.send((connect ? "CONNECT " : "GET ") + a.request_target + " HTTP/1.1\r\nHost: " + host +
              "\r\n\r\n");
  const auto r = client.read_response(5s, connect);
  if (!r) {
    return a.request_target + ": no answer";
  }
  if (r->status != 403 || r->header("x-airlock-reason") != a.reason) {
    return a.request_target + ": expected 403 " + a.reason + ", got\n" + r->head + r->body;
  }
  return {};
}

class ssrf_embedded_test : public proxy_test {};

TEST_F(ssrf_embedded_test, EmbeddedIpv4FormsOfPrivateAddressesAreRefused) {
  const auto dir = tmp_.path();
  const auto result = run_in_loopback_netns(
      [&dir]() -> std::string {
        recording_server up;
        // Loopback is open to test upstreams (127.0.0.0/8 and ::1): the IPv4 range must
        // not open the forms that do not reach 127.0.0.1.
        airlock_process proxy(dir, airlock_settings{});
        const std::string self = std::to_string(proxy.port());
        const std::vector<attempt> attempts = {
            {"[::169.254.169.254]:80", "private_address rule=metadata"},
            {"[::a9fe:a9fe]:443", "private_address rule=metadata"},
            {"http://[::169.254.169.254]/latest/meta-data/", "private_address rule=metadata"},
            {"http://[::127.0.0.1]:" + std::to_string(up.port()) + "/",
             "private_address rule=loopback"},
            {"[::127.0.0.1]:" + std::to_string(up.port()), "private_address rule=loopback"},
            {"http://[::ffff:0:169.254.169.254]/", "private_address rule=metadata"},
            {"[::ffff:0:a00:1]:443", "private_address rule=private"},
            {"[2002:a9fe:a9fe::1]:443", "private_address rule=metadata"},
            {"http://[2002:7f00:1::]:" + std::to_string(up.port()) + "/",
             "private_address rule=loopback"},
            {"[2001:0:a9fe:a9fe::]:443", "private_address rule=metadata"},
            {"http://[2001:0:808:808::80ff:fffe]/", "private_address rule=loopback"},
            {"[64:ff9b:1::a9fe:a9fe]:443", "private_address rule=metadata"},
            {"http://[64:ff9b::10.0.0.1]/", "private_address rule=private"},
            // The mapped form of airlock's own listener is airlock itself.
            {"[::ffff:127.0.0.1]:" + self, "private_address rule=airlock-itself"},
        };
        std::string failures;
        for (const auto& a : attempts) {
          if (auto why = check_refused(proxy.port(), a); !why.empty()) {
            failures += why + "\n";
          }
        }
        // Beside the attacks, a permitted upstream on loopback is still served.
        raw_client client(proxy.port());
        client.send("GET " + up.url("/ok") + " HTTP/1.1\r\nHost: " + up.authority() + "\r\n\r\n");
        const auto ok = client.read_response(5s);
        if (!ok || ok->status != 200) {
          failures += "the permitted upstream was not served: " + (ok ? ok->head : "no answer");
        }
        return finish(failures, up, proxy);
      },
      60s);
  if (!result.ran) {
    GTEST_SKIP() << "no network namespace available: " << result.failure;
  }
  EXPECT_EQ(result.failure, "");
}

// The answer to one attempt, "STATUS REASON", for comparing two spellings.
std::string answer(std::uint16_t proxy_port, const std::string& target) {
  const bool connect = target.rfind("http://", 0) != 0;
  std::string host = target;
  if (!connect) {
    host = host.substr(7, host.find('/', 7) - 7);
  }
  raw_client client(proxy_port);
  client.send((connect ? "CONNECT " : "GET ") + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
  const auto r = client.read_response(5s, connect);
  if (!r) {
    return "no answer";
  }
  return std::to_string(r->status) + " " + r->header("x-airlock-reason").value_or("-");
}

// An IPv4-mapped IPv6 literal is the IPv4 address (connect(2) to it reaches that host):
// a deny rule or a private range about the IPv4 address must catch every mapped spelling,
// as CONNECT authority and as absolute-form target, with the IPv4 spelling's answer.
TEST_F(ssrf_embedded_test, Ipv4MappedSpellingsAreRefusedLikeTheIpv4Spelling) {
  const auto dir = tmp_.path();
  const auto result = run_in_loopback_netns(
      [&dir]() -> std::string {
        recording_server up;
        airlock_settings settings;
        // 203.0.113.0/24 is public to the private-address check: only the rules refuse
        // it. The second rule is itself written in the mapped form.
        settings.egress_yaml = "  deny: [203.0.113.7, \"[::ffff:203.0.113.8]\"]\n";
        airlock_process proxy(dir, settings);
        struct address {
          std::string v4;
          std::vector<std::string> mapped;  // bracketed spellings of the same address
          std::string reason;
        };
        const std::vector<address> addresses = {
            {"169.254.169.254",
             {"[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "[::FFFF:A9FE:A9FE]",
              "[0:0:0:0:0:ffff:a9fe:a9fe]"},
             "403 private_address rule=metadata"},
            {"10.0.0.1",
             {"[::ffff:10.0.0.1]", "[::ffff:a00:1]"},
             "403 private_address rule=private"},
            {"203.0.113.7",
             {"[::ffff:203.0.113.7]", "[::ffff:cb00:7107]"},
             "403 egress_denied rule=203.0.113.7"},
            {"203.0.113.8",
             {"[::ffff:203.0.113.8]", "[::ffff:cb00:7108]"},
             "403 egress_denied rule=[::ffff:203.0.113.8]"},
        };
        std::string failures;
        for (const auto& a : addresses) {
          for (const bool connect : {true, false}) {
            const auto target = [connect](const std::string& host) {
              return connect ? host + ":443" : "http://" + host + "/latest/meta-data/";
            };
            const std::string plain = answer(proxy.port(), target(a.v4));
            if (plain != a.reason) {
              failures += target(a.v4) + ": expected " + a.reason + ", got " + plain + "\n";
            }
            for (const auto& m : a.mapped) {
              const std::string got = answer(proxy.port(), target(m));
              if (got != plain) {
                failures += target(m) + ": " + got + ", but " + target(a.v4) + ": " + plain + "\n";
              }
            }
          }
        }
        // Beside the attacks, the mapped spelling of a permitted loopback upstream is
        // that upstream, and the Host written the same way agrees with it.
        const std::string mapped_up = "[::ffff:127.0.0.1]:" + std::to_string(up.port());
        raw_client client(proxy.port());
        client.send("GET http://" + mapped_up + "/ok HTTP/1.1\r\nHost: " + mapped_up + "\r\n\r\n");
        const auto ok = client.read_response(5s);
        if (!ok || ok->status != 200) {
          failures += "the mapped spelling of the upstream was not served: " +
                      (ok ? ok->head : std::string("no answer")) + "\n";
        }
        return finish(failures, up, proxy);
      },
      60s);
  if (!result.ran) {
    GTEST_SKIP() << "no network namespace available: " << result.failure;
  }
  EXPECT_EQ(result.failure, "");
}

// An https:// or wss:// URL for a host a rule names goes up over TLS airlock opens: the
// dial checks the address as for CONNECT, whatever spelling the URL uses.
TEST_F(ssrf_embedded_test, HttpsUrlsToPrivateAddressesARuleNamesAreRefusedAtTheDial) {
  const auto dir = tmp_.path();
  const auto result = run_in_loopback_netns(
      [&dir]() -> std::string {
        recording_server up;
        airlock_settings settings;
        settings.env["KEY"] = "sk-REAL-5e0c9d3a71b4";
        settings.extra_yaml =
            "secrets:\n  k: { env: KEY }\ncredentials:\n"
            "  - { host: 169.254.169.254, headers: { x-api-key: \"{{k}}\" } }\n"
            "  - { host: 10.0.0.1, port: 8443, headers: { x-api-key: \"{{k}}\" } }\n";
        airlock_process proxy(dir, settings);
        const std::vector<std::pair<std::string, std::string>> attempts = {
            {"https://169.254.169.254/latest/", "169.254.169.254"},
            {"https://[::ffff:a9fe:a9fe]/latest/", "[::ffff:a9fe:a9fe]"},
            {"wss://2852039166/", "2852039166"},
            {"https://10.0.0.1:8443/", "10.0.0.1:8443"},
        };
        std::string failures;
        for (const auto& [target, host] : attempts) {
          raw_client client(proxy.port());
          client.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
          const auto r = client.read_response(5s);
          const std::string reason = r ? r->header("x-airlock-reason").value_or("-") : "";
          if (!r || r->status != 403 || reason.rfind("private_address rule=", 0) != 0 ||
              reason == "private_address rule=loopback") {
            failures += target + ": " + (r ? r->head : std::string("no answer")) + "\n";
          }
        }
        raw_client client(proxy.port());
        client.send("GET " + up.url("/ok") + " HTTP/1.1\r\nHost: " + up.authority() + "\r\n\r\n");
        const auto ok = client.read_response(5s);
        if (!ok || ok->status != 200) {
          failures += "the permitted upstream was not served\n";
        }
        return finish(failures, up, proxy);
      },
      60s);
  if (!result.ran) {
    GTEST_SKIP() << "no network namespace available: " << result.failure;
  }
  EXPECT_EQ(result.failure, "");
}

}  // namespace
}  // namespace airlock::test
