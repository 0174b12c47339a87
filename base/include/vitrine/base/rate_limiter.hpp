// A token bucket for log lines that a peer can trigger at will (a hostile guest, a client that
// floods a socket): a burst of lines passes, then at most `per_second` lines a second, and the
// first line let through after a quiet spell says how many were dropped, so that a flood costs
// a counter increment rather than a line each and nothing is hidden.
//
//   static base::RateLimiter limit(5, 20);
//   if (auto r = limit.admit()) base::log_warn("bad record from the guest{}", r.suffix());
//
// Not thread-safe: one limiter per thread (or per object that one thread drives).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "vitrine/base/clock.hpp"

namespace vitrine::base {

class RateLimiter {
 public:
  // What admit() says: whether to log, and how many lines were suppressed before this one.
  struct Admission {
    bool pass = false;
    std::uint64_t suppressed = 0;
    explicit operator bool() const { return pass; }
    // " (N lines suppressed)" when some were, else empty: append it to the line.
    [[nodiscard]] std::string suffix() const {
      return suppressed == 0 ? std::string() : " (" + std::to_string(suppressed) + " lines suppressed)";
    }
  };

  // `per_second` tokens a second, up to `burst` saved up (the bucket starts full).
  explicit RateLimiter(std::uint32_t per_second, std::uint32_t burst = 10)
      : per_second_(std::max<std::uint32_t>(per_second, 1)),
        burst_(std::max<std::uint32_t>(burst, 1)),
        tokens_milli_(std::uint64_t{burst_} * 1000) {}

  // `now_ns`: monotonic_ns(); a parameter so tests need not sleep.
  Admission admit(std::uint64_t now_ns = monotonic_ns()) {
    refill(now_ns);
    if (tokens_milli_ < 1000) {
      ++suppressed_;
      return {};
    }
    tokens_milli_ -= 1000;
    Admission a{true, suppressed_};
    suppressed_ = 0;
    return a;
  }

  [[nodiscard]] std::uint64_t suppressed() const { return suppressed_; }

 private:
  void refill(std::uint64_t now_ns) {
    if (last_ns_ == 0 || now_ns <= last_ns_) {
      if (last_ns_ == 0) last_ns_ = now_ns;
      return;
    }
    // Milli-tokens: per_second tokens per 1e9 ns, in integers. Elapsed time is capped just past
    // what fills an empty bucket, so elapsed * per_second stays below 2^64 (burst and per_second
    // are 32-bit: at most (2^32 + 2^32) * 1e9 < 1.9e19) after any quiet spell.
    const std::uint64_t cap = std::uint64_t{burst_} * 1000;
    const std::uint64_t fill_ns = std::uint64_t{burst_} * 1'000'000'000 / per_second_ + 1'000'000'000;
    const std::uint64_t elapsed = std::min<std::uint64_t>(now_ns - last_ns_, fill_ns);
    const std::uint64_t gained = elapsed * per_second_ / 1'000'000;
    if (gained > 0) {
      tokens_milli_ = std::min(cap, tokens_milli_ + gained);
      last_ns_ = now_ns;
    }
  }

  std::uint32_t per_second_;
  std::uint32_t burst_;
  std::uint64_t tokens_milli_;
  std::uint64_t last_ns_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace vitrine::base
