// Helpers shared by the host runtime's source files (HostMux and its parts, Connection). Private
// to rdpmux/mux.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace vitrine::rdpmux::detail {

using Clock = std::chrono::steady_clock;

inline Clock::time_point deadline_after(std::chrono::nanoseconds timeout) {
  const auto now = Clock::now();
  if (timeout >= Clock::time_point::max() - now) return Clock::time_point::max();
  return now + timeout;
}

inline std::uint64_t monotonic_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// For log lines a guest can trigger at will, given how many came before this one: the first
// few, then every 1024th, so that a flood costs a counter increment rather than a line each.
inline bool worth_logging(std::uint64_t before) { return before < 4 || before % 1024 == 0; }

inline std::string so_far(std::uint64_t before) { return " (" + std::to_string(before + 1) + " so far)"; }

}  // namespace vitrine::rdpmux::detail
