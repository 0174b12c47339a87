// StampSink: the client-side observer of bench_e2e and of the benchmark protocol
// (rail_bench_protocol.hpp); header-only, for targets that link vitrine::rdpmux_host. Every
// paint of the benchmarks is a 256x256 update at (0, 0) whose last pixel (255, 255), painted
// last, carries a stamp; the sink records that pixel after each decoded update (FreeRDP's paint
// callback, client thread) and lets the benchmark thread wait for a given stamp.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>

#include "null_sink.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::testing {

class StampSink final : public NullSink {
 public:
  static constexpr std::uint32_t kSide = 256;

  void damaged(const rdpmux::host::FramebufferView& fb, std::span<const rdpmux::host::DesktopRect>) override {
    if (fb.width < kSide || fb.height < kSide) return;
    std::uint32_t v;
    std::memcpy(&v, fb.pixels + std::size_t(kSide - 1) * fb.stride + std::size_t(kSide - 1) * 4, 4);
    {
      std::lock_guard lock(mutex_);
      stamp_ = v & 0xFFFFFF;
    }
    cv_.notify_all();
  }
  // True once the stamp pixel holds `want` (BGRX, low 24 bits).
  bool wait_stamp(std::uint32_t want, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return stamp_ == want; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint32_t stamp_ = 0;
};

}  // namespace vitrine::testing
