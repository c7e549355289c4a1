// Python's asynchronous clients through airlock (Debian's python3-aiohttp, -websockets and
// -httpx), each run as an agent's script runs it. aiohttp sends a proxied WebSocket
// upgrade in absolute form (newer releases spell it `GET ws://host/path`, issue 19 failure
// 5; response_framing_test sends that spelling itself) and tunnels wss:// with CONNECT;
// the upstreams are python3-websockets servers in the same script. Through an intercepted
// wss:// the upstream gets the real key, and when it sends that key back in a message the
// client reads it masked.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/raw_client.hpp"

namespace airlock::test {
namespace {

// argv: proxy URL, port for the upstream, then "plain" or "tls CERT KEY CA". The upstream
// answers its first message with what it saw ("key=<x-api-key> path=<path>"), then echoes;
// the client sends "hello" twice and prints both answers, one per line.
constexpr const char* aiohttp_ws = R"(
import asyncio, ssl, sys
import aiohttp, websockets

proxy, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = {}

def remember(path, headers):
    seen["key"] = headers.get("x-api-key", "none")
    seen["path"] = path

async def answer(ws, path=None):
    async for message in ws:
        if "sent" not in seen:
            seen["sent"] = True
            await ws.send("key=%s path=%s" % (seen["key"], seen["path"]))
        else:
            await ws.send("echo:" + message)

async def main():
    server_ssl = client_ssl = None
    scheme, host = "ws", "127.0.0.1"
    if mode == "tls":
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ssl.load_cert_chain(sys.argv[4], sys.argv[5])
        client_ssl = ssl.create_default_context(cafile=sys.argv[6])
        scheme, host = "wss", "localhost"
    async with websockets.serve(answer, "127.0.0.1", port, ssl=server_ssl,
                                process_request=remember):
        async with aiohttp.ClientSession(trust_env=False) as session:
            url = "%s://%s:%d/v1/responses?x=1" % (scheme, host, port)
            async with session.ws_connect(url, proxy=proxy, ssl=client_ssl,
                                          headers={"x-api-key": "placeholder"},
                                          timeout=20) as ws:
                for _ in range(2):
                    await ws.send_str("hello")
                    print((await ws.receive(timeout=20)).data)

asyncio.run(main())
)";

using python_ws_clients_test = intercept_test;

TEST_F(python_ws_clients_test, AiohttpWebSocketAsAWsUrlThroughTheProxy) {
  start_airlock();
  const std::uint16_t port = unused_port();
  const auto r = run_command(
      {"/usr/bin/python3", "-c", aiohttp_ws, airlock().proxy_url(), std::to_string(port), "plain"},
      tmp_.path(), "aiohttp-ws", 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  // No rule names this host: the agent's own field goes up as it is.
  EXPECT_EQ(r.out, "key=placeholder path=/v1/responses?x=1\necho:hello\n");
  EXPECT_NE(airlock_output().find("mode=forward method=GET authority=127.0.0.1:" +
                                  std::to_string(port) + " path=/v1/responses status=101"),
            std::string::npos);
}

TEST_F(python_ws_clients_test, AiohttpWssIsInterceptedInjectedAndItsEchoOfTheKeyMasked) {
  const std::uint16_t port = unused_port();
  start_intercepting(anthropic_secret, x_api_key_rule(port), {{"ANTHROPIC_KEY", api_key}});
  const auto r = run_command(
      {"/usr/bin/python3", "-c", aiohttp_ws, airlock().proxy_url(), std::to_string(port), "tls",
       pki_.leaf_cert.string(), pki_.leaf_key.string(), airlock_ca().string()},
      tmp_.path(), "aiohttp-wss", 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  // The upstream saw the real key (it said so), and the agent read that masked.
  const std::string stars(std::string_view(api_key).size(), '*');
  EXPECT_EQ(r.out, "key=" + stars + " path=/v1/responses?x=1\necho:hello\n");
  EXPECT_EQ(count_of(r.out + r.err, api_key), 0u);
  EXPECT_EQ(count_of(airlock_output(), api_key), 0u);
}

// httpx (HTTP/1.1 through the proxy, CONNECT for https) with the exported CA: injected.
constexpr const char* httpx_get = R"(
import sys, httpx
with httpx.Client(proxies=sys.argv[1], verify=sys.argv[3], trust_env=False, timeout=20) as c:
    r = c.get(sys.argv[2], headers={"x-api-key": "placeholder"})
    print(r.status_code)
)";

TEST_F(python_ws_clients_test, HttpxThroughTheProxyIsInjected) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  const auto r = run_command({"/usr/bin/python3", "-c", httpx_get, airlock().proxy_url(),
                              https_url(*up, "/v1/models"), airlock_ca().string()},
                             tmp_.path(), "httpx", 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(r.out, "200\n");
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), std::vector<std::string>{api_key});
}

}  // namespace
}  // namespace airlock::test
