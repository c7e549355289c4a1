// Provider presets and strip: lists: what an entry expands into, what it may override,
// and every mistake refused at its FILE:LINE:COL.

#include "config/presets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "config/load.hpp"
#include "config/telemetry_defaults.hpp"

namespace airlock::config {
namespace {

using strings = std::vector<std::string>;

const std::string secrets_yaml = "secrets:\n  key: { env: KEY }\n  gh: { env: GH }\ncredentials:\n";

config load(const std::string& credentials) {
  return load_string(secrets_yaml + credentials, "p.yaml");
}

std::string error_of(const std::string& credentials) {
  try {
    load(credentials);
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

// "Bearer {{key}}" back from a template.
std::string text_of(const value_template& t) {
  std::string out;
  for (const auto& part : t.parts) {
    out += part.secret ? "{{" + part.text + "}}" : part.text;
  }
  return out;
}

const strings default_carriers{"authorization", "x-api-key", "api-key", "x-goog-api-key"};

TEST(presets, anthropic_sets_x_api_key_and_strips_every_carrier) {
  const auto c = load("  - { preset: anthropic, secret: key }\n");
  ASSERT_EQ(c.credentials.size(), 1u);
  const auto& r = c.credentials[0];
  EXPECT_EQ(r.name, "anthropic");
  EXPECT_EQ(r.match.host, "api.anthropic.com");
  EXPECT_EQ(r.match.port, 0);
  EXPECT_TRUE(r.match.path_prefixes.empty());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "x-api-key");
  EXPECT_EQ(text_of(r.headers[0].second), "{{key}}");
  EXPECT_FALSE(r.basic_auth);
  // The Node SDK's Authorization: Bearer placeholder is among them (issue 19, failure 1).
  EXPECT_EQ(r.strip.headers, default_carriers);
  EXPECT_TRUE(r.strip.query.empty());
  EXPECT_TRUE(r.scrub.enabled);
}

TEST(presets, bearer_presets_name_their_hosts) {
  const std::vector<std::pair<std::string, std::string>> expected{
      {"openai", "api.openai.com"}, {"mistral", "api.mistral.ai"}, {"groq", "api.groq.com"}};
  for (const auto& [name, host] : expected) {
    SCOPED_TRACE(name);
    const auto c = load("  - { preset: " + name + ", secret: key }\n");
    ASSERT_EQ(c.credentials.size(), 1u);
    EXPECT_EQ(c.credentials[0].match.host, host);
    ASSERT_EQ(c.credentials[0].headers.size(), 1u);
    EXPECT_EQ(c.credentials[0].headers[0].first, "Authorization");
    EXPECT_EQ(text_of(c.credentials[0].headers[0].second), "Bearer {{key}}");
  }
  const auto router = load("  - { preset: openrouter, secret: key }\n");
  EXPECT_EQ(router.credentials[0].match.host, "openrouter.ai");
  EXPECT_EQ(router.credentials[0].match.path_prefixes, strings{"/api/"});
  const auto hf = load("  - { preset: huggingface, secret: key }\n");
  ASSERT_EQ(hf.credentials.size(), 2u);
  EXPECT_EQ(hf.credentials[0].name, "huggingface-hub");
  EXPECT_EQ(hf.credentials[0].match.host, "huggingface.co");
  EXPECT_EQ(hf.credentials[1].match.host, "router.huggingface.co");
}

// Gemini clients put the key in x-goog-api-key or in ?key= (the REST docs, the Live API).
TEST(presets, gemini_strips_the_key_parameter) {
  const auto c = load("  - { preset: gemini, secret: key }\n");
  const auto& r = c.credentials[0];
  EXPECT_EQ(r.match.host, "generativelanguage.googleapis.com");
  EXPECT_EQ(r.headers[0].first, "x-goog-api-key");
  EXPECT_EQ(r.strip.query, strings{"key"});
}

TEST(presets, github_expands_into_api_and_path_scoped_git) {
  const auto c = load("  - { preset: github, secret: gh, paths: [/my-org/] }\n");
  ASSERT_EQ(c.credentials.size(), 2u);
  const auto& api = c.credentials[0];
  const auto& git = c.credentials[1];
  EXPECT_EQ(api.name, "github-api");
  EXPECT_EQ(api.match.host, "api.github.com");
  EXPECT_TRUE(api.match.path_prefixes.empty());  // paths: scopes the repositories' host
  EXPECT_EQ(text_of(api.headers[0].second), "Bearer {{gh}}");
  EXPECT_EQ(git.name, "github-git");
  EXPECT_EQ(git.match.host, "github.com");
  EXPECT_EQ(git.match.path_prefixes, strings{"/my-org/"});
  ASSERT_TRUE(git.basic_auth);
  EXPECT_EQ(git.basic_auth->username, "x-access-token");
  EXPECT_EQ(text_of(git.basic_auth->password), "{{gh}}");
  EXPECT_TRUE(git.headers.empty());
}

// The finding (issue 19, failure 8): an unscoped github.com rule sent the user's token with
// Codex's own fetch of github.com/openai/plugins.git. A preset never writes one.
TEST(presets, attacker_unscoped_git_host_is_refused) {
  EXPECT_EQ(error_of("  - { preset: github, secret: gh }\n"),
            "p.yaml:5:5: credentials[0]: preset github: github.com serves every repository, so "
            "its git part needs paths: with yours (say [/OWNER/] or [/OWNER/REPO.git/]; [/] sends "
            "the token with any repository), or choose another part with part:");
  EXPECT_NE(error_of("  - { preset: gitlab, secret: gh }\n")
                .find("p.yaml:5:5: credentials[0]: "
                      "preset gitlab: gitlab.com"),
            std::string::npos);
  // The API alone needs no repository list.
  const auto api = load("  - { preset: github, part: api, secret: gh }\n");
  ASSERT_EQ(api.credentials.size(), 1u);
  EXPECT_EQ(api.credentials[0].name, "github-api");
}

TEST(presets, gitlab_strips_its_own_carriers_too) {
  const auto c = load("  - { preset: gitlab, secret: gh, paths: [/my-group/] }\n");
  ASSERT_EQ(c.credentials.size(), 2u);
  const auto& api = c.credentials[0];
  EXPECT_EQ(api.match.host, "gitlab.com");
  EXPECT_EQ(api.match.path_prefixes, strings{"/api/"});
  for (const auto& r : c.credentials) {
    for (const char* carrier : {"authorization", "private-token", "job-token"}) {
      EXPECT_NE(std::find(r.strip.headers.begin(), r.strip.headers.end(), carrier),
                r.strip.headers.end())
          << r.name << " " << carrier;
    }
    EXPECT_EQ(r.strip.query, (strings{"private_token", "access_token", "job_token"}));
  }
  EXPECT_EQ(c.credentials[1].basic_auth->username, "oauth2");
  EXPECT_EQ(c.credentials[1].match.path_prefixes, strings{"/my-group/"});
}

TEST(presets, one_part_takes_host_port_paths_methods_name_and_options) {
  const auto c = load(
      "  - preset: github\n"
      "    part: api\n"
      "    secret: gh\n"
      "    name: ghe\n"
      "    host: GitHub.Example.com\n"
      "    port: 8443\n"
      "    paths: [/api/v3/]\n"
      "    methods: [get]\n"
      "    strip: [X-Extra-Token]\n"
      "    scrub: false\n");
  ASSERT_EQ(c.credentials.size(), 1u);
  const auto& r = c.credentials[0];
  EXPECT_EQ(r.name, "ghe");
  EXPECT_EQ(r.match.host, "github.example.com");
  EXPECT_EQ(r.match.port, 8443);
  EXPECT_EQ(r.match.path_prefixes, strings{"/api/v3/"});
  EXPECT_EQ(r.match.methods, strings{"GET"});
  EXPECT_EQ(r.strip.headers.back(), "x-extra-token");
  EXPECT_FALSE(r.scrub.enabled);
  // A name on several parts is their common stem.
  const auto both = load("  - { preset: github, secret: gh, name: work, paths: [/w/] }\n");
  EXPECT_EQ(both.credentials[0].name, "work-api");
  EXPECT_EQ(both.credentials[1].name, "work-git");
}

TEST(presets, mistakes_are_reported_where_they_are) {
  EXPECT_EQ(error_of("  - { preset: anthropik, secret: key }\n"),
            "p.yaml:5:15: credentials[0].preset: unknown preset \"anthropik\" (known: anthropic, "
            "openai, gemini, github, gitlab, huggingface, openrouter, mistral, groq; airlock "
            "--print-presets shows them)");
  EXPECT_EQ(error_of("  - { preset: openai }\n"),
            "p.yaml:5:5: credentials[0]: preset openai needs secret: (a name declared under "
            "secrets:)");
  EXPECT_EQ(error_of("  - { preset: openai, secret: nope }\n"),
            "p.yaml:5:31: credentials[0].secret: \"nope\" names no secret declared under "
            "secrets:");
  EXPECT_EQ(error_of("  - { preset: github, part: web, secret: gh }\n"),
            "p.yaml:5:29: credentials[0].part: preset github has no part \"web\" (parts: api "
            "(api.github.com), git (github.com))");
  EXPECT_EQ(error_of("  - { preset: github, secret: gh, paths: [/o/], host: ghe.example }\n"),
            "p.yaml:5:55: credentials[0].host: preset github has parts api (api.github.com), git "
            "(github.com): choose one with part: to change its host");
  EXPECT_NE(error_of("  - { preset: huggingface, secret: key, paths: [/api/] }\n")
                .find("p.yaml:5:48: credentials[0].paths: preset huggingface has parts"),
            std::string::npos);
  EXPECT_NE(error_of("  - { preset: openai, secret: key, headers: { X: y } }\n")
                .find("p.yaml:5:36: unknown key \"headers\" in credentials[0]"),
            std::string::npos);
  EXPECT_NE(error_of("  - { preset: github, part: git, secret: gh, paths: [relative] }\n")
                .find("p.yaml:5:53: credentials[0].paths: each prefix starts with \"/\""),
            std::string::npos);
}

// Each preset names default telemetry entries that exist, hosts a rule could name, and
// at least one source; names are unique (configs and metrics refer to them).
TEST(presets, table_is_consistent) {
  std::set<std::string> telemetry;
  for (const auto& e : vendor_telemetry_defaults()) {
    telemetry.insert(e.name);
  }
  std::set<std::string> names;
  for (const auto& p : provider_presets()) {
    SCOPED_TRACE(p.name);
    EXPECT_TRUE(names.insert(p.name).second);
    EXPECT_EQ(find_preset(p.name), &p);
    EXPECT_FALSE(p.sources.empty());
    EXPECT_FALSE(p.parts.empty());
    for (const auto& name : p.telemetry) {
      EXPECT_EQ(telemetry.count(name), 1u) << name;
    }
    const bool scoped = std::any_of(p.parts.begin(), p.parts.end(),
                                    [](const preset_part& part) { return part.needs_paths; });
    const std::string yaml =
        "  - { preset: " + p.name + ", secret: key" + (scoped ? ", paths: [/o/]" : "") + " }\n";
    EXPECT_EQ(load(yaml).credentials.size(), p.parts.size());
  }
  EXPECT_EQ(find_preset("Anthropic"), nullptr);
  const std::string text = describe_presets();
  EXPECT_NE(text.find("github-git (part: git): github.com paths: yours, required"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("source: https://docs.anthropic.com/"), std::string::npos);
}

TEST(strip_options, default_carriers_on_every_rule) {
  const auto c = load("  - { host: a.test, headers: { x-key: \"{{key}}\" } }\n");
  EXPECT_EQ(c.credentials[0].strip.headers, default_carriers);
  EXPECT_TRUE(c.credentials[0].strip.query.empty());
}

TEST(strip_options, a_list_adds_and_defaults_false_keeps_the_clients) {
  const auto added =
      load("  - { host: a.test, headers: { x-key: \"{{key}}\" }, strip: [Cookie, X_Session] }\n");
  EXPECT_EQ(added.credentials[0].strip.headers, (strings{"authorization", "x-api-key", "api-key",
                                                         "x-goog-api-key", "cookie", "x_session"}));
  const auto own = load(
      "  - host: a.test\n"
      "    headers: { x-key: \"{{key}}\" }\n"
      "    strip: { defaults: false, headers: [x-other], query: [token, api_key] }\n");
  EXPECT_EQ(own.credentials[0].strip.headers, strings{"x-other"});
  EXPECT_EQ(own.credentials[0].strip.query, (strings{"token", "api_key"}));
  const auto none =
      load("  - { host: a.test, headers: { x-key: \"{{key}}\" }, strip: { defaults: false } }\n");
  EXPECT_TRUE(none.credentials[0].strip.headers.empty());
  // On a preset, defaults: false drops its own carriers too.
  const auto preset = load(
      "  - { preset: gitlab, part: api, secret: key, strip: { defaults: false, query: [k] } }\n");
  EXPECT_TRUE(preset.credentials[0].strip.headers.empty());
  EXPECT_EQ(preset.credentials[0].strip.query, strings{"k"});
}

TEST(strip_options, mistakes_are_reported_where_they_are) {
  const std::string rule = "  - { host: a.test, headers: { x-key: \"{{key}}\" }, strip: ";
  EXPECT_EQ(error_of(rule + "[Host] }\n"),
            "p.yaml:5:60: credentials[0].strip: airlock handles \"Host\" itself");
  EXPECT_EQ(error_of(rule + "[\"bad name\"] }\n"),
            "p.yaml:5:60: credentials[0].strip: \"bad name\" is not a header name");
  EXPECT_EQ(error_of(rule + "{ query: [\"a=b\"] } }\n"),
            "p.yaml:5:69: credentials[0].strip.query: \"a=b\" is not a plain parameter name");
  EXPECT_EQ(error_of(rule + "{ default: false } }\n"),
            "p.yaml:5:61: unknown key \"default\" in credentials[0].strip (known: headers, query, "
            "defaults)");
  EXPECT_EQ(error_of(rule + "{ defaults: no } }\n"),
            "p.yaml:5:71: credentials[0].strip.defaults: expected true or false, got \"no\"");
  EXPECT_EQ(error_of(rule + "[] }\n"),
            "p.yaml:5:59: credentials[0].strip: expected a non-empty list of header names");
}

// config/examples/ is what users copy: every file loads, and every git host in it is scoped.
TEST(examples, every_example_config_loads_with_scoped_git_hosts) {
  std::size_t loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(AIRLOCK_SOURCE_DIR) / "config" / "examples")) {
    SCOPED_TRACE(entry.path().string());
    const config c = load_file(entry.path().string());
    for (const auto& rule : c.credentials) {
      if (rule.match.host == "github.com" || rule.match.host == "gitlab.com") {
        EXPECT_FALSE(rule.match.path_prefixes.empty()) << rule.name;
      }
    }
    ++loaded;
  }
  EXPECT_GE(loaded, 3u);
}

}  // namespace
}  // namespace airlock::config
