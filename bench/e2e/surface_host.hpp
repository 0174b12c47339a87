// SurfaceHost: the host half of the surface benchmarks, the pieces `vitrine run` wires for a VM
// with a surface pool (cli/src/instance.cpp + remote_display{,_surfaces}.cpp), on the thread
// that calls it (the benchmark thread is the UI thread):
//
//   HostMux on the bus -> open(tcp:port) -> ConnectionBridge -> socketpair -> RdpClient (RemoteApp:
//   window orders in, input out)
//   SurfaceReceiver (surface channel) -> StampProbe -> SurfacePump -> Compositor (headless EGL):
//   upload_surface() straight from pool memory, present()
//
// Why not RemoteDisplay itself: pool pixels are valid only inside the receiver's sink call, and
// RemoteDisplay owns its sink (SurfacePump) privately, so nothing outside it can see which pixels
// the host read. The harness composes the same receiver, pump and compositor and puts one
// decorator (StampProbe) between receiver and pump: after the pump uploaded a frame, it reads the
// stamp pixel from the pool memory the upload just read. The loop (turn()) is RemoteDisplay's
// pump_surfaces + present and Instance::run's sleep on the doorbells, minus the RDP framebuffer
// (the guest sends this window's pixels as a surface; RDP pixels land in a NullSink), and with
// two workarounds for defects reported to the lead (surface_host.cpp: the surface ring is armed
// here, not by SurfaceReceiver::prepare_sleep(), and sleeps are capped at 1 ms because the
// appserver does not ring the host for surface records).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "null_sink.hpp"
#include "vitrine/compositor/compositor.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/rdpmux/target.hpp"
#include "vitrine/ringbus/unique_fd.hpp"
#include "vitrine/viewer/surface_pump.hpp"
#include "vitrine/viewer/surface_receiver.hpp"

namespace vitrine::bench {

// What the host last uploaded of one window: the stamp pixel's value as read from the pool.
struct SeenStamp {
  std::uint32_t stamp = 0;  // low 24 bits of pixel (x, y): 0x00RRGGBB
  std::uint64_t sequence = 0;  // the Present's sequence number
  std::chrono::steady_clock::time_point at{};  // right after the upload returned
  // CLOCK_MONOTONIC ns: the appserver's Present (SurfaceFrame::damage_ns, the guest's clock,
  // which is this machine's: no VM here) and the host's read of it (SurfaceFrame::read_ns).
  std::uint64_t presented_ns = 0;
  std::uint64_t read_ns = 0;
};

// Between the receiver and the pump: forwards everything; after an upload of `window` whose
// damage covers (x, y), records that pixel from the frame's pool memory.
class StampProbe final : public viewer::SurfaceSink {
 public:
  StampProbe(viewer::SurfacePump& pump, std::uint32_t window, std::int32_t x, std::int32_t y)
      : pump_(pump), window_(window), x_(x), y_(y) {}
  bool surface_attached(std::uint32_t window, std::uint32_t width, std::uint32_t height) override {
    return pump_.surface_attached(window, width, height);
  }
  void surface_presented(std::uint32_t window, const viewer::SurfaceFrame& frame) override;
  void surface_detached(std::uint32_t window) override { pump_.surface_detached(window); }
  [[nodiscard]] const SeenStamp& seen() const { return seen_; }

 private:
  viewer::SurfacePump& pump_;
  std::uint32_t window_;
  std::int32_t x_, y_;
  SeenStamp seen_;
};

// Where the stamp is: `window`'s pixel (x, y) in window coordinates, which is desktop pixel
// (desktop_x + x, desktop_y + y) of the RDP framebuffer (RemoteApp: desktop = guest screen).
struct StampSpot {
  std::uint32_t window = 0;
  std::int32_t x = 0, y = 0;
  std::int32_t desktop_x = 0, desktop_y = 0;
};

struct SurfaceHostCounters {
  viewer::SurfaceCounters receiver;
  viewer::SurfacePumpStats pump;
  compositor::CompositorStats compositor;
  rdpmux::host::ClientStats rdp;  // RDP paints: the surface window must need none
};

class SurfaceHost : private testing::NullSink {
 public:
  // Connects RemoteApp to the guest's server at `target` through the bus (`bus`: host side
  // with a surface pool, `wake_guest`/`wake_host`: its doorbell fds, duplicated here) and reads
  // surfaces; the probe watches `spot`. Creates the GL context on this thread.
  static std::expected<std::unique_ptr<SurfaceHost>, std::string> start(ringbus::Bus& bus, int wake_guest, int wake_host,
                                                                         const rdpmux::Target& target, const StampSpot& spot);
  ~SurfaceHost() override;
  SurfaceHost(const SurfaceHost&) = delete;
  SurfaceHost& operator=(const SurfaceHost&) = delete;

  // Runs the UI loop until `done()` or `timeout`; value: done() became true.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  [[nodiscard]] const SeenStamp& seen() const { return probe_->seen(); }
  // The stamp pixel as FreeRDP last decoded it into the desktop framebuffer (the RDP pixel path,
  // for the --no-surfaces baseline); the UI loop wakes when it changes.
  [[nodiscard]] std::uint32_t rdp_stamp() const { return rdp_stamp_.load(std::memory_order_acquire); }
  rdpmux::host::RdpClient& client() { return *client_; }
  // Windows the UI loop created on the host so far (the launch cases wait for the next one).
  [[nodiscard]] std::uint64_t windows_created() const { return windows_created_; }
  SurfaceHostCounters counters() const;

 private:
  SurfaceHost() = default;
  // One turn of the UI loop: sleep on the doorbells (at most `sleep`, none while work waits),
  // then window events, surface records (uploads), present, control messages.
  void turn(std::chrono::milliseconds sleep);
  void apply_window_events();
  // Arms the surface ring for sleeping; false when records wait (see surface_host.cpp).
  bool surfaces_idle();

  // rdpmux::host::WindowEvents (FreeRDP's session thread): queued for the UI thread.
  void window_created(const rdpmux::host::WindowState& state) override;
  void window_changed(const rdpmux::host::WindowState& state, std::uint32_t what) override;
  void window_deleted(rdpmux::host::WindowId id) override;
  // rdpmux::host::DisplaySink (session thread): reads the stamp pixel of each decoded paint.
  void damaged(const rdpmux::host::FramebufferView& fb, std::span<const rdpmux::host::DesktopRect> rects) override;
  void wake_ui();

  struct WindowEvent {
    rdpmux::host::WindowId id = 0;
    rdpmux::host::DesktopRect frame;
    bool shown = false;
    bool deleted = false;
  };

  ringbus::Bus* bus_ = nullptr;
  std::unique_ptr<rdpmux::HostMux> mux_;
  std::unique_ptr<compositor::Compositor> compositor_;
  std::unique_ptr<viewer::SurfacePump> pump_;
  std::unique_ptr<StampProbe> probe_;
  std::unique_ptr<viewer::SurfaceReceiver> receiver_;
  std::unique_ptr<rdpmux::host::ConnectionBridge> bridge_;
  std::unique_ptr<rdpmux::host::RdpClient> client_;
  ringbus::UniqueFd events_fd_;  // eventfd: the session thread queued window events
  std::mutex mutex_;
  std::vector<WindowEvent> events_;  // under mutex_
  std::uint64_t windows_created_ = 0;  // UI thread
  bool more_ = false;  // the receiver or the mux stopped at a budget: do not sleep
  StampSpot spot_;
  std::atomic<std::uint32_t> rdp_stamp_{0};
};

}  // namespace vitrine::bench
