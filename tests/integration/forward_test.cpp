// Plain forward proxying with curl as the client: methods, status passthrough and
// bodies in both directions with both framings.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/nginx_upstream.hpp"
#include "tests/support/recording_server.hpp"
#include "tests/support/sink_server.hpp"

namespace airlock::test {
namespace {

class forward_test : public proxy_test {
 protected:
  // curl's "@FILE" argument for --data-binary.
  static std::string data_file(const std::filesystem::path& file) {
    std::string arg = "@";
    arg += file.string();
    return arg;
  }

  // "bytes=N fnv1a=HEX chunked=C\n", as the sink answers for a file sent intact.
  static std::string sink_answer(const std::filesystem::path& file, bool chunked) {
    // Appended piece by piece: g++ 12 warns (-Wrestrict) on "literal" + std::string chains.
    std::string out = "bytes=";
    out += std::to_string(std::filesystem::file_size(file));
    out += " fnv1a=";
    out += to_hex(fnv1a_file(file));
    out += chunked ? " chunked=1\n" : " chunked=0\n";
    return out;
  }
};

TEST_F(forward_test, GetSmallFile) {
  nginx_upstream nginx(scratch("nginx"));
  write_file(nginx.www() / "small", "hello from nginx\n");
  start_airlock();

  const auto r =
      curl({"-o", scratch("small.out").string(), "-w", "%{http_code}", nginx.url("/small")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200");
  EXPECT_EQ(read_file(scratch("small.out")), "hello from nginx\n");
}

TEST_F(forward_test, Get16KiBFileIntact) {
  nginx_upstream nginx(scratch("nginx"));
  write_patterned_file(nginx.www() / "16k", 16 * 1024);
  start_airlock();

  const auto r = curl({"-o", scratch("16k.out").string(), "-w", "%{http_code} %{size_download}",
                       nginx.url("/16k")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 16384");
  EXPECT_EQ(read_file(scratch("16k.out")), read_file(nginx.www() / "16k"));
}

TEST_F(forward_test, HeadHasLengthButNoBody) {
  nginx_upstream nginx(scratch("nginx"));
  write_patterned_file(nginx.www() / "16k", 16 * 1024);
  start_airlock();

  // A HEAD response announces a body it does not carry; a proxy that waited for it
  // would hang here until curl's timeout.
  const auto r = curl({"-I", "-w", "%{http_code} %{size_download}\n", nginx.url("/16k")}, 10s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Content-Length: 16384"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("200 0\n"), std::string::npos) << r.out;
  EXPECT_LT(r.elapsed, 5s);
}

TEST_F(forward_test, NotFoundIsPassedThrough) {
  nginx_upstream nginx(scratch("nginx"));
  start_airlock();

  const auto r =
      curl({"-o", scratch("missing.out").string(), "-w", "%{http_code}", nginx.url("/missing")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "404");
  // nginx's own page, not one airlock made up.
  EXPECT_NE(read_file(scratch("missing.out")).find("nginx"), std::string::npos);
}

TEST_F(forward_test, PostBodyArrivesIntact) {
  sink_server sink;
  write_patterned_file(scratch("body"), 100 * 1024);
  start_airlock();

  const auto r = curl({"--data-binary", data_file(scratch("body")), sink.url("/post")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, sink_answer(scratch("body"), false));
  ASSERT_EQ(sink.results().size(), 1u);
  EXPECT_EQ(sink.results()[0].method, "POST");
  EXPECT_EQ(sink.results()[0].target, "/post");
}

TEST_F(forward_test, ChunkedUploadIsRelayedChunked) {
  sink_server sink;
  write_patterned_file(scratch("body"), 300 * 1024 + 7);
  start_airlock();

  const auto r = curl({"-H", "Transfer-Encoding: chunked", "--data-binary",
                       data_file(scratch("body")), sink.url("/chunked")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, sink_answer(scratch("body"), true));
}

TEST_F(forward_test, ChunkedDownloadIsRelayedChunked) {
  recording_server upstream(
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
       keep_alive_mode::keep, 0ms});
  start_airlock();

  const auto r = curl({"-D", scratch("head").string(), upstream.url("/stream")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello, world");
  EXPECT_NE(read_file(scratch("head")).find("Transfer-Encoding: chunked"), std::string::npos);
}

TEST_F(forward_test, ExpectContinueIsAnsweredByUpstream) {
  sink_server sink;  // answers 100 Continue, like nginx
  write_patterned_file(scratch("body"), 2 * 1024 * 1024);
  start_airlock();

  const auto r = curl({"-H", "Expect: 100-continue", "--data-binary", data_file(scratch("body")),
                       "-w", "\n%{time_total}", sink.url("/expect")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = words(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n') + 1), sink_answer(scratch("body"), false));
  // Without the interim response relayed at once, curl would wait its full second.
  EXPECT_LT(std::stod(lines[3]), 0.9) << "upload took " << lines[3] << " s";
  ASSERT_EQ(sink.results().size(), 1u);
  EXPECT_TRUE(sink.results()[0].expect_continue);
}

TEST_F(forward_test, ExpectContinueWithSilentUpstreamStillCompletes) {
  sink_server sink(sink_options{false});  // never sends 100 Continue
  write_patterned_file(scratch("body"), 2 * 1024 * 1024);
  start_airlock();

  const auto r = curl({"-H", "Expect: 100-continue", "--data-binary", data_file(scratch("body")),
                       sink.url("/expect")},
                      10s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, sink_answer(scratch("body"), false));
  // One expect window (airlock's or curl's own, both 1 s), not more.
  EXPECT_LT(r.elapsed, 3s);
}

TEST_F(forward_test, ExpectAnsweredWithFinalStatusSkipsTheBody) {
  nginx_upstream nginx(scratch("nginx"));
  write_patterned_file(scratch("body"), 2 * 1024 * 1024);
  start_airlock();

  // nginx refuses the announced length at once; the client must hear that instead of
  // waiting out its expect timer and sending 2 MiB for nothing.
  const auto r =
      curl({"-H", "Expect: 100-continue", "--data-binary", data_file(scratch("body")), "-o",
            "/dev/null", "-w", "%{http_code} %{size_upload}", nginx.url("/limited/upload")},
           10s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "413 0");
  EXPECT_LT(r.elapsed, 900ms);
}

TEST_F(forward_test, ResolveMapsANameToLoopback) {
  recording_server upstream;
  airlock_settings settings;
  settings.resolve["agent-api.test:80"] = upstream.authority();
  start_airlock(settings);

  const auto r = curl({"-w", " %{http_code}", "http://agent-api.test/v1/models"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok 200");
  ASSERT_EQ(upstream.requests().size(), 1u);
  // The upstream is addressed by name, as it would be without the override.
  const std::string expected = "GET /v1/models HTTP/1.1\r\nHost: agent-api.test\r\n";
  EXPECT_EQ(upstream.requests()[0].substr(0, expected.size()), expected);
}

// RFC 9110 10.1.1: a client that sends "Expect: 100-continue" may send the content
// without waiting. Body bytes that arrive together with the head must still be
// forwarded, before the bytes that follow them.
TEST_F(forward_test, ExpectContinueBodyBytesSentWithTheHeadAreForwarded) {
  sink_server sink;
  airlock_settings settings;
  settings.idle_timeout = "2s";  // the failure mode is a stalled upload: keep it short
  start_airlock(settings);

  auto client = connect();
  ASSERT_TRUE(client->send("POST " + sink.url("/early") +
                           " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(sink.port()) +
                           "\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\nhello"));
  const auto interim = client->read_response(5s);
  ASSERT_TRUE(interim) << client->buffered();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->send("world"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  EXPECT_EQ(r->status, 200) << r->head << r->body;
  fnv1a expected;
  expected.update("helloworld");
  EXPECT_EQ(r->body, "bytes=10 fnv1a=" + to_hex(expected.value()) + " chunked=0\n");
}

}  // namespace
}  // namespace airlock::test
