#include "logging.hpp"

#include <cstdint>
#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"

namespace vitrine::cli {
namespace {

// The project log (base) goes to spdlog in this program: one format and one level for both.
void spdlog_sink(base::LogLevel level, std::string_view message) {
  switch (level) {
    case base::LogLevel::kDebug: spdlog::debug("{}", message); break;
    case base::LogLevel::kInfo: spdlog::info("{}", message); break;
    case base::LogLevel::kWarn: spdlog::warn("{}", message); break;
    case base::LogLevel::kError: spdlog::error("{}", message); break;
  }
}

double seconds_since(std::uint64_t start_ns) {
  return static_cast<double>(base::monotonic_ns() - start_ns) / 1e9;
}

}  // namespace

void setup_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("vitrine");
  logger->set_pattern(verbose ? "%H:%M:%S.%e %^%l%$ %v" : "vitrine: %^%l%$: %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
  base::set_log_sink(&spdlog_sink);
  // Filtered by base before formatting, by the same rule as spdlog's level.
  base::set_log_level(verbose ? base::LogLevel::kDebug : base::LogLevel::kInfo);
  // FreeRDP's own log (WLog) prints INFO lines on stdout; a user sees its warnings and errors
  // unless --verbose. WLog reads the variable once, at its first use, which comes later; a value
  // the user set wins (overwrite = 0).
  ::setenv("WLOG_LEVEL", verbose ? "INFO" : "WARN", 0);
}

ProgressStep::ProgressStep(const char* what) : what_(what), start_ns_(base::monotonic_ns()) {
  spdlog::info("{}...", what_);
}

void ProgressStep::done() {
  if (finished_) return;
  finished_ = true;
  spdlog::info("{}: done in {:.1f} s", what_, seconds_since(start_ns_));
}

ProgressStep::~ProgressStep() {
  if (!finished_) spdlog::info("{}: stopped after {:.1f} s", what_, seconds_since(start_ns_));
}

}  // namespace vitrine::cli
