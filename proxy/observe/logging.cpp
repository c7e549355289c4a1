#include "proxy/observe/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "proxy/observe/access_log.hpp"
#include "proxy/observe/json.hpp"

namespace airlock::proxy {

namespace {

// One JSON object per line; the message is escaped so no input can forge a field.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    const auto level = spdlog::level::to_string_view(msg.level);
    json_writer w(dest);
    w.begin_object();
    w.field("ts", json_thousandths{static_cast<std::uint64_t>(ms.count())});
    w.field("level", std::string_view(level.data(), level.size()));
    w.field("msg", std::string_view(msg.payload.data(), msg.payload.size()));
    w.end_object();
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

}  // namespace

void setup_logging(const config::log_config& cfg) {
  auto logger = std::make_shared<spdlog::logger>("airlock",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (cfg.format == config::log_format::json) {
    logger->set_formatter(std::make_unique<json_formatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
  logger->set_level(spdlog::level::from_str(cfg.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  setup_access_log(cfg);
}

}  // namespace airlock::proxy
