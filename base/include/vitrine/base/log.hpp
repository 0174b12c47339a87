// The project's one log route. Every room logs here; the program decides where lines go by
// plugging in a sink (cli/ plugs spdlog in). Default sink: one line on stderr,
// "<program> <level>: <message>", each line a single write() so that lines of several threads
// never interleave.
//
//   base::log_warn("channel {}: record of {} bytes refused", id, len);
//
// Threads: log_*() and log() may be called from any thread. set_log_sink(), set_log_level() and
// set_program_name() are configuration: call them before starting threads.
// Lines a peer (the guest, a client) can trigger at will go through a RateLimiter
// (vitrine/base/rate_limiter.hpp).
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace vitrine::base {

enum class LogLevel : int { kDebug, kInfo, kWarn, kError };
using LogSink = void (*)(LogLevel level, std::string_view message);

// nullptr restores the default (stderr) sink.
void set_log_sink(LogSink sink);
// Lines below `level` are dropped before they are formatted. Default kDebug: every line reaches
// the sink (a sink such as spdlog may filter again); programs narrow it (--verbose or not).
void set_log_level(LogLevel level);
[[nodiscard]] LogLevel log_level();
[[nodiscard]] bool log_enabled(LogLevel level);
// The default sink's prefix ("vitrine" until set). At most 63 bytes are kept.
void set_program_name(std::string_view name);
[[nodiscard]] std::string_view program_name();
[[nodiscard]] std::string_view level_name(LogLevel level);

// A preformatted line (no trailing newline). Filtered by the level like the formatting calls.
void log(LogLevel level, std::string_view message);

// The default sink, for sinks that add something and then print as before.
void stderr_sink(LogLevel level, std::string_view message);

template <typename... Args>
void log_at(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  // Checked before formatting: a debug line costs a load and a compare when debug is off.
  if (!log_enabled(level)) return;
  log(level, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> format, Args&&... args) {
  log_at(LogLevel::kDebug, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  log_at(LogLevel::kInfo, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> format, Args&&... args) {
  log_at(LogLevel::kWarn, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_error(fmt::format_string<Args...> format, Args&&... args) {
  log_at(LogLevel::kError, format, std::forward<Args>(args)...);
}

}  // namespace vitrine::base
