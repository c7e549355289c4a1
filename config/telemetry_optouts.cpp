#include "config/telemetry_optouts.hpp"

namespace airlock::config {

namespace {

std::vector<telemetry_optout> build() {
  // Sources checked for issue 19 (2026-11). A switch only helps where the tool reads it, so
  // each says what it turns off; the proxy still blocks the endpoints whatever the tool does.
  return {
      {"Claude Code", "DISABLE_TELEMETRY", "1",
       "code.claude.com/docs/en/settings (environment variables): opts out of Statsig "
       "telemetry; utils/privacyLevel.ts reads it as the no-telemetry level"},
      {"Claude Code", "DISABLE_ERROR_REPORTING", "1",
       "code.claude.com/docs/en/settings (environment variables): opts out of Sentry error "
       "reporting"},
      {"Claude Code", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1",
       "code.claude.com/docs/en/settings: DISABLE_AUTOUPDATER, DISABLE_BUG_COMMAND, "
       "DISABLE_ERROR_REPORTING and DISABLE_TELEMETRY at once; also stops auto-updates and "
       "release notes"},
      {"RTK", "RTK_TELEMETRY_DISABLED", "1",
       "rtk-ai/rtk docs/TELEMETRY.md: blocks the daily ping whatever the consent says"},
      {"Gemini CLI", "GEMINI_TELEMETRY_ENABLED", "false",
       "geminicli.com/docs/cli/telemetry: the environment form of telemetry.enabled "
       "(OpenTelemetry export, off by default)"},
      {"Gemini CLI", "", "",
       "no environment switch for usage statistics (Clearcut): privacy.usageStatisticsEnabled: "
       "false in settings.json (docs/cli/configuration.md); the proxy blocks gemini-clearcut"},
      {"Codex CLI", "", "",
       "no environment switch (developers.openai.com/codex/environment-variables lists none): "
       "[analytics] enabled = false in config.toml; the proxy blocks codex-statsig-otlp and "
       "codex-analytics-events"},
      {"any", "DO_NOT_TRACK", "1",
       "consoledonottrack.com: the cross-tool convention some CLIs and SDKs honour"},
  };
}

}  // namespace

const std::vector<telemetry_optout>& vendor_telemetry_optouts() {
  static const std::vector<telemetry_optout> entries = build();
  return entries;
}

}  // namespace airlock::config
