// Where the bus reports faults. ringbus depends on nothing but std and xxHash, so the upper
// rooms plug their logger (spdlog in cli/) in here. Default: one line on stderr.
#pragma once

#include <string_view>

namespace vitrine::ringbus {

enum class LogLevel : int { kDebug, kInfo, kWarn, kError };
using LogSink = void (*)(LogLevel level, std::string_view message);

// Thread-safe to call log() concurrently; set_log_sink() before starting threads.
void set_log_sink(LogSink sink);
void log(LogLevel level, std::string_view message);

}  // namespace vitrine::ringbus
