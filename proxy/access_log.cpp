#include "proxy/access_log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "proxy/json.hpp"

namespace airlock::proxy {

namespace {

std::shared_ptr<spdlog::logger> access_logger;
config::log_format access_format = config::log_format::text;

// A text value as one token: bare when safe, otherwise quoted with \" and \\ escaped and
// control bytes dropped, so a path cannot forge another field or line.
void append_text_value(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
    return;
  }
  bool plain = true;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    plain = plain && u > 0x20 && u < 0x7f && c != '"' && c != '\\' && c != '=';
  }
  if (plain) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u != 0x7f) {
      out += c;
    }
  }
  out += '"';
}

std::string millis(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", ms);
  return buf;
}

}  // namespace

std::string format_access(const access_entry& e, config::log_format format) {
  std::string out;
  out.reserve(256);
  if (format == config::log_format::json) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    out += "{\"ts\":";
    out += std::to_string(now.count() / 1000);
    out += '.';
    const auto frac = std::to_string(1000 + now.count() % 1000);
    out += frac.substr(1);
    out += ",\"level\":\"info\",\"type\":\"access\"";
    const auto field = [&out](std::string_view key, std::string_view value) {
      out += ",\"";
      out += key;
      out += "\":";
      append_json_string(out, value);
    };
    field("client", e.client);
    field("mode", e.mode);
    field("method", e.method);
    field("authority", e.authority);
    field("path", e.path);
    out += ",\"status\":" + std::to_string(e.status);
    out += ",\"bytes_in\":" + std::to_string(e.bytes_in);
    out += ",\"bytes_out\":" + std::to_string(e.bytes_out);
    out += ",\"ms\":" + millis(e.ms);
    if (e.upstream_ms >= 0) {
      out += ",\"upstream_ms\":" + millis(e.upstream_ms);
    }
    if (!e.rule.empty()) {
      field("rule", e.rule);
    }
    if (!e.reason.empty()) {
      field("reason", e.reason);
    }
    out += '}';
    return out;
  }
  const auto field = [&out](std::string_view key, std::string_view value) {
    out += ' ';
    out += key;
    out += '=';
    append_text_value(out, value);
  };
  out += "access";
  field("client", e.client);
  field("mode", e.mode);
  field("method", e.method);
  field("authority", e.authority);
  field("path", e.path);
  field("status", std::to_string(e.status));
  field("bytes_in", std::to_string(e.bytes_in));
  field("bytes_out", std::to_string(e.bytes_out));
  field("ms", millis(e.ms));
  field("upstream_ms", e.upstream_ms >= 0 ? millis(e.upstream_ms) : "");
  field("rule", e.rule);
  field("reason", e.reason);
  return out;
}

void setup_access_log(const config::log_config& cfg) {
  access_format = cfg.format;
  if (!cfg.access) {
    access_logger.reset();
    return;
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  access_logger = std::make_shared<spdlog::logger>("access", sink);
  // JSON lines carry their own time; text lines get the main log's prefix.
  access_logger->set_pattern(
      cfg.format == config::log_format::json ? "%v" : "%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  access_logger->set_level(spdlog::level::info);
}

bool access_log_enabled() {
  return access_logger != nullptr;
}

void write_access(const access_entry& e) {
  if (access_logger) {
    access_logger->info("{}", format_access(e, access_format));
  }
}

}  // namespace airlock::proxy
