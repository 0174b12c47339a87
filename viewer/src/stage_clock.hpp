// StageClock: the viewer's stage latencies (perf::StageTelemetry; the stages are listed at
// RemoteDisplay::telemetry()). It keeps the per-paint times between the threads that see them:
// the bridge's tap (HostReadClock), the session thread (paint posted), the UI thread (paint
// applied, present) and the connection's reader (guest stamps).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "vitrine/base/clock.hpp"
#include "vitrine/perf/histogram.hpp"
#include "vitrine/rdpmux/clock_sync.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/viewer/surface_pump.hpp"

namespace vitrine::viewer {

// The start of a paint's journey: as the connection's bridge tap it notes when the first server
// bytes since the last paint went to FreeRDP's socket (kHostReadToPaint), and from the guest's
// stamps (kFeatureTimestamps) when the guest relay received those bytes (kEndToEnd). The next
// paint takes both.
class HostReadClock final : public rdpmux::host::BridgeTap {
 public:
  struct Taken {
    std::uint64_t read_ns = 0;           // host: handed to FreeRDP (0: unknown)
    std::uint64_t guest_receive_ns = 0;  // guest relay's receive, host clock (0: unknown)
  };
  void on_chunk(Direction direction, std::uint32_t channel, std::uint64_t steady_ns,
                std::span<const std::byte> bytes) override {
    (void)channel, (void)bytes;
    if (direction != Direction::kToSocket) return;
    std::uint64_t none = 0;
    first_unpainted_ns_.compare_exchange_strong(none, steady_ns, std::memory_order_relaxed);
  }
  // A stamp arrives right after its record went to the socket. It belongs to the unpainted
  // bytes unless it describes a record read before them (a paint took those already): the
  // bridge peeks a record (`read_ns`) a few microseconds before it writes it (on_chunk).
  // FreeRDP can decode and paint a small PDU before the reader gets to that record's stamp; such
  // a late stamp goes to the paint that took its bytes (take_late()), never to the next one.
  void on_guest_stamp(std::uint64_t read_ns, std::uint64_t guest_receive_ns) {
    std::uint64_t none = 0;
    const std::uint64_t first = first_unpainted_ns_.load(std::memory_order_relaxed);
    if (first != 0 && read_ns + kPeekToWriteSlack >= first) {
      first_guest_receive_ns_.compare_exchange_strong(none, guest_receive_ns, std::memory_order_relaxed);
      return;
    }
    const std::uint64_t taken = taken_first_ns_.load(std::memory_order_acquire);
    if (taken != 0 && read_ns + kPeekToWriteSlack >= taken && read_ns <= taken_at_ns_.load(std::memory_order_relaxed))
      late_guest_receive_ns_.compare_exchange_strong(none, guest_receive_ns, std::memory_order_relaxed);
  }
  Taken take() {
    const Taken t{first_unpainted_ns_.exchange(0, std::memory_order_relaxed),
                  first_guest_receive_ns_.exchange(0, std::memory_order_relaxed)};
    if (t.read_ns != 0 && t.guest_receive_ns == 0) {
      late_guest_receive_ns_.store(0, std::memory_order_relaxed);
      taken_at_ns_.store(base::monotonic_ns(), std::memory_order_relaxed);
      taken_first_ns_.store(t.read_ns, std::memory_order_release);
    }
    return t;
  }
  // The guest receive time a stamp brought after the paint whose first bytes were read at
  // `read_ns` was taken (0: none came, or that paint is no longer the last one taken).
  std::uint64_t take_late(std::uint64_t read_ns) {
    if (read_ns == 0 || taken_first_ns_.load(std::memory_order_acquire) != read_ns) return 0;
    return late_guest_receive_ns_.exchange(0, std::memory_order_relaxed);
  }

 private:
  static constexpr std::uint64_t kPeekToWriteSlack = 200'000;
  std::atomic<std::uint64_t> first_unpainted_ns_{0};
  std::atomic<std::uint64_t> first_guest_receive_ns_{0};
  // The last paint taken without a guest time, and what a late stamp said about it.
  std::atomic<std::uint64_t> taken_first_ns_{0};
  std::atomic<std::uint64_t> taken_at_ns_{0};
  std::atomic<std::uint64_t> late_guest_receive_ns_{0};
};

class StageClock {
 public:
  // ---- session thread ----
  // What the bridge saw since the last paint (and forgets it): the paint being posted takes it.
  HostReadClock::Taken take_read() { return read_clock_->take(); }

  // ---- the connection's reader (any thread, one at a time) ----
  // One stamped record (HostMuxOptions::on_stamp): the two guest stages, and the guest receive
  // time for the paint that will show those bytes.
  void guest_stamp(const rdpmux::GuestStamp& stamp);

  // ---- UI thread ----
  // The guest's clock estimate for the surface stages that start in the guest (empty: none).
  void set_guest_clock(std::function<std::optional<rdpmux::ClockEstimate>()> guest_clock) {
    guest_clock_ = std::move(guest_clock);
  }
  // A paint posted at `posted_ns` (session thread) was applied; read/guest times 0 = unknown.
  void paint_applied(std::uint64_t posted_ns, std::uint64_t read_ns, std::uint64_t guest_receive_ns);
  // A present that started at `start_ns` ended now: the paint stages of the paints it showed.
  void presented(std::uint64_t start_ns);
  // The same present, for the surface uploads it showed (SurfacePump::take_oldest()).
  void surface_presented(std::uint64_t start_ns, const SurfacePump::Oldest& oldest);

  // ---- any thread ----
  const perf::StageTelemetry& telemetry() const { return telemetry_; }
  std::shared_ptr<rdpmux::host::BridgeTap> bridge_tap() const { return read_clock_; }

 private:
  std::shared_ptr<HostReadClock> read_clock_ = std::make_shared<HostReadClock>();
  // The UI thread writes the host stages, the connection's reader the two guest stages:
  // one writer per histogram.
  perf::StageTelemetry telemetry_;
  // UI thread only.
  std::uint64_t oldest_paint_ns_ = 0;  // the first paint waiting for the next present (0: none)
  std::uint64_t oldest_read_ns_ = 0;           // when its first bytes were read (0: unknown)
  std::uint64_t oldest_guest_receive_ns_ = 0;  // its guest receive time (0: unknown)
  std::function<std::optional<rdpmux::ClockEstimate>()> guest_clock_;
};

}  // namespace vitrine::viewer
