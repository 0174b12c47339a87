#include "vitrine/rdpmux/clock_sync.hpp"

#include <algorithm>

namespace vitrine::rdpmux {

ClockSync::ClockSync(std::size_t window) : window_size_(std::max<std::size_t>(window, 1)) {
  window_.reserve(window_size_);
}

bool ClockSync::add(const ClockSample& s) {
  if (s.host_send_ns == 0 || s.guest_ns == 0 || s.host_recv_ns < s.host_send_ns) return false;
  if (s.host_recv_ns >= kMaxClockReadingNs || s.guest_ns >= kMaxClockReadingNs) return false;
  if (window_.size() < window_size_) {
    window_.push_back(s);
  } else {
    window_[next_] = s;
    next_ = (next_ + 1) % window_size_;
  }
  ++accepted_;
  return true;
}

std::optional<ClockEstimate> ClockSync::estimate() const {
  if (window_.empty()) return std::nullopt;
  const auto best = std::min_element(window_.begin(), window_.end(), [](const ClockSample& a, const ClockSample& b) {
    return a.host_recv_ns - a.host_send_ns < b.host_recv_ns - b.host_send_ns;
  });
  const std::uint64_t rtt = best->host_recv_ns - best->host_send_ns;
  // Midpoint without overflow: t0 + rtt / 2 (both below 2^62).
  const std::uint64_t mid = best->host_send_ns + rtt / 2;
  ClockEstimate e;
  e.offset_ns = static_cast<std::int64_t>(best->guest_ns) - static_cast<std::int64_t>(mid);
  e.uncertainty_ns = (rtt + 1) / 2;
  e.samples = accepted_;
  return e;
}

void ClockSync::clear() {
  window_.clear();
  next_ = 0;
}

}  // namespace vitrine::rdpmux
