// RemoteDisplay: where rdpmux meets the compositor. It is the DisplaySink and WindowEvents of an
// RDP RemoteApp session (called on FreeRDP's session thread) and drives a Compositor that lives
// on the UI thread (the thread that created the RemoteDisplay and calls dispatch()).
//
//   session thread                         UI thread (poll(wake_fds()) -> dispatch())
//   damaged(fb, rects) --post, wait-->     apply events, comp->damage(rects), present()
//                     <--applied--------   (uploads read fb while the session thread waits)
//   window events, framebuffer_changed     applied in order with the next dispatch
//                      --post, go on-->
//
// A paint waits until it has been applied and presented. That hand-shake is what makes the
// framebuffer safe to share without a copy: FreeRDP changes pixels only on the session thread
// and only between callbacks, so while a paint waits the UI thread reads a stable frame (no torn
// uploads, no race for TSan to find). Window events are values: they are posted and the session
// thread goes on; they are applied, in order, before the paint that follows them.
//
// Framebuffer memory is shared, never lent: provide_framebuffer() allocates on the session
// thread (it does not wait for the UI thread) and both threads hold a reference, the session
// until FreeRDP asks for the next one, the UI thread until it has moved to the next one. So a
// callback that stopped waiting (callback_timeout) and is applied late can show a stale or
// torn frame until the next damage repairs it, but never reads or hands FreeRDP freed memory
// (it used to: a late provide_framebuffer answered with the previous buffer, which the UI
// thread then freed under FreeRDP). The cost is one thread hand-off per paint (tens of
// microseconds), which the RDP update path already amortizes over whole PDUs.
//
// Host input (X11 backend) goes back to the guest through GuestInput, from the UI thread; its
// implementations only queue (RdpClient/RemoteSession input methods never block).
//
// shutdown() releases any waiting callback and turns later ones into no-ops; call it before
// stopping the RDP session so that its thread cannot wait for a UI thread that is gone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <expected>

#include "vitrine/compositor/compositor.hpp"
#include "vitrine/compositor/input_sink.hpp"
#include "vitrine/perf/histogram.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host_mux.hpp"
#include "vitrine/rdpmux/host/display_sink.hpp"
#include "vitrine/rdpmux/host/input.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"
#include "vitrine/ringbus/unique_fd.hpp"
#include "vitrine/viewer/surface_pump.hpp"
#include "vitrine/viewer/surface_receiver.hpp"

namespace vitrine::compositor {
class HeadlessBackend;
class X11Backend;
}  // namespace vitrine::compositor

namespace vitrine::cli {

// What host input the display forwards to the guest (RdpClient and RemoteSession both fit,
// through GuestInputOf below). Called on the UI thread; must not block.
class GuestInput {
 public:
  virtual ~GuestInput() = default;
  virtual void key(rdpmux::host::Scancode code, bool down) = 0;
  virtual void mouse_move(rdpmux::host::DesktopPoint at) = 0;
  virtual void mouse_button(rdpmux::host::MouseButton button, bool down, rdpmux::host::DesktopPoint at) = 0;
  virtual void wheel(rdpmux::host::WheelAxis axis, int delta, rdpmux::host::DesktopPoint at) = 0;
  virtual void activate(rdpmux::host::WindowId window, bool active) = 0;
  virtual void system_command(rdpmux::host::WindowId window, rdpmux::host::SystemCommand command) = 0;
  virtual void window_move(rdpmux::host::WindowId window, rdpmux::host::DesktopRect frame) = 0;
};

template <typename Client>
class GuestInputOf final : public GuestInput {
 public:
  explicit GuestInputOf(Client& client) : client_(client) {}
  void key(rdpmux::host::Scancode code, bool down) override { client_.key(code, down); }
  void mouse_move(rdpmux::host::DesktopPoint at) override { client_.mouse_move(at); }
  void mouse_button(rdpmux::host::MouseButton b, bool down, rdpmux::host::DesktopPoint at) override {
    client_.mouse_button(b, down, at);
  }
  void wheel(rdpmux::host::WheelAxis axis, int delta, rdpmux::host::DesktopPoint at) override {
    client_.wheel(axis, delta, at);
  }
  void activate(rdpmux::host::WindowId w, bool active) override { client_.activate(w, active); }
  void system_command(rdpmux::host::WindowId w, rdpmux::host::SystemCommand c) override {
    client_.system_command(w, c);
  }
  void window_move(rdpmux::host::WindowId w, rdpmux::host::DesktopRect frame) override {
    client_.window_move(w, frame);
  }

 private:
  Client& client_;
};

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
  void on_guest_stamp(std::uint64_t read_ns, std::uint64_t guest_receive_ns) {
    constexpr std::uint64_t kPeekToWriteSlack = 200'000;
    const std::uint64_t first = first_unpainted_ns_.load(std::memory_order_relaxed);
    if (first == 0 || read_ns + kPeekToWriteSlack < first) return;
    std::uint64_t none = 0;
    first_guest_receive_ns_.compare_exchange_strong(none, guest_receive_ns, std::memory_order_relaxed);
  }
  Taken take() {
    return {first_unpainted_ns_.exchange(0, std::memory_order_relaxed),
            first_guest_receive_ns_.exchange(0, std::memory_order_relaxed)};
  }

 private:
  std::atomic<std::uint64_t> first_unpainted_ns_{0};
  std::atomic<std::uint64_t> first_guest_receive_ns_{0};
};

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
  std::uint64_t presents = 0;
  std::uint64_t refused = 0;            // window requests the compositor refused (logged)
                                        // (window pixel budget: compositor.over_budget)
  std::uint64_t screenshots = 0;        // PNG files written
  std::uint64_t input_events = 0;       // host input forwarded to the guest
  compositor::CompositorStats compositor;
  bool surfaces = false;                // the display reads bus surfaces
  viewer::SurfaceCounters surface;
  viewer::SurfacePumpStats surface_pump;
};

class RemoteDisplay final : public rdpmux::host::DisplaySink,
                            public rdpmux::host::WindowEvents,
                            private compositor::InputSink {
 public:
  // Creates the backend and the compositor on the calling thread, which becomes the UI thread.
  static std::expected<std::unique_ptr<RemoteDisplay>, std::string> create(const RemoteDisplayOptions& options);
  ~RemoteDisplay() override;
  RemoteDisplay(const RemoteDisplay&) = delete;
  RemoteDisplay& operator=(const RemoteDisplay&) = delete;

  // Where host input goes (nullptr: dropped). UI thread.
  void set_guest_input(GuestInput* input) { input_ = input; }
  // File descriptors the UI loop polls for POLLIN before calling dispatch() (event queue, X).
  std::vector<int> wake_fds() const;
  // UI thread: applies queued session events, presents, handles host input, and writes
  // headless screenshots when the windows have settled. Never blocks for long.
  void dispatch();
  // Any thread: releases waiting callbacks; later callbacks return at once.
  void shutdown();

  // ---- Surfaces (remote_display_surfaces.cpp) --------------------------------------------------
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
  const perf::StageTelemetry& telemetry() const { return telemetry_; }
  // One stamped record (HostMuxOptions::on_stamp). Any thread, one at a time (the connection's
  // reader, the bridge thread).
  void guest_stamp(const rdpmux::GuestStamp& stamp);
  // The tap to give the RDP connection's bridge (RemoteSessionConfig::tap) for kHostReadToPaint.
  std::shared_ptr<rdpmux::host::BridgeTap> bridge_tap() const { return read_clock_; }

  // Any thread.
  std::vector<DisplayedWindow> windows() const;
  RemoteDisplayStats stats() const;
  bool headless() const { return headless_ != nullptr; }

  // ---- rdpmux::host::DisplaySink (session thread) ---------------------------------------------
  std::span<std::byte> provide_framebuffer(std::uint32_t width, std::uint32_t height, std::uint32_t stride) override;
  void framebuffer_changed(const rdpmux::host::FramebufferView& framebuffer) override;
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
  // Framebuffer memory with shared ownership (see the header comment): 64-byte aligned, freed
  // when the last of the session thread and the UI thread lets go of it.
  using SharedPixels = std::shared_ptr<std::byte>;
  struct FramebufferChanged {
    rdpmux::host::FramebufferView view;
    SharedPixels owner;  // null: FreeRDP's own memory (the session waited for this event)
  };
  struct Damage {
    std::vector<rdpmux::host::DesktopRect> rects;
    std::uint64_t posted_ns = 0;  // perf::monotonic_ns() on the session thread
    std::uint64_t read_ns = 0;    // HostReadClock: first bytes for this paint reached FreeRDP (0: unknown)
    std::uint64_t guest_receive_ns = 0;  // HostReadClock: the guest relay received them (0: unknown)
  };
  struct Created {
    rdpmux::host::WindowState state;
  };
  struct Changed {
    rdpmux::host::WindowState state;
    std::uint32_t what;
  };
  struct Deleted {
    rdpmux::host::WindowId id;
  };
  struct ZOrder {
    std::vector<rdpmux::host::WindowId> top_to_bottom;
  };
  struct Active {
    rdpmux::host::WindowId id;
  };
  using Event = std::variant<FramebufferChanged, Damage, Created, Changed, Deleted, ZOrder, Active>;

  RemoteDisplay() = default;
  // Session thread: queues `event` (and wakes the UI thread); returns its sequence number, 0
  // after shutdown. The caller holds `lock` on mutex_.
  std::uint64_t post_locked(Event event, std::unique_lock<std::mutex>& lock);
  // Session thread: queues `event` and goes on.
  void post(Event event);
  // Session thread: queues `event` and waits until the UI thread applied it (or shutdown/timeout).
  void post_and_wait(Event event);
  void apply(Event& event);
  void apply_window(const rdpmux::host::WindowState& state, std::uint32_t what, bool created);
  // After window events while windows wait for the budget: over_budget / x11_window of every
  // window (a close may have admitted others).
  void refresh_budget_flags();
  void set_auto_budget();
  void present();
  // Surfaces: one budgeted turn of the receiver (dispatch), the telemetry after a present.
  void pump_surfaces();
  void surface_presented(std::uint64_t present_start_ns);
  void maybe_write_screenshots();
  compositor::PixelSource source() const;

  // compositor::InputSink (UI thread, from X11Backend::dispatch_events).
  void on_key(const compositor::KeyEvent& event) override;
  void on_pointer_motion(const compositor::PointerEvent& event) override;
  void on_button(const compositor::ButtonEvent& event) override;
  void on_wheel(const compositor::WheelEvent& event) override;
  void on_focus(compositor::WindowId window, bool focused) override;
  void on_move_resize(compositor::WindowId window, const compositor::DesktopRect& rect) override;
  void on_close_request(compositor::WindowId window) override;
  void on_state_request(compositor::WindowId window, compositor::WindowState state) override;

  RemoteDisplayOptions options_;
  std::unique_ptr<compositor::Compositor> compositor_;
  compositor::HeadlessBackend* headless_ = nullptr;  // owned by compositor_
  compositor::X11Backend* x11_ = nullptr;            // owned by compositor_
  GuestInput* input_ = nullptr;
  ringbus::UniqueFd wake_;  // eventfd: the session thread posted events
  std::shared_ptr<HostReadClock> read_clock_ = std::make_shared<HostReadClock>();

  // Session thread <-> UI thread.
  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  std::deque<std::pair<std::uint64_t, Event>> queue_;
  std::uint64_t posted_ = 0;
  std::uint64_t applied_ = 0;
  bool shut_down_ = false;
  SharedPixels session_fb_;  // session thread: the memory FreeRDP was last given
  RemoteDisplayStats stats_;
  std::unordered_map<rdpmux::host::WindowId, DisplayedWindow> shown_;

  // UI thread only.
  SharedPixels fb_owner_;  // keeps fb_.pixels alive while fb_ points into our memory
  rdpmux::host::FramebufferView fb_{};
  bool need_present_ = false;
  std::uint64_t oldest_paint_ns_ = 0;  // the first paint waiting for the next present (0: none)
  std::uint64_t oldest_guest_receive_ns_ = 0;  // its guest receive time (0: unknown)
  // The UI thread writes the host stages, the connection's reader the two guest stages:
  // one writer per histogram.
  perf::StageTelemetry telemetry_;
  bool shots_dirty_ = false;
  std::chrono::steady_clock::time_point last_change_{};
  std::uint64_t host_desktop_pixels_ = 0;  // X11 screen (0 headless)

  // Guest-caused refusals are logged once per window and kind, and at most kLinesPerSecond lines
  // a second: a guest that opens windows in a loop cannot flood the log. The counters count all.
  // UI thread only.
  class RefusalLog {
   public:
    enum class Kind : std::uint8_t { kRequest, kBudget };
    static constexpr std::uint32_t kLinesPerSecond = 4;
    // True when a line for (window, kind) is to be written now; `unlogged` is then set to the
    // refusals not written since the last line.
    bool take(rdpmux::host::WindowId id, Kind kind, std::uint64_t& unlogged);
    void forget(rdpmux::host::WindowId id);

   private:
    std::set<std::pair<rdpmux::host::WindowId, Kind>> logged_;
    std::chrono::steady_clock::time_point second_{};
    std::uint32_t lines_ = 0;
    std::uint64_t unlogged_ = 0;
  };
  RefusalLog refusal_log_;

  // Surfaces (UI thread; the counters reach stats() through stats_ under mutex_).
  std::unique_ptr<viewer::SurfacePump> surface_pump_;
  std::unique_ptr<viewer::SurfaceReceiver> surface_receiver_;
  bool surfaces_more_ = false;  // the receiver stopped at its budget: do not sleep
  std::function<std::optional<rdpmux::ClockEstimate>()> guest_clock_;
  std::set<std::uint32_t> surface_windows_;  // under mutex_: windows painted from surfaces
};

}  // namespace vitrine::cli
