// Clocks and deadlines. One clock for the whole project: std::chrono::steady_clock, which is
// CLOCK_MONOTONIC on Linux (system-wide: a sandbox guest's readings compare with the host's, and
// the bus's stamps rely on that) and QueryPerformanceCounter on Windows.
//
// A Deadline is a point on that clock fixed once ("give up 5 s from now"), asked repeatedly
// whether it passed and how long a poll()/wait may still block. A timeout too long to add
// (nanoseconds::max(): "wait forever") saturates to never() instead of overflowing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace vitrine::base {

using Clock = std::chrono::steady_clock;

// The monotonic clock in nanoseconds since an unspecified epoch (boot on Linux).
inline std::uint64_t monotonic_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// now + timeout, or time_point::max() when that would overflow (or timeout is max()).
inline Clock::time_point deadline_after(std::chrono::nanoseconds timeout, Clock::time_point now = Clock::now()) {
  if (timeout >= Clock::time_point::max() - now) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(timeout);
}

class Deadline {
 public:
  // `timeout` from now; a negative timeout is already expired.
  static Deadline after(std::chrono::nanoseconds timeout) { return Deadline(deadline_after(timeout)); }
  static Deadline at(Clock::time_point when) { return Deadline(when); }
  static Deadline never() { return Deadline(Clock::time_point::max()); }

  [[nodiscard]] bool is_never() const { return when_ == Clock::time_point::max(); }
  [[nodiscard]] bool expired(Clock::time_point now = Clock::now()) const { return !is_never() && now >= when_; }
  [[nodiscard]] Clock::time_point when() const { return when_; }

  // Time left, zero once expired; nanoseconds::max() for never().
  [[nodiscard]] std::chrono::nanoseconds remaining(Clock::time_point now = Clock::now()) const {
    if (is_never()) return std::chrono::nanoseconds::max();
    if (now >= when_) return std::chrono::nanoseconds::zero();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(when_ - now);
  }

  // For poll()/epoll_wait(): -1 for never(), 0 once expired, else the time left rounded UP to
  // whole milliseconds (rounding down would wake 1 ms early and spin on a 0 timeout), capped at
  // INT32_MAX.
  [[nodiscard]] int remaining_ms(Clock::time_point now = Clock::now()) const {
    if (is_never()) return -1;
    const auto left = remaining(now);
    if (left <= std::chrono::nanoseconds::zero()) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return static_cast<int>(std::min<std::chrono::milliseconds::rep>(ms, 0x7fffffff));
  }

 private:
  explicit Deadline(Clock::time_point when) : when_(when) {}
  Clock::time_point when_;
};

}  // namespace vitrine::base
