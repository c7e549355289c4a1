// The agent against airlock's control plane, as the sidecar model allows it: same network
// namespace (it reaches every TCP port airlock listens on, and can bind the admin port
// once airlock is gone), another UID (it cannot enter airlock's admin directory). Each
// attack is beside the call the orchestrator or the kubelet makes, which must still work.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/sanitizers.hpp"
#include "tests/support/ws_frames.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;
using namespace std::chrono_literals;

constexpr const char* admin_token = "tok-ADMIN-8d2f61c9a04e7b35";
// A rule without port: means 443; the test upstreams listen on free ports.
std::string key_rule(std::uint16_t port) {
  return "  - { host: localhost, port: " + std::to_string(port) +
         ", headers: { x-api-key: \"{{key}}\" } }\n";
}

class control_attack_test : public intercept_test {
 protected:
  airlock_process& start(const std::string& secrets, std::map<std::string, std::string> env = {},
                         bool tcp_admin = true, std::uint16_t upstream_port = 443) {
    airlock_settings settings;
    if (tcp_admin) {
      write_file(scratch("admin-token"), std::string(admin_token) + "\n");
      settings.admin_token_file = scratch("admin-token").string();
    }
    return start_intercepting(secrets, key_rule(upstream_port), std::move(env), settings);
  }

  // curl at the admin API over its Unix socket, optionally as another user.
  fetched over_socket(std::vector<std::string> args, const std::string& path,
                      std::optional<int> as_uid = std::nullopt) {
    args.insert(args.begin(), {"--unix-socket", airlock().admin_socket()});
    args.push_back("http://airlock" + path);
    if (!as_uid) {
      return fetch_direct(std::move(args));
    }
    strings argv = {"/usr/bin/setpriv",
                    "--reuid=" + std::to_string(*as_uid),
                    "--regid=" + std::to_string(*as_uid),
                    "--clear-groups",
                    "curl",
                    "-s",
                    "-w",
                    "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    return split_status(run_command(argv, tmp_.path(), "setpriv-curl", 20s));
  }

  fetched over_tcp(std::vector<std::string> args, const std::string& path,
                   const std::string& token = admin_token, bool metrics = false) {
    if (!token.empty()) {
      args.insert(args.begin(), {"-H", "Authorization: Bearer " + token});
    }
    const auto port = metrics ? airlock().metrics_port() : airlock().admin_port();
    args.push_back("http://127.0.0.1:" + std::to_string(port) + path);
    return fetch_direct(std::move(args));
  }

  command_result revoke_cmd(strings args) {
    args.insert(args.begin(), {airlock_binary(), "revoke"});
    return run_command(args, tmp_.path(), "revoke", 30s);
  }
};

void raise_descriptor_limit(rlim_t want) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < want) {
    lim.rlim_cur = std::min(want, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

TEST_F(control_attack_test, HalfSentHeadsOnControlListenersHoldNoMemory) {
  raise_descriptor_limit(8192);
  start("  key: { push: true }\n");
  const auto before = airlock().rss_kib();
  // The attack that took airlock to 114 MB: 1,500 half-sent heads on each listener.
  std::vector<std::unique_ptr<raw_client>> attackers;
  for (const auto port : {airlock().admin_port(), airlock().metrics_port()}) {
    for (int i = 0; i < 1500; ++i) {
      attackers.push_back(std::make_unique<raw_client>(port));
      attackers.back()->send("GET / HTTP/1.1\r\n");
    }
  }
  // Meanwhile the kubelet's probe and the orchestrator's push get through.
  EXPECT_EQ(over_tcp({}, "/healthz", "", true).status, 200);
  const auto pushed = over_tcp({"-X", "PUT", "--data-binary", api_key}, "/v1/secrets/key");
  EXPECT_EQ(pushed.status, 200) << pushed.body;
  std::size_t closed = 0;
  for (auto& a : attackers) {
    closed += a->wait_closed(1ms) ? 1 : 0;
  }
  // Each listener keeps at most its cap; the rest were closed to make room.
  EXPECT_GE(closed, attackers.size() - 2 * 32) << closed;
  if (!sanitized_build) {
    EXPECT_LT(airlock().rss_kib(), before + 8 * 1024) << "before " << before;
  }
}

TEST_F(control_attack_test, ControlHeadsHaveADeadline) {
  start("  key: { push: true }\n");
  raw_client slow(airlock().metrics_port());
  slow.send("GET /healthz HTTP/1.1\r\n");
  // The header deadline is 5 s: dripping does not extend it.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(1s);
    slow.send("X");
  }
  EXPECT_TRUE(slow.wait_closed(2s));
}

TEST_F(control_attack_test, WrongTokensNeverLockOutTheRightOne) {
  start("  key: { push: true }\n");
  std::atomic<bool> stop{false};
  std::atomic<int> guesses{0};
  std::vector<std::thread> guessers;
  for (int t = 0; t < 4; ++t) {
    guessers.emplace_back([&] {
      while (!stop) {
        try {
          raw_client c(airlock().admin_port());
          for (int i = 0; i < 3 && !stop; ++i) {
            c.send("GET /v1/status HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer guess-" +
                   std::to_string(i) + "\r\n\r\n");
            if (const auto r = c.read_response(2000ms); r && r->status == 401) {
              ++guesses;
            }
          }
        } catch (const std::exception&) {
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  // Well past the 10 a second that used to lock everyone out.
  for (int i = 0; i < 5; ++i) {
    const auto start_at = std::chrono::steady_clock::now();
    const auto r = over_tcp({"-X", "PUT", "--data-binary", api_key}, "/v1/secrets/key");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_LT(seconds_since(start_at), 2.0);
  }
  stop = true;
  for (auto& g : guessers) {
    g.join();
  }
  EXPECT_GT(guesses.load(), 10);
  // A wrong token is answered after a pause and ends its connection.
  raw_client c(airlock().admin_port());
  const auto at = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET /v1/status HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer nope\r\n\r\n"));
  const auto r = c.read_response(2000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_GE(seconds_since(at), 0.2);
  EXPECT_TRUE(c.wait_closed(1000ms));
}

// Slots are not a lock either: callers that never authenticate, announcing a body they
// never send, cannot hold the admin API (or the kubelet's probes) hostage.
TEST_F(control_attack_test, UnauthenticatedCallersCannotPinTheControlListeners) {
  start("  key: { push: true }\n");
  std::vector<std::unique_ptr<raw_client>> pinned;
  for (int i = 0; i < 100; ++i) {
    pinned.push_back(std::make_unique<raw_client>(airlock().admin_port()));
    pinned.back()->send("PUT /v1/secrets/key HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n");
    pinned.push_back(std::make_unique<raw_client>(airlock().metrics_port()));
    pinned.back()->send("GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n");
  }
  std::this_thread::sleep_for(300ms);
  // The orchestrator over the socket, and over TCP with its token; the kubelet's probe.
  auto r = over_socket({"-H", std::string("Authorization: Bearer ") + admin_token}, "/v1/status");
  EXPECT_EQ(r.status, 200) << r.body;
  r = over_tcp({"-X", "PUT", "--data-binary", api_key}, "/v1/secrets/key");
  EXPECT_EQ(r.status, 200) << r.body;
  r = over_tcp({}, "/healthz", "", true);
  EXPECT_EQ(r.status, 200) << r.body;
  // No token, no body read: the pinning requests were answered 401, the probes' 413.
  std::size_t refused = 0;
  for (auto& p : pinned) {
    if (const auto answer = p->read_response(100ms)) {
      refused += answer->status == 401 || answer->status == 413;
    }
  }
  EXPECT_GT(refused, 0u);
}

TEST_F(control_attack_test, NoValueOfTheAgentsChoosingOverAFileSecret) {
  auto up = start_upstream();
  write_file(scratch("key"), std::string(api_key) + "\n");
  start("  key: { file: \"" + scratch("key").string() + "\" }\n", {}, false, up->port());
  // No token on the socket: whoever reaches it is airlock's own UID. Still, a file secret
  // is the operator's: a PUT would make upstream receive the agent's key.
  const auto r = over_socket({"-X", "PUT", "--data-binary", "sk-AGENT-OWN-KEY"}, "/v1/secrets/key");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("not_a_push_secret"), std::string::npos) << r.body;
  ASSERT_EQ(fetch({https_url(*up, "/v1/a")}).status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

TEST_F(control_attack_test, TheAdminSocketAnswersOnlyAllowedUids) {
  start("  key: { push: true }\n", {}, false);
  EXPECT_EQ(airlock().admin_port(), 0);  // no TCP admin port at all
  struct stat dir {};
  struct stat sock {};
  const auto socket_dir = std::filesystem::path(airlock().admin_socket()).parent_path();
  ASSERT_EQ(::stat(socket_dir.c_str(), &dir), 0);
  ASSERT_EQ(::stat(airlock().admin_socket().c_str(), &sock), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);
  EXPECT_EQ(sock.st_mode & 0777, 0600u);
  // The agent's UID cannot even enter the directory.
  auto r = over_socket({"-X", "PUT", "--data-binary", "sk-AGENT"}, "/v1/secrets/key", 65534);
  EXPECT_NE(r.status, 200);
  // Opened up by mistake, the kernel's word on the caller's UID still refuses it.
  std::filesystem::permissions(tmp_.path(), std::filesystem::perms::all);
  std::filesystem::permissions(socket_dir, std::filesystem::perms::all);
  std::filesystem::permissions(airlock().admin_socket(), std::filesystem::perms::all);
  r = over_socket({"-X", "PUT", "--data-binary", "sk-AGENT"}, "/v1/secrets/key", 65534);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("uid_not_allowed"), std::string::npos) << r.body;
  r = over_socket({"-X", "POST"}, "/v1/revoke", 65534);
  EXPECT_EQ(r.status, 403) << r.body;
  r = over_socket({}, "/v1/status");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"phase\":\"setup\""), std::string::npos) << r.body;
  EXPECT_NE(airlock().stderr_text().find("refused a caller with uid 65534"), std::string::npos);
}

TEST_F(control_attack_test, RevokeOverTheSocketForAPreStopHook) {
  auto up = start_upstream();
  start("  key: { env: KEY }\n", {{"KEY", api_key}}, false, up->port());
  ASSERT_EQ(fetch({https_url(*up, "/v1/a")}).status, 200);
  const auto r = revoke_cmd({"--admin", "unix:" + airlock().admin_socket()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"result\":\"revoked\",\"phase\":\"revoked\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"still_present\":[]"), std::string::npos) << r.out;
  EXPECT_EQ(fetch({https_url(*up, "/v1/a")}).status, 403);
  // --config finds the socket the same way the preStop hook does.
  const auto again = revoke_cmd({"--config", scratch("airlock.yaml").string()});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("\"already_revoked\":true"), std::string::npos) << again.out;
}

// The orchestrator's way in over `kubectl exec`: `airlock push NAME < value` on the socket.
TEST_F(control_attack_test, PushOverTheSocketWithTheCommand) {
  auto up = start_upstream();
  start("  key: { push: true }\n", {}, false, up->port());
  write_file(scratch("value"), std::string(api_key) + "\n");
  const std::string config = scratch("airlock.yaml").string();
  auto r = run_command(
      {"/bin/sh", "-c",
       airlock_binary() + " push key --config " + config + " < " + scratch("value").string()},
      tmp_.path(), "push", 20s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"result\":\"stored\""), std::string::npos) << r.out;
  ASSERT_EQ(fetch({https_url(*up, "/v1/a")}).status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
  // Unknown names fail with the reason, and say nothing of the value.
  r = run_command(
      {"/bin/sh", "-c",
       airlock_binary() + " push nope --config " + config + " < " + scratch("value").string()},
      tmp_.path(), "push-unknown", 20s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("answered 404"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find(api_key), std::string::npos);
}

// A WebSocket opened with the key kept relaying after revoke; so did a keep-alive
// connection and a pooled upstream connection that had carried it.
TEST_F(control_attack_test, RevokeClosesEveryConnectionThatCarriedACredential) {
  tls_echo_server up(
      tls_echo_options{localhost_cert(), [](const std::string& request) {
                         if (request.rfind("GET /ws", 0) == 0) {
                           return websocket_switch;
                         }
                         if (request.rfind("GET ", 0) == 0) {
                           return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                         }
                         return proxy::testing::ws_encode({true, 1, "pong:" + request});
                       }});
  start("  key: { env: KEY }\n", {{"KEY", api_key}}, false, up.port());
  const std::string host = "Host: localhost:" + std::to_string(up.port()) + "\r\n";

  auto ws = open_tunnel(up.port());
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->send("GET /ws HTTP/1.1\r\n" + host +
                       "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
  const auto switched = ws->read_response(5s, true);
  ASSERT_TRUE(switched);
  ASSERT_EQ(switched->status, 101) << switched->head;
  ASSERT_TRUE(ws->send("hello\r\n\r\n"));
  ASSERT_TRUE(ws->read_until("pong:hello", 5s)) << ws->buffered();
  ws->take_buffered();

  auto keep_alive = open_tunnel(up.port());
  ASSERT_TRUE(keep_alive);
  ASSERT_TRUE(keep_alive->send("GET /a HTTP/1.1\r\n" + host + "\r\n"));
  const auto first = keep_alive->read_response(5s);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);

  const auto r = over_socket({"-X", "POST"}, "/v1/revoke");
  ASSERT_EQ(r.status, 200) << r.body;
  // The WebSocket, the keep-alive connection and their upstream connections (the
  // keep-alive one may be pooled or still held).
  EXPECT_NE(r.body.find("\"connections_closed\":"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"connections_closed\":0"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"connections_closed\":1,"), std::string::npos) << r.body;
  // Closed before the receipt came back: no frame relayed after revoke.
  EXPECT_TRUE(ws->wait_closed(2s));
  EXPECT_TRUE(keep_alive->wait_closed(2s));
  // A new connection gets the revoked answer, not the key.
  auto after = open_tunnel(up.port());
  ASSERT_TRUE(after);
  ASSERT_TRUE(after->send("GET /a HTTP/1.1\r\n" + host + "\r\n"));
  const auto refused = after->read_response(5s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
}

TEST_F(control_attack_test, RevokeTrustsNoImpostorOnTheAdminAddress) {
  // After airlock died the agent (another UID) binds the admin port and answers with a
  // receipt that looks perfect.
  const std::string receipt =
      "{\\\"result\\\":\\\"revoked\\\",\\\"phase\\\":\\\"revoked\\\",\\\"still_present\\\":[]}";
  const std::string impostor =
      "import socket,sys\n"
      "body=b'" +
      receipt +
      "'\n"
      "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n"
      "print(s.getsockname()[1], flush=True)\n"
      "while True:\n"
      "  c,_=s.accept(); got=c.recv(65536)\n"
      "  open(sys.argv[1],'ab').write(got)\n"
      "  c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body) + body); "
      "c.close()\n";
  write_file(scratch("impostor.py"), impostor);
  std::filesystem::permissions(tmp_.path(), std::filesystem::perms::all);
  std::filesystem::permissions(scratch("impostor.py"), std::filesystem::perms::all);
  write_file(scratch("impostor.got"), "");
  std::filesystem::permissions(scratch("impostor.got"), std::filesystem::perms::all);
  child_process fake(spawn_options{
      {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3",
       scratch("impostor.py").string(), scratch("impostor.got").string()},
      scratch("impostor.out"),
      scratch("impostor.err"),
      {},
      {}});
  std::string port;
  for (int i = 0; i < 300 && port.find('\n') == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
    port = read_file(scratch("impostor.out"));
  }
  ASSERT_NE(port.find('\n'), std::string::npos) << read_file(scratch("impostor.err"));
  port.erase(port.find('\n'));
  write_file(scratch("admin-token"), std::string(admin_token) + "\n");
  auto r = revoke_cmd(
      {"--admin", "http://127.0.0.1:" + port, "--token-file", scratch("admin-token").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("runs as uid 65534"), std::string::npos) << r.err;
  // Nothing was sent: not the token, not a pushed value.
  write_file(scratch("value"), std::string(api_key) + "\n");
  r = run_command(
      {"/bin/sh", "-c",
       airlock_binary() + " push key --admin http://127.0.0.1:" + port + " --token-file " +
           scratch("admin-token").string() + " < " + scratch("value").string()},
      tmp_.path(), "push-impostor", 20s);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(read_file(scratch("impostor.got")), "");
  // The same impostor running as the expected user is still not believed blindly: a
  // push answered without "stored" fails.
  r = revoke_cmd({"--admin", "http://127.0.0.1:" + port, "--server-uid", "65534"});
  EXPECT_EQ(r.exit_code, 0) << r.err;  // its receipt is well-formed: --server-uid trusts it
  fake.kill();

  // A name could resolve elsewhere than airlock bound (localhost → ::1 first).
  r = revoke_cmd({"--admin", "http://localhost:9901"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("IP address literal"), std::string::npos) << r.err;

  // A socket served by another UID (the agent's, in a directory it could write) is not
  // sent the request.
  const auto dir = scratch("open-dir");
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::all);
  const std::string unix_impostor =
      "import socket,os\n"
      "s=socket.socket(socket.AF_UNIX); s.bind('" +
      (dir / "admin.sock").string() +
      "')\n"
      "s.listen(8); print('up', flush=True)\n"
      "while True:\n"
      "  c,_=s.accept(); c.recv(65536)\n"
      "  c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\n{}'); c.close()\n";
  write_file(scratch("unix_impostor.py"), unix_impostor);
  std::filesystem::permissions(scratch("unix_impostor.py"), std::filesystem::perms::all);
  std::filesystem::permissions(tmp_.path(), std::filesystem::perms::all);
  child_process agent(
      spawn_options{{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                     "python3", scratch("unix_impostor.py").string()},
                    scratch("unix.out"),
                    scratch("unix.err"),
                    {},
                    {}});
  for (int i = 0; i < 200 && read_file(scratch("unix.out")).empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(read_file(scratch("unix.out")), "up\n") << read_file(scratch("unix.err"));
  r = revoke_cmd({"--admin", "unix:" + (dir / "admin.sock").string(), "--token-file",
                  scratch("admin-token").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("runs as uid 65534"), std::string::npos) << r.err;
  agent.kill();
}

// The agent made the socket's directory first (or it is shared and writable): it could
// swap airlock's socket for its own later, so airlock does not start there.
TEST_F(control_attack_test, ASocketDirectoryAnotherUserCanWriteIsRefused) {
  const auto dir = scratch("agent-made");
  std::filesystem::create_directories(dir);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  std::filesystem::permissions(dir, std::filesystem::perms::all);
  write_file(scratch("a.yaml"),
             "proxy: { listen: \"127.0.0.1:0\" }\n"
             "metrics: { listen: \"127.0.0.1:0\" }\n"
             "tls: { ca: { export_dir: \"" +
                 scratch("ca-export").string() +
                 "\" } }\n"
                 "admin: { socket: \"" +
                 (dir / "admin.sock").string() + "\" }\n");
  auto r = run_command({airlock_binary(), "--config", scratch("a.yaml").string()}, tmp_.path(),
                       "agent-dir", 10s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is writable by other users"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "admin.sock"));
  // Sticky (like /tmp), others cannot remove or rename airlock's socket: accepted.
  std::filesystem::permissions(dir, std::filesystem::perms::sticky_bit,
                               std::filesystem::perm_options::add);
  write_file(scratch("b.yaml"),
             "proxy: { listen: \"127.0.0.1:0\" }\n"
             "metrics: { listen: \"127.0.0.1:0\" }\n"
             "tls: { ca: { export_dir: \"" +
                 scratch("ca-export").string() +
                 "\" } }\n"
                 "admin: { socket: \"" +
                 (dir / "admin.sock").string() + "\" }\n");
  child_process ok(spawn_options{{airlock_binary(), "--config", scratch("b.yaml").string()},
                                 scratch("b.out"),
                                 scratch("b.err"),
                                 {},
                                 {}});
  for (int i = 0;
       i < 300 && read_file(scratch("b.out")).find("proxy listening") == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(read_file(scratch("b.out")).find("admin listening on unix:"), std::string::npos)
      << read_file(scratch("b.err"));
  ok.signal(SIGTERM);
  ok.wait_for(5s);
}

TEST_F(control_attack_test, ConfigsThatHandTheAgentTheAdminApiAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"admin: { listen: \"localhost:9901\" }\n", "an IP address literal is needed"},
      {"admin: { listen: \"127.0.0.1:9901\" }\nsecrets:\n  k: { push: true }\n",
       "a TCP admin listener needs token_file"},
  };
  for (const auto& [yaml, message] : cases) {
    write_file(scratch("bad.yaml"), yaml);
    const auto r = run_command({airlock_binary(), "--check-config", scratch("bad.yaml").string()},
                               tmp_.path(), "check", 10s);
    EXPECT_EQ(r.exit_code, 1) << yaml;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace airlock::test
