// RemoteDisplay: where rdpmux meets the compositor. It is the DisplaySink and WindowEvents of an
// RDP RemoteApp session (called on FreeRDP's session thread) and drives a Compositor that lives
// on the UI thread (the thread that created the RemoteDisplay and calls dispatch()).
//
// It composes the viewer's parts (viewer/src, docs/viewer.md), one job each: FramePump (the
// hand-off below, framebuffers, damage and surfaces -> uploads -> present), WindowMirror (window
// orders -> the compositor's scene, the window pixel budget, the shown-window table),
// InputForwarder (host input -> GuestInput) and StageClock (the stage latencies).
//
//   session thread                          UI thread (poll(wake_fds()) -> dispatch())
//   framebuffer_writes_begin()  -- lock --   apply events, comp->damage(rects)
//     FreeRDP decodes into fb                present(): try_lock -> upload the damage from fb
//     damaged(fb, rects) --post, go on-->        -> unlock; draw and swap (no lock held)
//     window events      --post, go on-->    busy (the session writes): upload on the next
//   framebuffer_writes_end()  -- unlock,      dispatch, which the unlock wakes
//                               wake if the UI thread skipped an upload --> 
//
// Nothing waits for a paint. FreeRDP writes the framebuffer only inside
// freerdp_check_event_handles, which rdpmux brackets with framebuffer_writes_begin/end; the UI
// thread copies damage out of the framebuffer (Compositor::upload) only while it holds the same
// lock, taken with try_lock, so neither thread ever waits for the other's GPU work: the session
// thread waits at most for one upload's copy, the UI thread never. No torn upload (a decode and
// an upload never overlap), no race for TSan. Window events are values, applied in order.
// Only a framebuffer FreeRDP allocated itself (ours could not be) still waits until the UI
// thread moved to it: FreeRDP frees the previous one on its own schedule.
//
// Framebuffer memory is shared, never lent: provide_framebuffer() allocates on the session
// thread (it does not wait for the UI thread) and both threads hold a reference, the session
// until FreeRDP asks for the next one, the UI thread until it has moved to the next one. So an
// event applied late shows an older frame until its damage is uploaded, but never reads or hands
// FreeRDP freed memory (it used to: a late provide_framebuffer answered with the previous
// buffer, which the UI thread then freed under FreeRDP).
//
// Host input (X11 backend) goes back to the guest through GuestInput, from the UI thread; its
// implementations only queue (RdpClient/RemoteSession input methods never block).
//
// Guest UI cannot pass for host UI: every host window carries the VM's label (options.label:
// border + title prefix), popups stay on their owner's monitor, a window covering a monitor
// always shows the border, and the guest takes host focus only right after host input to this
// VM (FocusPolicy; refusals in stats().activations_refused).
//
// shutdown() releases any waiting callback and turns later ones into no-ops; call it before
// stopping the RDP session so that its thread cannot wait for a UI thread that is gone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vitrine/compositor/compositor.hpp"
#include "vitrine/perf/histogram.hpp"
#include "vitrine/rdpmux/clock_sync.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/display_sink.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/viewer/guest_input.hpp"
#include "vitrine/viewer/surface_pump.hpp"
#include "vitrine/viewer/surface_receiver.hpp"

namespace vitrine::compositor {
class HeadlessBackend;
class X11Backend;
}  // namespace vitrine::compositor

namespace vitrine::ringbus {
class Bus;
}

namespace vitrine::viewer {

class FocusPolicy;
class FramePump;
class InputForwarder;
class StageClock;
class WindowMirror;

struct RemoteDisplayOptions {
  bool headless = false;                  // off-screen (EGL surfaceless); else X11 on x_display
  std::string x_display;                  // empty: $DISPLAY
  std::filesystem::path screenshot_dir;   // headless: PNGs of the windows go here (may be empty)
  // Screenshots are rewritten once the windows have been quiet this long after a change.
  std::chrono::milliseconds screenshot_quiet{400};
  // A session-thread callback gives up waiting for the UI thread after this long (logged).
  std::chrono::milliseconds callback_timeout{5000};
  // Host memory for windows: the most pixels (width x height, summed) of host windows / surfaces
  // (headless: renderbuffers) at once; windows past it wait unshown (compositor.hpp, "Window
  // pixel budget"). 0: kDefaultBudgetDesktops x the larger of the host desktop (X11 screen) and the
  // session's desktop (the framebuffer; kFallbackDesktopPixels until the first one).
  std::uint64_t max_window_pixels = 0;
  static constexpr std::uint64_t kDefaultBudgetDesktops = 4;
  static constexpr std::uint64_t kFallbackDesktopPixels = 1920 * 1080;
  // The VM's label on every host window (compositor/window_label.hpp): a border in its colour and
  // a title prefix, so that no guest window passes for a host one. cli sets it from the VM
  // config's [display] table; the guard (window_guard.hpp) forces the border on windows that
  // cover a monitor even at border_px = 0.
  compositor::WindowLabel label{.title_prefix = "[vm] ", .rgb = kDefaultLabelRgb, .border_px = 2};
  static constexpr std::uint32_t kDefaultLabelRgb = 0xcc0000u;
  // A guest activation takes host focus only this soon after a key or button press forwarded to
  // this VM (FocusPolicy); later ones only ask for attention.
  std::chrono::milliseconds focus_grace{1000};
};

// One window as the host shows it (for `vitrine stats`, tests and the screenshot index).
struct DisplayedWindow {
  rdpmux::host::WindowId id = 0;
  std::string title;
  rdpmux::host::DesktopRect frame;
  bool visible = false;           // the guest shows it
  std::uint64_t x11_window = 0;  // X window id on the host display (0 headless, or over budget)
  // Waits for the window pixel budget: no host window yet (not shown), or shown at an older size.
  bool over_budget = false;
};

struct RemoteDisplayStats {
  std::uint64_t callbacks = 0;          // session-thread callbacks applied
  std::uint64_t callback_timeouts = 0;  // callbacks that stopped waiting for the UI thread
  std::uint64_t paints = 0;             // damaged() calls
  std::uint64_t uploads_deferred = 0;   // presents that found FreeRDP writing the framebuffer
  std::uint64_t presents = 0;
  std::uint64_t posts_waited = 0;       // session posts that waited for room (queue at its cap)
  std::uint64_t turns_cut = 0;          // UI turns that left session events for the next turn
  std::uint64_t refused = 0;            // window requests the compositor refused (logged)
                                        // (window pixel budget: compositor.over_budget)
  std::uint64_t screenshots = 0;        // PNG files written
  std::uint64_t input_events = 0;       // host input forwarded to the guest
  std::uint64_t activations = 0;        // guest activations that took host focus (host input just before)
  std::uint64_t activations_refused = 0;  // guest activations without host input: urgency only
  compositor::CompositorStats compositor;
  bool surfaces = false;                // the display reads bus surfaces
  SurfaceCounters surface;
  SurfacePumpStats surface_pump;
};

class RemoteDisplay final : public rdpmux::host::DisplaySink, public rdpmux::host::WindowEvents {
 public:
  // Creates the backend and the compositor on the calling thread, which becomes the UI thread.
  static std::expected<std::unique_ptr<RemoteDisplay>, std::string> create(const RemoteDisplayOptions& options);
  ~RemoteDisplay() override;
  RemoteDisplay(const RemoteDisplay&) = delete;
  RemoteDisplay& operator=(const RemoteDisplay&) = delete;

  // Application windows the guest created so far (no owner, not a popup or tool window): what a
  // launch waits for (the click-to-window time). Any thread.
  [[nodiscard]] std::uint64_t top_level_windows_created() const {
    return top_level_created_.load(std::memory_order_relaxed);
  }
  // Where host input goes (nullptr: dropped). UI thread.
  void set_guest_input(GuestInput* input);
  // File descriptors the UI loop polls for POLLIN before calling dispatch() (event queue, X).
  std::vector<int> wake_fds() const;
  // UI thread: applies queued session events, presents, handles host input, and writes
  // headless screenshots when the windows have settled. Never blocks for long.
  void dispatch();
  // Any thread: releases waiting callbacks; later callbacks return at once.
  void shutdown();

  // ---- Surfaces (FramePump) --------------------------------------------------------------------
  // UI thread: windows' pixels from the bus's surface pool (bus: host side, with a pool; it and
  // the pass-on outlive the display). Announces the host to the guest (HostReady).
  // `guest_clock`: the guest's clock estimate (HostMux::clock_estimate) for the surface stages
  // that start in the guest.
  std::expected<void, std::string> enable_surfaces(ringbus::Bus& bus, std::function<void(std::uint32_t)> pass_on,
                                                   std::function<std::optional<rdpmux::ClockEstimate>()> guest_clock);
  // UI thread, before sleeping on wake_fds(): false when surface records wait (do not sleep).
  bool prepare_sleep();
  // Per window: which path carries its pixels ("surface" or "rdp"), for `vitrine stats`.
  std::vector<std::pair<std::uint32_t, std::string>> pixel_paths() const;
  // UI thread: writes one PNG per visible window plus windows.json into `dir` now.
  std::expected<std::vector<std::filesystem::path>, std::string> write_screenshots(const std::filesystem::path& dir);

  // Host-side stage latencies (perf::StageTelemetry), measured per paint:
  //   kHostReadToPaint  the first server bytes since the last paint handed to FreeRDP's socket
  //                     (bridge_tap()) -> damaged() (FreeRDP read, decoded and painted them)
  //   kPaintToUpload    damaged() called on the session thread -> the UI thread starts present()
  //                     (the hand-off and the window orders applied before it)
  //   kUploadToPresent  present(): damaged rectangles uploaded, windows drawn and swapped
  // and from the guest's stamps (guest_stamp(), kFeatureTimestamps):
  //   kGuestReceiveToCommit  the relay's receive -> its ring commit (guest clock alone)
  //   kCommitToHostRead      ring commit -> the host's bridge read the record (clock-synced)
  //   kEndToEnd              the relay received the first bytes of a paint -> that paint presented
  const perf::StageTelemetry& telemetry() const;
  // One stamped record (HostMuxOptions::on_stamp). Any thread, one at a time (the connection's
  // reader, the bridge thread).
  void guest_stamp(const rdpmux::GuestStamp& stamp);
  // The tap to give the RDP connection's bridge (RemoteSessionConfig::tap) for kHostReadToPaint.
  std::shared_ptr<rdpmux::host::BridgeTap> bridge_tap() const;

  // Any thread.
  std::vector<DisplayedWindow> windows() const;
  RemoteDisplayStats stats() const;
  bool headless() const { return headless_ != nullptr; }

  // ---- rdpmux::host::DisplaySink (session thread) ---------------------------------------------
  std::span<std::byte> provide_framebuffer(std::uint32_t width, std::uint32_t height, std::uint32_t stride) override;
  void framebuffer_changed(const rdpmux::host::FramebufferView& framebuffer) override;
  void framebuffer_writes_begin() override;
  void framebuffer_writes_end() override;
  void damaged(const rdpmux::host::FramebufferView& framebuffer,
               std::span<const rdpmux::host::DesktopRect> rects) override;

  // ---- rdpmux::host::WindowEvents (session thread) --------------------------------------------
  void window_created(const rdpmux::host::WindowState& state) override;
  void window_changed(const rdpmux::host::WindowState& state, std::uint32_t what) override;
  void window_deleted(rdpmux::host::WindowId id) override;
  void z_order_changed(std::span<const rdpmux::host::WindowId> top_to_bottom) override;
  void active_window_changed(rdpmux::host::WindowId id) override;
  void notify_icon_changed(const rdpmux::host::NotifyIconState& state) override;
  void notify_icon_deleted(rdpmux::host::WindowId window, std::uint32_t icon_id) override;
  void local_move_size(const rdpmux::host::LocalMoveSize& request) override;

 private:
  explicit RemoteDisplay(const RemoteDisplayOptions& options);
  // UI thread: applies one session event through the parts that own its state (remote_display.cpp).
  struct EventApplier;
  void maybe_write_screenshots();

  RemoteDisplayOptions options_;
  // Declared before the compositor: the X11 backend sends it input until the compositor goes.
  std::unique_ptr<FocusPolicy> focus_;
  std::unique_ptr<InputForwarder> input_;
  std::unique_ptr<StageClock> clock_;
  std::unique_ptr<compositor::Compositor> compositor_;
  compositor::HeadlessBackend* headless_ = nullptr;  // owned by compositor_
  compositor::X11Backend* x11_ = nullptr;            // owned by compositor_
  std::unique_ptr<WindowMirror> mirror_;
  std::unique_ptr<FramePump> pump_;

  // Headless screenshots (UI thread).
  bool shots_dirty_ = false;
  std::chrono::steady_clock::time_point last_change_{};
  std::atomic<std::uint64_t> screenshots_{0};  // a counter for stats(): relaxed
  std::atomic<std::uint64_t> top_level_created_{0};  // top_level_windows_created(): relaxed
};

}  // namespace vitrine::viewer
