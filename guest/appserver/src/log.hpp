// One-line diagnostics on stderr, prefixed with the program name. Verbose lines only when
// enabled (--verbose). Thread-safe: each line is one write().
#pragma once

#include <fmt/format.h>

#include <utility>
#include <string_view>

namespace vitrine::appserver {

void set_verbose(bool on);
[[nodiscard]] bool verbose();
void log_line(std::string_view level, std::string_view message);

// FreeRDP's own log (WLog) to stderr as well, at WARN (INFO with `verbose`). WLog's console
// default writes TRACE..INFO to *stdout*, a line or more per connection; stdout is the
// appserver's machine-readable channel (the "listening on" line), often a pipe that its
// starter reads once, and a full pipe would block the whole server after some dozens of
// connections (found by appserver_soak_test). WLOG_APPENDER / WLOG_LEVEL in the environment
// still win.
void configure_freerdp_log(bool verbose);

template <typename... Args>
void log_info(fmt::format_string<Args...> fmt, Args&&... args) {
  log_line("info", fmt::format(fmt, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> fmt, Args&&... args) {
  log_line("warn", fmt::format(fmt, std::forward<Args>(args)...));
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> fmt, Args&&... args) {
  if (verbose()) log_line("debug", fmt::format(fmt, std::forward<Args>(args)...));
}

}  // namespace vitrine::appserver
