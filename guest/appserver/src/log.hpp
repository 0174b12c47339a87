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
