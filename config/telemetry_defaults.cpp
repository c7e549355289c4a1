#include "config/telemetry_defaults.hpp"

#include <stdexcept>

#include "config/parse_values.hpp"

namespace airlock::config {

namespace {

telemetry_entry entry(const char* name, const char* host, const char* path, const char* source) {
  auto parsed = parse_host_pattern(host);
  if (parsed.index() != 0) {
    throw std::logic_error(std::string("bad built-in telemetry host ") + host);
  }
  return telemetry_entry{name, std::get<0>(std::move(parsed)), path, source};
}

std::vector<telemetry_entry> build() {
  // Sources: code paths or documents, as found for the telemetry research note of issue 5
  // (2026-11). Hosts that also carry an API are blocked by path only; hosts that serve
  // feature flags the CLIs need (GrowthBook /api/eval/, Statsig initialize) are left alone.
  return {
      // Claude Code (Anthropic). Off switches: DISABLE_TELEMETRY, DISABLE_ERROR_REPORTING,
      // CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC (docs: claude-code/data-usage).
      entry("claude-event-logging", "api.anthropic.com", "/api/event_logging/",
            "Claude Code FirstPartyEventLoggingExporter: baseUrl + /api/event_logging/batch "
            "(and /v2/batch)"),
      entry("claude-metrics-export", "api.anthropic.com", "/api/claude_code/metrics",
            "Claude Code BigQuery metrics exporter: https://api.anthropic.com/api/claude_code/"
            "metrics"),
      entry("claude-statsig", "statsig.anthropic.com", "",
            "Claude Code Statsig networkConfig api https://statsig.anthropic.com/v1/ (older "
            "builds)"),
      entry("claude-datadog", "http-intake.logs.us5.datadoghq.com", "",
            "Claude Code services/analytics/datadog.ts DATADOG_LOGS_ENDPOINT; network-config "
            "docs"),
      entry("claude-datadog-browser", "browser-intake-us5-datadoghq.com", "",
            "Claude Code network-config docs: Datadog operational telemetry"),
      // OpenAI Codex CLI. Off switch: [analytics] enabled = false in config.toml.
      entry("codex-statsig-otlp", "ab.chatgpt.com", "/otlp",
            "openai/codex codex-rs/otel/src/config.rs STATSIG_OTLP_HTTP_ENDPOINT"),
      entry("codex-analytics-events", "chatgpt.com", "/backend-api/codex/analytics-events/",
            "openai/codex codex-rs/analytics/src/sinks/codex_backend.rs"),
      // Gemini CLI. Off switch: privacy.usageStatisticsEnabled: false.
      entry("gemini-clearcut", "play.googleapis.com", "/log",
            "google-gemini/gemini-cli clearcut-logger.ts CLEARCUT_URL"),
      entry("gemini-codeassist-metrics", "cloudcode-pa.googleapis.com",
            "/v1internal:recordCodeAssistMetrics",
            "google-gemini/gemini-cli packages/core/src/code_assist/telemetry.ts"),
      // GitHub Copilot CLI. Off switch: --disable-client-telemetry (v1.0.100).
      entry("copilot-telemetry-individual", "telemetry.individual.githubcopilot.com", "",
            "copilot_internal token endpoints.telemetry; observed from Copilot CLI"),
      entry("copilot-telemetry-business", "telemetry.business.githubcopilot.com", "",
            "copilot_internal token endpoints.telemetry"),
      entry("copilot-telemetry-enterprise", "telemetry.enterprise.githubcopilot.com", "",
            "copilot_internal token endpoints.telemetry"),
      entry("copilot-telemetry-legacy", "copilot-telemetry.githubusercontent.com", "",
            "docs.github.com Copilot allowlist reference: Telemetry"),
      entry("github-collector", "collector.github.com", "",
            "docs.github.com Copilot allowlist reference: Analytics telemetry"),
      // RTK (rtk-ai/rtk, a command-output filter for agents). Off switch:
      // RTK_TELEMETRY_DISABLED=1. The host takes only the ping and its erasure request.
      entry("rtk-telemetry", "telemetry.rtk-ai.app", "",
            "rtk-ai/rtk src/core/telemetry.rs pings option_env!(RTK_TELEMETRY_URL), set by "
            ".github/workflows/release.yml; release binaries carry "
            "https://telemetry.rtk-ai.app/ping (docs/TELEMETRY.md: daily, after consent)"),
      // Statsig event intake (Claude Code's SDK and others); not sentry.io or datadoghq.com
      // apexes, whose APIs developers use.
      entry("statsig-events", "statsigapi.net", "", "Statsig SDK events and sdk_exception"),
      entry("statsig-events-sub", "*.statsigapi.net", "", "Statsig SDK events.statsigapi.net"),
      entry("statsig-registry", "prodregistryv2.org", "", "Statsig SDK event logging host"),
      entry("statsig-com", "*.statsig.com", "", "Statsig hosted API (api.statsig.com)"),
      // Sentry ingest (Claude Code o1158394.ingest.us.sentry.io, Codex /feedback).
      entry("sentry-ingest", "*.ingest.sentry.io", "", "Sentry DSN ingest hosts"),
      entry("sentry-ingest-us", "*.ingest.us.sentry.io", "", "Sentry DSN ingest hosts, US"),
      entry("sentry-ingest-de", "*.ingest.de.sentry.io", "", "Sentry DSN ingest hosts, EU"),
      // Datadog intake only (never the Datadog API hosts).
      entry("datadog-logs-us1", "http-intake.logs.datadoghq.com", "", "Datadog log intake"),
      entry("datadog-logs-us3", "http-intake.logs.us3.datadoghq.com", "", "Datadog log intake"),
      entry("datadog-logs-eu", "http-intake.logs.datadoghq.eu", "", "Datadog log intake"),
      entry("datadog-logs-ap1", "http-intake.logs.ap1.datadoghq.com", "", "Datadog log intake"),
      entry("datadog-browser-us1", "browser-intake-datadoghq.com", "", "Datadog RUM intake"),
      entry("datadog-browser-us3", "browser-intake-us3-datadoghq.com", "", "Datadog RUM intake"),
      entry("datadog-browser-eu", "browser-intake-datadoghq.eu", "", "Datadog RUM intake"),
      // Product analytics some CLI versions embedded (Claude Code 2.0.x Segment).
      entry("segment", "api.segment.io", "", "Segment analytics API; Claude Code 2.0.x bundle"),
  };
}

}  // namespace

const std::vector<telemetry_entry>& vendor_telemetry_defaults() {
  static const std::vector<telemetry_entry> entries = build();
  return entries;
}

}  // namespace airlock::config
