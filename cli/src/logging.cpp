#include "logging.hpp"

#include <cstdlib>

#include <chrono>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "vitrine/ringbus/log.hpp"

namespace vitrine::cli {
namespace {

void ringbus_sink(ringbus::LogLevel level, std::string_view message) {
  switch (level) {
    case ringbus::LogLevel::kDebug: spdlog::debug("bus: {}", message); break;
    case ringbus::LogLevel::kInfo: spdlog::info("bus: {}", message); break;
    case ringbus::LogLevel::kWarn: spdlog::warn("bus: {}", message); break;
    case ringbus::LogLevel::kError: spdlog::error("bus: {}", message); break;
  }
}

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void setup_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("vitrine");
  logger->set_pattern(verbose ? "%H:%M:%S.%e %^%l%$ %v" : "vitrine: %^%l%$: %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
  ringbus::set_log_sink(&ringbus_sink);
  // FreeRDP's own log (WLog) prints INFO lines on stdout; a user sees its warnings and errors
  // unless --verbose. WLog reads the variable once, at its first use, which comes later; a value
  // the user set wins (overwrite = 0).
  ::setenv("WLOG_LEVEL", verbose ? "INFO" : "WARN", 0);
}

ProgressStep::ProgressStep(const char* what) : what_(what), start_ns_(now_ns()) { spdlog::info("{}...", what_); }

void ProgressStep::done() {
  if (finished_) return;
  finished_ = true;
  spdlog::info("{}: done in {:.1f} s", what_, static_cast<double>(now_ns() - start_ns_) / 1e9);
}

ProgressStep::~ProgressStep() {
  if (!finished_) spdlog::info("{}: stopped after {:.1f} s", what_, static_cast<double>(now_ns() - start_ns_) / 1e9);
}

}  // namespace vitrine::cli
