#include "launch_clock.hpp"

#include <fmt/format.h>

namespace vitrine::cli {
namespace {

std::string ms(std::uint64_t ns) { return fmt::format("{} ms", (ns + 500'000) / 1'000'000); }

}  // namespace

void LaunchClock::launch_requested(Clock::time_point at) {
  std::lock_guard lock(mutex_);
  if (pending_.size() == kMaxPending) {
    pending_.pop_front();
    ++expired_;
  }
  pending_.push_back(at);
}

void LaunchClock::windows_created(std::uint64_t total, Clock::time_point now) {
  if (total == seen_) return;
  std::uint64_t fresh = total - seen_;
  seen_ = total;
  std::lock_guard lock(mutex_);
  if (!cold_) cold_ = now - started_;
  while (!pending_.empty() && now - pending_.front() > kGiveUp) {
    pending_.pop_front();
    ++expired_;
  }
  for (; fresh > 0 && !pending_.empty(); --fresh) {
    warm_.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - pending_.front()).count()));
    pending_.pop_front();
  }
}

std::string LaunchClock::warm_summary() const {
  std::lock_guard lock(mutex_);
  if (warm_.count() == 0 && expired_ == 0) return "none yet";
  std::string out = warm_.count() == 0 ? std::string("no window yet")
                                       : fmt::format("p50 {}, p99 {}, max {}", ms(warm_.percentile(0.5)),
                                                     ms(warm_.percentile(0.99)), ms(warm_.max()));
  out += fmt::format(" ({} launches", warm_.count());
  if (expired_ != 0) out += fmt::format(", {} without a window", expired_);
  return out + ")";
}

std::optional<LaunchClock::Clock::duration> LaunchClock::cold() const {
  std::lock_guard lock(mutex_);
  return cold_;
}

std::string LaunchClock::cold_summary() const {
  const auto c = cold();
  if (!c) return "no window yet";
  return ms(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(*c).count()));
}

}  // namespace vitrine::cli
