// What a root user (or a crash) could read out of airlock's memory once the workspace's
// secrets are revoked: a full core image of the running process, including the locked,
// no-dump pages of the secret arena, must hold none of the secret's bytes, raw, base64 or
// hex. The same image taken before revoke must hold the value: otherwise the search
// (or the dump) is blind and the test proves nothing.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/sanitizers.hpp"

namespace airlock::test {
namespace {

constexpr const char* admin_token = "tok-ADMIN-c0re-9a1e44b2f7";
constexpr const char* secret = "sk-CORE-7d3a9c51e08b4f26";

std::string base64(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  // The tail is left out: a value's encoding is searched without its padding.
  return out;
}

std::string hex(std::string_view in, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (char c : in) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

class core_image_test : public intercept_test {
 protected:
  void SetUp() override {
    intercept_test::SetUp();
    if (::geteuid() != 0) {
      GTEST_SKIP() << "a core image of a non-dumpable process needs root";
    }
    if (sanitized_build) {
      GTEST_SKIP() << "a sanitizer's shadow memory would make the core image terabytes";
    }
    if (!std::filesystem::exists("/usr/bin/gdb")) {
      GTEST_SKIP() << "gdb (gcore) is not installed: deploy/install-deps.sh test";
    }
  }

  // The whole image: every mapping, the no-dump ones included.
  std::string core_image(const std::string& name) {
    const auto path = scratch(name);
    const auto r =
        run_command({"/usr/bin/gdb", "-nx", "-batch", "-p", std::to_string(airlock().pid()), "-ex",
                     "set use-coredump-filter off", "-ex", "set dump-excluded-mappings on", "-ex",
                     "gcore " + path.string()},
                    tmp_.path(), "gcore-" + name, 60s);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::ifstream in(path, std::ios::binary);
    std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    return image;
  }

  fetched admin(const std::vector<std::string>& args, const std::string& path) {
    std::vector<std::string> argv = {"-H", std::string("Authorization: Bearer ") + admin_token};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("http://127.0.0.1:" + std::to_string(airlock().admin_port()) + path);
    return fetch_direct(std::move(argv));
  }
};

TEST_F(core_image_test, RevokedSecretIsNowhereInMemory) {
  // An upstream that answers without echoing the request: a reflected key would sit in
  // the relayed response, which is the upstream's doing, not a copy airlock kept.
  tls_echo_server up_server(
      tls_echo_options{localhost_cert(), [](const std::string&) {
                         return std::string("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
                       }});
  auto* up = &up_server;
  write_file(scratch("admin-token"), admin_token);
  airlock_settings settings;
  settings.admin_token_file = scratch("admin-token").string();
  settings.log_level = "trace";
  start_intercepting("  openai: { push: true }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", headers: { Authorization: \"Bearer {{openai}}\" } }\n",
                     {}, settings);

  ASSERT_EQ(admin({"-X", "PUT", "--data-binary", secret}, "/v1/secrets/openai").status, 200);
  // Injected a few times, over new and pooled upstream connections.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(fetch({https_url(*up, "/v1/chat"), https_url(*up, "/v1/next")}).status, 200);
  }
  ASSERT_EQ(count_of(up->received(), secret), 6u);

  const std::vector<std::string> forms = {secret, base64(secret), hex(secret, false),
                                          hex(secret, true)};
  const std::string before = core_image("before.core");
  ASSERT_GT(before.size(), 1u << 20);
  EXPECT_GT(count_of(before, secret), 0u) << "the dump does not see the secret arena";

  ASSERT_EQ(admin({"-X", "POST"}, "/v1/revoke").status, 200);
  const std::string after = core_image("after.core");
  ASSERT_GT(after.size(), 1u << 20);
  for (const auto& form : forms) {
    EXPECT_EQ(count_of(after, form), 0u) << form << " is still in airlock's memory";
  }
}

}  // namespace
}  // namespace airlock::test
