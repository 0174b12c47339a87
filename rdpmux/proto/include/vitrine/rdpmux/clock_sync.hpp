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

// No clock reading reaches this (2^62 ns: 146 years of CLOCK_MONOTONIC); ClockSync::add and
// decode_stamp refuse guest times at or above it as "not a clock reading". Below it, sums and
// differences of two readings fit in int64.
inline constexpr std::uint64_t kMaxClockReadingNs = 1ull << 62;

struct ClockSample {
  std::uint64_t host_send_ns = 0;  // t0, host clock
  std::uint64_t guest_ns = 0;      // g, guest clock
  std::uint64_t host_recv_ns = 0;  // t1, host clock
};

struct ClockEstimate {
  std::int64_t offset_ns = 0;         // guest clock - host clock
  std::uint64_t uncertainty_ns = 0;   // half the round trip of the sample it came from
  std::uint64_t samples = 0;          // samples accepted so far (all time)

  // The host-clock time of a guest-clock reading, saturated to [0, UINT64_MAX]. Any reading and
  // any offset: both may come from the guest, so the arithmetic is unsigned and checked (the
  // old int64 form overflowed for readings near 2^63).
  std::uint64_t to_host(std::uint64_t guest_ns) const {
    // 0 - u64(offset) is |offset| for a negative offset, INT64_MIN included.
    const auto magnitude = offset_ns >= 0 ? static_cast<std::uint64_t>(offset_ns)
                                          : std::uint64_t{0} - static_cast<std::uint64_t>(offset_ns);
    if (offset_ns >= 0) return guest_ns > magnitude ? guest_ns - magnitude : 0;
    return guest_ns > UINT64_MAX - magnitude ? UINT64_MAX : guest_ns + magnitude;
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
