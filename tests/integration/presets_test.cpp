// Provider presets against the request shapes of each vendor's official SDK or CLI, as
// their source writes them (python3 SDKs are not installed here and npm packages are not
// part of `make test`): an echo upstream answers for every vendor host through resolve:,
// and what it records must carry exactly one credential, the real one, and no placeholder.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

struct vendor {
  const char* preset;
  const char* secret_value;
};

// Real values, one per vendor, so a key sent to another vendor's host shows.
const std::vector<vendor> vendors{
    {"anthropic", "sk-ant-REAL-5f2c9e71"}, {"openai", "sk-proj-REAL-8a13d0c4"},
    {"gemini", "AIza-REAL-3b7e19f2"},      {"github", git_token},
    {"gitlab", "glpat-REAL-6e0d4a92"},     {"huggingface", "hf_REAL_c81f5b37"},
    {"openrouter", "sk-or-REAL-29d7e6a0"}, {"mistral", "mistral-REAL-71b4c8e5"},
    {"groq", "gsk_REAL_0f9a3d62"}};

const strings hosts{"api.anthropic.com",
                    "api.openai.com",
                    "generativelanguage.googleapis.com",
                    "api.github.com",
                    "github.com",
                    "gitlab.com",
                    "huggingface.co",
                    "router.huggingface.co",
                    "openrouter.ai",
                    "api.mistral.ai",
                    "api.groq.com"};

// Every field any preset strips: the upstream must see only the one that carries the key.
const strings carriers{"authorization",  "x-api-key",     "api-key",
                       "x-goog-api-key", "private-token", "job-token"};

// One request as an SDK sends it, and the one credential field the upstream must get.
struct shape {
  std::string what;
  strings headers;
  std::string url;
  std::string carrier;
  std::string expected;
  bool post = true;
};

std::string bearer(const char* secret) {
  return std::string("Bearer ") + secret;
}
std::string ph() {
  return placeholder;
}

class presets_test : public intercept_test {
 protected:
  void SetUp() override {
    intercept_test::SetUp();
    std::vector<std::string> sans;
    for (const auto& h : hosts) {
      sans.push_back("DNS:" + h);
    }
    up_ = start_upstream(mint_leaf(pki_, "vendors", sans));
    airlock_settings settings;
    for (const auto& h : hosts) {
      settings.resolve[h + ":443"] = up_->address();
    }
    std::string secrets;
    std::string credentials;
    std::map<std::string, std::string> env;
    for (const auto& v : vendors) {
      std::string var = std::string("KEY_") + v.preset;
      secrets += std::string("  ") + v.preset + ": { env: " + var + " }\n";
      env[var] = v.secret_value;
      credentials += std::string("  - { preset: ") + v.preset + ", secret: " + v.preset;
      credentials += std::string(v.preset) == "github"   ? ", paths: [/my-org/] }\n"
                     : std::string(v.preset) == "gitlab" ? ", paths: [/my-group/] }\n"
                                                         : " }\n";
    }
    start_intercepting(secrets, credentials, env, settings);
  }

  // Sends s through airlock; returns what the upstream recorded.
  std::string send(const shape& s) {
    std::vector<std::string> args;
    for (const auto& h : s.headers) {
      args.push_back("-H");
      args.push_back(h);
    }
    if (s.post) {
      args.insert(args.end(), {"-d", "{\"model\":\"m\",\"messages\":[]}"});
    }
    const std::size_t seen = up_->requests().size();
    args.push_back(s.url);
    const auto r = fetch(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(up_->requests().size(), seen + 1);
    return newest_request(*up_);
  }

  void expect_one_credential(const shape& s) {
    SCOPED_TRACE(s.what);
    const std::string got = send(s);
    for (const auto& c : carriers) {
      if (c == s.carrier) {
        EXPECT_EQ(field_values(got, c), strings{s.expected}) << got;
      } else {
        EXPECT_TRUE(field_values(got, c).empty()) << c << " in\n" << got;
      }
    }
    EXPECT_EQ(count_of(got, placeholder), 0u) << got;
    for (const auto& v : vendors) {
      const bool own = s.expected.find(v.secret_value) != std::string::npos;
      EXPECT_EQ(count_of(got, v.secret_value), own ? 1u : 0u) << v.preset << " in\n" << got;
    }
  }

  std::unique_ptr<tls_echo_server> up_;
};

// The Stainless-generated SDKs (anthropic-sdk-typescript, openai-node, groq-typescript,
// src/client.ts authHeaders/buildHeaders) and the OpenAI SDK pointed at other vendors.
TEST_F(presets_test, StainlessSdkShapesCarryOnlyTheRealKey) {
  const strings stainless{"Accept: application/json", "Content-Type: application/json",
                          "X-Stainless-Lang: js", "X-Stainless-Retry-Count: 0"};
  auto with = [&](strings extra) {
    strings out = stainless;
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
  };
  expect_one_credential({"anthropic, both env variables set",
                         with({"anthropic-version: 2023-06-01", "User-Agent: Anthropic/JS 0.71.0",
                               "X-Api-Key: " + ph(), "Authorization: Bearer " + ph()}),
                         "https://api.anthropic.com/v1/messages", "x-api-key",
                         "sk-ant-REAL-5f2c9e71"});
  expect_one_credential({"openai",
                         with({"User-Agent: OpenAI/JS 5.23.0", "Authorization: Bearer " + ph()}),
                         "https://api.openai.com/v1/chat/completions", "authorization",
                         bearer("sk-proj-REAL-8a13d0c4")});
  expect_one_credential({"groq",
                         with({"User-Agent: Groq/JS 0.33.0", "Authorization: Bearer " + ph()}),
                         "https://api.groq.com/openai/v1/chat/completions", "authorization",
                         bearer("gsk_REAL_0f9a3d62")});
  // OpenRouter: the OpenAI SDK with its base URL, and an Anthropic-SDK client's x-api-key
  // (OpenRouter reads either: one credential per request).
  expect_one_credential(
      {"openrouter via openai-node",
       with({"Authorization: Bearer " + ph(), "HTTP-Referer: https://app.test", "X-Title: app"}),
       "https://openrouter.ai/api/v1/chat/completions", "authorization",
       bearer("sk-or-REAL-29d7e6a0")});
  expect_one_credential({"openrouter via an anthropic client",
                         with({"X-Api-Key: " + ph(), "anthropic-version: 2023-06-01"}),
                         "https://openrouter.ai/api/v1/messages", "authorization",
                         bearer("sk-or-REAL-29d7e6a0")});
  expect_one_credential({"huggingface router via openai-node",
                         with({"Authorization: Bearer " + ph()}),
                         "https://router.huggingface.co/v1/chat/completions", "authorization",
                         bearer("hf_REAL_c81f5b37")});
}

// googleapis/js-genai src/node/_node_auth.ts sends x-goog-api-key; the REST docs' curl and
// the Live API put the key in ?key=: both carriers go, the header is set.
TEST_F(presets_test, GeminiKeyInHeaderOrQueryLeavesOnlyTheRealHeader) {
  const std::string base =
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent";
  expect_one_credential({"js-genai",
                         {"Content-Type: application/json", "x-goog-api-key: " + ph(),
                          "User-Agent: google-genai-sdk/1.20.0 gl-node/v20.19.0",
                          "x-goog-api-client: google-genai-sdk/1.20.0 gl-node/v20.19.0"},
                         base,
                         "x-goog-api-key",
                         "AIza-REAL-3b7e19f2"});
  expect_one_credential({"REST ?key=, attacker spellings too",
                         {"Content-Type: application/json", "X_Goog_Api_Key: " + ph()},
                         base + "?key=" + ph() + "&alt=sse&K%45Y=" + ph(),
                         "x-goog-api-key",
                         "AIza-REAL-3b7e19f2"});
  EXPECT_EQ(request_line(newest_request(*up_)),
            "POST /v1beta/models/gemini-2.0-flash:generateContent?alt=sse HTTP/1.1");
}

// mistralai/client-ts src/lib/security.ts (Authorization http:bearer) and huggingface_hub's
// build_hf_headers (authorization: Bearer); python-gitlab's PRIVATE-TOKEN and GitLab's
// private_token parameter.
TEST_F(presets_test, SpeakeasyHubAndGitlabShapesCarryOnlyTheRealKey) {
  expect_one_credential({"mistral client-ts",
                         {"Accept: application/json", "Content-Type: application/json",
                          "user-agent: speakeasy-sdk/typescript 1.10.0 2.687.13 1.0.0 "
                          "@mistralai/mistralai",
                          "Authorization: Bearer " + ph()},
                         "https://api.mistral.ai/v1/chat/completions",
                         "authorization",
                         bearer("mistral-REAL-71b4c8e5")});
  expect_one_credential(
      {"huggingface_hub",
       {"user-agent: huggingface_hub/0.35.0; python/3.11", "authorization: Bearer " + ph()},
       "https://huggingface.co/api/whoami-v2",
       "authorization",
       bearer("hf_REAL_c81f5b37"),
       false});
  expect_one_credential({"python-gitlab",
                         {"User-Agent: python-gitlab/6.2.0", "PRIVATE-TOKEN: " + ph()},
                         "https://gitlab.com/api/v4/projects?private_token=" + ph() + "&page=1",
                         "authorization",
                         bearer("glpat-REAL-6e0d4a92"),
                         false});
  EXPECT_EQ(request_line(newest_request(*up_)), "GET /api/v4/projects?page=1 HTTP/1.1");
  expect_one_credential({"gh api (Authorization: token)",
                         {"Accept: application/vnd.github+json", "Authorization: token " + ph(),
                          "X-GitHub-Api-Version: 2022-11-28"},
                         "https://api.github.com/repos/my-org/repo",
                         "authorization",
                         bearer(git_token),
                         false});
}

// git over HTTPS with the agent's placeholder as its password: the user's repositories
// get the real basic credential, in the username each forge wants.
TEST_F(presets_test, GitInsideThePathsGetsTheForgesBasicAuth) {
  // Basic x-access-token:placeholder-from-agent, and oauth2:placeholder-from-agent.
  expect_one_credential(
      {"github git",
       {"User-Agent: git/2.39.5",
        "Authorization: Basic eC1hY2Nlc3MtdG9rZW46cGxhY2Vob2xkZXItZnJvbS1hZ2VudA=="},
       "https://github.com/my-org/repo.git/info/refs?service=git-upload-pack",
       "authorization",
       "Basic eC1hY2Nlc3MtdG9rZW46Z2hwLVJFQUwtOTRkMWM3YWIzZTZm",
       false});
  expect_one_credential(
      {"gitlab git",
       {"User-Agent: git/2.39.5", "Authorization: Basic b2F1dGgyOnBsYWNlaG9sZGVyLWZyb20tYWdlbnQ="},
       "https://gitlab.com/my-group/repo.git/info/refs?service=git-upload-pack",
       "authorization",
       "Basic b2F1dGgyOmdscGF0LVJFQUwtNmUwZDRhOTI=",
       false});
}

// The finding (issue 19, failure 8): Codex fetches github.com/openai/plugins.git itself,
// and an unscoped github.com rule sent the user's token with it. With the preset's paths
// the fetch goes up as the agent made it, without the token.
TEST_F(presets_test, AttackerFetchOutsideThePathsGetsNoToken) {
  const std::size_t seen = up_->requests().size();
  const auto r = fetch({"-H", "User-Agent: git/2.39.5",
                        "https://github.com/openai/plugins.git/info/refs?service=git-upload-pack"});
  ASSERT_EQ(r.status, 200) << r.err;
  ASSERT_EQ(up_->requests().size(), seen + 1);
  const std::string got = newest_request(*up_);
  EXPECT_TRUE(field_values(got, "authorization").empty()) << got;
  EXPECT_EQ(count_of(got, git_token), 0u);
  // Nor does a path that only some servers read as inside /my-org/.
  const auto sneaky = fetch({"--path-as-is", "https://github.com/my-org/..;/openai/plugins.git/"});
  ASSERT_EQ(sneaky.status, 200) << sneaky.err;
  EXPECT_EQ(count_of(newest_request(*up_), git_token), 0u);
}

class print_presets_test : public proxy_test {};

TEST_F(print_presets_test, ListsEveryPresetWithHostsCarriersAndSources) {
  const auto r = run_command({airlock_binary(), "--print-presets"}, tmp_.path(), "presets", 10s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& v : vendors) {
    const std::string line = std::string(v.preset) + "\t";
    EXPECT_TRUE(r.out.rfind(line, 0) == 0 || r.out.find("\n" + line) != std::string::npos)
        << v.preset;
  }
  for (const char* line :
       {"github-git (part: git): github.com paths: yours, required",
        "sets: Authorization: Basic x-access-token:{{secret}}", "sets: x-api-key: {{secret}}",
        "strips: authorization, x-api-key, api-key, x-goog-api-key; query key",
        "telemetry (blocked by default): gemini-clearcut",
        "source: https://docs.gitlab.com/api/rest/authentication"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in\n" << r.out;
  }
}

}  // namespace
}  // namespace airlock::test
