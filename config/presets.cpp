#include "config/presets.hpp"

#include <algorithm>

namespace airlock::config {

namespace {

using field = preset_part::field;

preset_part bearer(std::string id, std::string host, std::vector<std::string> paths = {}) {
  preset_part p;
  p.id = std::move(id);
  p.host = std::move(host);
  p.paths = std::move(paths);
  p.headers = {field{"Authorization", "Bearer "}};
  return p;
}

// git over HTTPS: one host serves every repository, so the user names theirs.
preset_part git_basic(std::string host, std::string username) {
  preset_part p;
  p.id = "git";
  p.host = std::move(host);
  p.needs_paths = true;
  p.basic_username = std::move(username);
  return p;
}

std::vector<preset> build() {
  // Sources checked for issue 19 (2026-11): each scheme from the vendor's documentation
  // and the official SDK's code that sends it.
  preset anthropic{"anthropic", "Anthropic API", {}, {}, {}};
  preset_part messages;
  messages.id = "api";
  messages.host = "api.anthropic.com";
  messages.headers = {field{"x-api-key", ""}};
  anthropic.parts = {messages};
  anthropic.telemetry = {"claude-event-logging", "claude-metrics-export", "claude-statsig",
                         "claude-datadog", "claude-datadog-browser"};
  anthropic.sources = {
      "https://docs.anthropic.com/en/api/getting-started (x-api-key on every request)",
      "anthropics/anthropic-sdk-typescript src/client.ts: apiKeyAuth sends X-Api-Key, "
      "bearerAuth sends Authorization: Bearer ANTHROPIC_AUTH_TOKEN, both when both are set"};

  preset openai{"openai", "OpenAI API", {bearer("api", "api.openai.com")}, {}, {}};
  openai.telemetry = {"codex-statsig-otlp", "codex-analytics-events"};
  openai.sources = {"https://developers.openai.com/api/reference/overview (Authorization: Bearer)",
                    "openai/openai-node src/client.ts: authHeaders, Authorization: Bearer"};

  preset_part generative;
  generative.id = "api";
  generative.host = "generativelanguage.googleapis.com";
  generative.headers = {field{"x-goog-api-key", ""}};
  generative.strip_query = {"key"};
  preset gemini{"gemini", "Gemini API (Google AI Studio keys)", {generative}, {}, {}};
  gemini.telemetry = {"gemini-clearcut", "gemini-codeassist-metrics"};
  gemini.sources = {
      "https://ai.google.dev/gemini-api/docs/api-key (curl example: ?key=)",
      "googleapis/js-genai src/node/_node_auth.ts: GOOGLE_API_KEY_HEADER = 'x-goog-api-key'"};

  preset github{"github",
                "GitHub REST API and git over HTTPS",
                {bearer("api", "api.github.com"), git_basic("github.com", "x-access-token")},
                {},
                {}};
  github.telemetry = {"copilot-telemetry-individual", "copilot-telemetry-business",
                      "copilot-telemetry-enterprise", "copilot-telemetry-legacy",
                      "github-collector"};
  github.sources = {
      "https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api "
      "(Authorization: Bearer, or token)",
      "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/"
      "authenticating-as-a-github-app-installation (git: x-access-token:TOKEN)"};

  // GitLab takes a token in PRIVATE-TOKEN, JOB-TOKEN or Authorization: Bearer, and in the
  // private_token, access_token and job_token parameters: all are carriers.
  preset_part gitlab_api = bearer("api", "gitlab.com", {"/api/"});
  preset_part gitlab_git = git_basic("gitlab.com", "oauth2");
  for (preset_part* p : {&gitlab_api, &gitlab_git}) {
    p->strip_headers = {"private-token", "job-token"};
    p->strip_query = {"private_token", "access_token", "job_token"};
  }
  preset gitlab{
      "gitlab", "GitLab.com REST API and git over HTTPS", {gitlab_api, gitlab_git}, {}, {}};
  gitlab.sources = {
      "https://docs.gitlab.com/api/rest/authentication (PRIVATE-TOKEN, Authorization: Bearer, "
      "private_token and access_token parameters)",
      "https://docs.gitlab.com/ee/api/oauth2.html#access-git-over-https-with-access-token "
      "(git: oauth2:TOKEN)"};

  preset huggingface{"huggingface",
                     "Hugging Face Hub and Inference Providers",
                     {bearer("hub", "huggingface.co"), bearer("router", "router.huggingface.co")},
                     {},
                     {}};
  huggingface.sources = {
      "https://huggingface.co/docs/hub/security-tokens",
      "huggingface/huggingface_hub src/huggingface_hub/utils/_headers.py: build_hf_headers, "
      "authorization: Bearer"};

  // OpenRouter also reads x-api-key from Anthropic-SDK clients, "one credential per
  // request": a default carrier, so stripped.
  preset openrouter{
      "openrouter", "OpenRouter API", {bearer("api", "openrouter.ai", {"/api/"})}, {}, {}};
  openrouter.sources = {"https://openrouter.ai/docs/api-keys (Authorization: Bearer; x-api-key)"};

  preset mistral{"mistral", "Mistral AI API", {bearer("api", "api.mistral.ai")}, {}, {}};
  mistral.sources = {
      "https://docs.mistral.ai/inference/quickstarts/send-your-first-request",
      "mistralai/client-ts src/lib/security.ts: resolveGlobalSecurity, Authorization http:bearer "
      "from MISTRAL_API_KEY"};

  preset groq{"groq", "Groq API", {bearer("api", "api.groq.com")}, {}, {}};
  groq.sources = {"https://console.groq.com/docs/quickstart",
                  "groq/groq-typescript src/client.ts: authHeaders, Authorization: Bearer"};

  return {anthropic, openai, gemini, github, gitlab, huggingface, openrouter, mistral, groq};
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += out.empty() ? "" : ", ";
    out += item;
  }
  return out;
}

}  // namespace

const std::vector<preset>& provider_presets() {
  static const std::vector<preset> presets = build();
  return presets;
}

const preset* find_preset(std::string_view name) {
  const auto& all = provider_presets();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const preset& p) { return p.name == name; });
  return it == all.end() ? nullptr : &*it;
}

std::string preset_names() {
  std::vector<std::string> names;
  for (const auto& p : provider_presets()) {
    names.push_back(p.name);
  }
  return joined(names);
}

credential_rule rule_from_part(const preset& p, const preset_part& part,
                               const std::string& secret) {
  credential_rule rule;
  rule.name = p.parts.size() == 1 ? p.name : p.name + "-" + part.id;
  rule.match.host = part.host;
  rule.match.path_prefixes = part.paths;
  for (const auto& f : part.headers) {
    value_template value;
    if (!f.prefix.empty()) {
      value.parts.push_back({false, f.prefix});
    }
    value.parts.push_back({true, secret});
    rule.headers.emplace_back(f.name, std::move(value));
  }
  if (part.basic_username) {
    rule.basic_auth = basic_auth_action{*part.basic_username, {{{true, secret}}}};
  }
  for (const auto& name : part.strip_headers) {
    rule.strip.headers.push_back(name);
  }
  rule.strip.query = part.strip_query;
  return rule;
}

std::string describe_presets() {
  std::string out;
  for (const auto& p : provider_presets()) {
    out += p.name + "\t" + p.title + "\n";
    for (const auto& part : p.parts) {
      const credential_rule rule = rule_from_part(p, part, "secret");
      out += "    " + rule.name;
      out += p.parts.size() > 1 ? " (part: " + part.id + "): " : ": ";
      out += part.host;
      if (part.needs_paths) {
        out += " paths: yours, required (say [/OWNER/])";
      } else if (!part.paths.empty()) {
        out += " paths: " + joined(part.paths);
      }
      out += "\n      sets:";
      for (const auto& f : part.headers) {
        out += " " + f.name + ": " + f.prefix + "{{secret}}";
      }
      if (part.basic_username) {
        out += " Authorization: Basic " + *part.basic_username + ":{{secret}}";
      }
      out += "\n      strips: " + joined(rule.strip.headers);
      if (!rule.strip.query.empty()) {
        out += "; query " + joined(rule.strip.query);
      }
      out += "\n";
    }
    if (!p.telemetry.empty()) {
      out += "    telemetry (blocked by default): " + joined(p.telemetry) + "\n";
    }
    for (const auto& source : p.sources) {
      out += "    source: " + source + "\n";
    }
  }
  return out;
}

}  // namespace airlock::config
