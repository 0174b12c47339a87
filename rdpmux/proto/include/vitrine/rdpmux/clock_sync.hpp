// ClockSync: the guest's CLOCK_MONOTONIC expressed in the host's, learned from ClockProbe /
// ClockReply round trips on the control channel (kFeatureTimestamps, control_layout.hpp).
//
// One sample is (host sent the probe at t0, the guest read its clock at g, the host got the
// reply at t1). If the guest read its clock at the middle of the round trip, the guest's clock
// runs ahead of the host's by offset = g - (t0 + t1) / 2; wherever in [t0, t1] it really read it,
// the error is at most (t1 - t0) / 2. So the sample with the SHORTEST round trip of a recent
// window bounds the error best (NTP's minimum-delay filter); older samples age out of the
// window so that the estimate follows a guest clock that drifts (a VM's clock does).
//
// In the sandbox both clocks are the same clock: the offset comes out within +-(t1 - t0) / 2 of
// zero, which the tests check. Under QEMU or KVM the guest clock started at the guest's boot.
//
// Not thread-safe: HostMux updates it under its control lock and publishes the estimate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace vitrine::rdpmux {

struct ClockSample {
  std::uint64_t host_send_ns = 0;  // t0, host clock
  std::uint64_t guest_ns = 0;      // g, guest clock
  std::uint64_t host_recv_ns = 0;  // t1, host clock
};

struct ClockEstimate {
  std::int64_t offset_ns = 0;         // guest clock - host clock
  std::uint64_t uncertainty_ns = 0;   // half the round trip of the sample it came from
  std::uint64_t samples = 0;          // samples accepted so far (all time)

  // The host-clock time of a guest-clock reading (clamped at 0).
  std::uint64_t to_host(std::uint64_t guest_ns) const {
    const std::int64_t host = static_cast<std::int64_t>(guest_ns) - offset_ns;
    return host > 0 ? static_cast<std::uint64_t>(host) : 0;
  }
};

class ClockSync {
 public:
  // `window`: how many recent samples the minimum round trip is taken over (>= 1).
  explicit ClockSync(std::size_t window = 16);

  // false (sample ignored) when t1 < t0 or a time is 0 or beyond 2^62 ns (not a clock reading).
  bool add(const ClockSample& sample);
  // From the window's shortest round trip; nullopt before the first accepted sample.
  std::optional<ClockEstimate> estimate() const;
  void clear();

 private:
  std::vector<ClockSample> window_;  // ring of the last window_size_ samples
  std::size_t window_size_;
  std::size_t next_ = 0;
  std::uint64_t accepted_ = 0;
};

}  // namespace vitrine::rdpmux
