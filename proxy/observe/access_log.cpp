#include "proxy/observe/access_log.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>
#include <mutex>

#include "proxy/observe/json.hpp"

namespace airlock::proxy {

namespace {

bool access_on = false;
config::log_format access_format = config::log_format::text;

// A write(2) to a pipe of at most PIPE_BUF bytes is never split or interleaved with
// another writer's, so a batch goes out in pieces of whole lines no larger than that.
constexpr std::size_t atomic_write = 4096;
// A busy worker flushes at this size even before its run of ready handlers ends.
constexpr std::size_t batch_limit = 32 * 1024;

// Batches from several workers, one after another.
std::mutex write_mutex;

struct line_batch {
  std::string lines;
  bool active = false;
};
thread_local line_batch batch;

// All of data to stderr. A full non-blocking stderr gets a second to drain, then the
// rest is dropped: the data plane never waits longer on its log.
void write_stderr(std::string_view data) {
  int waits = 0;
  while (!data.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN && waits++ < 10) {
      pollfd p{STDERR_FILENO, POLLOUT, 0};
      (void)::poll(&p, 1, 100);
      continue;
    }
    return;
  }
}

void write_lines(std::string_view data) {
  const std::lock_guard<std::mutex> lock(write_mutex);
  while (!data.empty()) {
    std::size_t take = data.size();
    if (take > atomic_write) {
      const auto nl = data.rfind('\n', atomic_write - 1);
      take = nl != std::string_view::npos ? nl + 1 : data.find('\n') + 1;
    }
    write_stderr(data.substr(0, take));
    data.remove_prefix(take);
  }
}

// "007" for 7: the fraction after a decimal point, milliseconds of a second or microseconds
// of a millisecond.
void append_3_digits(std::string& out, unsigned v) {
  out += static_cast<char>('0' + v / 100);
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

// The main log's text prefix ("%Y-%m-%dT%H:%M:%S.%e%z info "), the date formatted once
// a second per thread rather than per line.
void append_text_prefix(std::string& out) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  thread_local std::time_t cached = -1;
  thread_local char date[32];
  thread_local char zone[8];
  if (secs != cached) {
    std::tm t{};
    localtime_r(&secs, &t);
    std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &t);
    std::strftime(zone, sizeof(zone), "%z", &t);
    cached = secs;
  }
  const auto frac = static_cast<unsigned>(ms % 1000);
  out += date;
  out += '.';
  append_3_digits(out, frac);
  out += zone;
  out += " info ";
}

// Bytes that may stand bare in a text value: visible ASCII but the quote, backslash and '='
// that would let a value forge another field.
constexpr std::array<bool, 256> bare_table = [] {
  std::array<bool, 256> t{};
  for (int c = 0x21; c < 0x7f; ++c) {
    t[static_cast<std::size_t>(c)] = c != '"' && c != '\\' && c != '=';
  }
  return t;
}();

// A text value as one token: bare when safe, otherwise quoted with \" and \\ escaped and
// control bytes dropped, so a path cannot forge another field or line.
void append_text_value(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
    return;
  }
  bool plain = true;
  for (char c : v) {
    plain = plain && bare_table[static_cast<unsigned char>(c)];
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

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Milliseconds with three decimals, without printf's floating-point machinery.
void append_millis(std::string& out, double ms) {
  const auto us = static_cast<std::uint64_t>(ms * 1000 + 0.5);
  append_uint(out, us / 1000);
  const auto frac = static_cast<unsigned>(us % 1000);
  out += '.';
  append_3_digits(out, frac);
}

// Milliseconds as thousandths, rounded as append_millis rounds them in the text line.
json_thousandths thousandths(double ms) {
  return json_thousandths{static_cast<std::uint64_t>(ms * 1000 + 0.5)};
}

void append_json_line(std::string& out, const access_entry& e) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  json_writer w(out);
  w.begin_object();
  w.field("ts", json_thousandths{static_cast<std::uint64_t>(now)});
  w.field("level", "info");
  w.field("type", "access");
  w.field("client", e.client);
  w.field("mode", e.mode);
  w.field("method", e.method);
  w.field("authority", e.authority);
  w.field("path", e.path);
  w.field("status", e.status);
  w.field("bytes_in", e.bytes_in);
  w.field("bytes_out", e.bytes_out);
  w.field("ms", thousandths(e.ms));
  if (e.upstream_ms >= 0) {
    w.field("upstream_ms", thousandths(e.upstream_ms));
  }
  if (!e.rule.empty()) {
    w.field("rule", e.rule);
  }
  if (!e.reason.empty()) {
    w.field("reason", e.reason);
  }
  if (e.scrubbed >= 0) {
    w.field("scrubbed", static_cast<std::uint64_t>(e.scrubbed));
  }
  w.end_object();
}

void append_text_line(std::string& out, const access_entry& e) {
  const auto field = [&out](std::string_view key, std::string_view value) {
    out += ' ';
    out += key;
    out += '=';
    append_text_value(out, value);
  };
  const auto key = [&out](std::string_view k) {
    out += ' ';
    out += k;
    out += '=';
  };
  out += "access";
  field("client", e.client);
  field("mode", e.mode);
  field("method", e.method);
  field("authority", e.authority);
  field("path", e.path);
  key("status");
  append_uint(out, static_cast<std::uint64_t>(e.status));
  key("bytes_in");
  append_uint(out, e.bytes_in);
  key("bytes_out");
  append_uint(out, e.bytes_out);
  key("ms");
  append_millis(out, e.ms);
  key("upstream_ms");
  if (e.upstream_ms >= 0) {
    append_millis(out, e.upstream_ms);
  } else {
    out += '-';
  }
  field("rule", e.rule);
  field("reason", e.reason);
  if (e.scrubbed >= 0) {
    key("scrubbed");
    append_uint(out, static_cast<std::uint64_t>(e.scrubbed));
  }
}

void append_access(std::string& out, const access_entry& e, config::log_format format) {
  if (format == config::log_format::json) {
    append_json_line(out, e);
  } else {
    append_text_line(out, e);
  }
}

}  // namespace

std::string format_access(const access_entry& e, config::log_format format) {
  std::string out;
  out.reserve(256);
  append_access(out, e, format);
  return out;
}

void setup_access_log(const config::log_config& cfg) {
  access_format = cfg.format;
  access_on = cfg.access;
}

bool access_log_enabled() {
  return access_on;
}

void write_access(const access_entry& e) {
  if (!access_on) {
    return;
  }
  std::string line;
  std::string& out = batch.active ? batch.lines : line;
  if (access_format == config::log_format::text) {
    append_text_prefix(out);
  }
  append_access(out, e, access_format);
  out += '\n';
  if (!batch.active) {
    write_lines(line);
  } else if (batch.lines.size() >= batch_limit) {
    flush_access();
  }
}

void flush_access() {
  if (!batch.lines.empty()) {
    write_lines(batch.lines);
    batch.lines.clear();
  }
}

access_batch::access_batch() {
  batch.active = true;
}

access_batch::~access_batch() {
  flush_access();
  batch.active = false;
}

}  // namespace airlock::proxy
