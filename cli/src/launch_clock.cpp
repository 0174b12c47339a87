#include "launch_clock.hpp"

#include <fmt/format.h>

#include <utility>

namespace vitrine::cli {
namespace {

std::string ms(std::uint64_t ns) { return fmt::format("{} ms", (ns + 500'000) / 1'000'000); }

}  // namespace

void LaunchClock::launch_requested(Clock::time_point at, std::string startup_id) {
  std::lock_guard lock(mutex_);
  if (pending_.size() == kMaxPending) {
    if (!pending_.front().startup_id.empty()) evicted_.push_back(std::move(pending_.front().startup_id));
    pending_.pop_front();
    ++expired_;
  }
  pending_.push_back({at, std::move(startup_id)});
}

LaunchClock::Ended LaunchClock::windows_created(std::uint64_t total, Clock::time_point now) {
  Ended ended;
  std::uint64_t fresh = total - seen_;
  seen_ = total;
  std::lock_guard lock(mutex_);
  ended.without_window = std::exchange(evicted_, {});
  while (!pending_.empty() && now - pending_.front().at > kGiveUp) {
    if (!pending_.front().startup_id.empty()) ended.without_window.push_back(std::move(pending_.front().startup_id));
    pending_.pop_front();
    ++expired_;
  }
  if (fresh == 0) return ended;
  if (!cold_) cold_ = now - started_;
  for (; fresh > 0 && !pending_.empty(); --fresh) {
    const auto waited = std::chrono::duration_cast<std::chrono::nanoseconds>(now - pending_.front().at);
    warm_.record(static_cast<std::uint64_t>(waited.count()));
    if (!pending_.front().startup_id.empty()) ended.with_window.push_back(std::move(pending_.front().startup_id));
    pending_.pop_front();
  }
  return ended;
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
