// FramePump: pixels from the session to the screen. It owns the session -> UI thread hand-off
// (a queue of values and an eventfd; RemoteDisplay's header tells which posts wait and why), the
// framebuffer memory FreeRDP decodes into, the compositor's damage and present, and the surface
// path (SurfaceReceiver -> SurfacePump: window pixels straight from the bus's surface pool).
//
// Threads: the session-thread methods are marked; shutdown(), the wake fds, stats() and
// surface_windows() may be called from any thread; everything else runs on the UI thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "stage_clock.hpp"
#include "vitrine/compositor/compositor.hpp"
#include "vitrine/rdpmux/host/display_sink.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"
#include "vitrine/ringbus/unique_fd.hpp"
#include "vitrine/viewer/surface_pump.hpp"
#include "vitrine/viewer/surface_receiver.hpp"

namespace vitrine::ringbus {
class Bus;
}

namespace vitrine::viewer {

// What the session thread hands to the UI thread, in order.
namespace session_event {
// Framebuffer memory with shared ownership (see RemoteDisplay's header): 64-byte aligned, freed
// when the last of the session thread and the UI thread lets go of it.
using SharedPixels = std::shared_ptr<std::byte>;
struct FramebufferChanged {
  rdpmux::host::FramebufferView view;
  SharedPixels owner;  // null: FreeRDP's own memory (the session waited for this event)
};
struct Damage {
  std::vector<rdpmux::host::DesktopRect> rects;
  std::uint64_t posted_ns = 0;  // base::monotonic_ns() on the session thread
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
}  // namespace session_event

struct FramePumpStats {
  std::uint64_t callbacks = 0;          // session-thread callbacks applied
  std::uint64_t callback_timeouts = 0;  // callbacks that stopped waiting for the UI thread
  std::uint64_t uploads_deferred = 0;   // presents that found FreeRDP writing the framebuffer
  std::uint64_t paints = 0;             // damaged() calls
  std::uint64_t presents = 0;
  // Session-thread posts that found kMaxQueued events waiting and waited for the UI thread
  // (a guest sending window orders faster than the host applies them is slowed down here).
  std::uint64_t posts_waited = 0;
  std::uint64_t turns_cut = 0;  // UI turns that left events for the next turn (time budget)
  compositor::CompositorStats compositor;
  bool surfaces = false;                // the display reads bus surfaces
  SurfaceCounters surface;
  SurfacePumpStats surface_pump;
};

class FramePump {
 public:
  using Event = session_event::Event;
  using Batch = std::deque<std::pair<std::uint64_t, Event>>;

  // `callback_timeout`: how long a waiting session-thread callback waits for the UI thread.
  static std::expected<std::unique_ptr<FramePump>, std::string> create(compositor::Compositor& compositor,
                                                                      StageClock& clock,
                                                                      std::chrono::milliseconds callback_timeout);
  FramePump(const FramePump&) = delete;
  FramePump& operator=(const FramePump&) = delete;

  // ---- session thread ----
  std::span<std::byte> provide_framebuffer(std::uint32_t width, std::uint32_t height, std::uint32_t stride);
  // Posted without waiting when the memory is ours, else waits until applied.
  void framebuffer_changed(const rdpmux::host::FramebufferView& framebuffer);
  // Posted; the session goes on (the upload waits for framebuffer_writes_end instead).
  void damaged(std::span<const rdpmux::host::DesktopRect> rects);
  // FreeRDP writes the framebuffer between these (see RemoteDisplay's header).
  void framebuffer_writes_begin();
  void framebuffer_writes_end();
  // Queues `event` and goes on.
  void post(Event event);

  // ---- any thread ----
  // Releases waiting callbacks; later posts return at once.
  void shutdown();
  // The hand-off's eventfd (readable: posts wait).
  int wake_fd() const { return wake_.get(); }
  // The surface receiver's doorbell (-1: surfaces off, or a doorbell without an fd).
  int surface_wake_fd() const;
  FramePumpStats stats() const;
  // Windows painted from surfaces (as of the last surface turn).
  std::set<std::uint32_t> surface_windows() const;

  // ---- UI thread ----
  // Clears the eventfd (the posts it announced are taken next).
  void drain_wake();
  // Takes up to `max` queued events (oldest first). What is left stays queued and the wake fd
  // is made readable again, so the UI loop comes back at once; a session thread waiting for
  // room is released.
  Batch take_queued(std::size_t max);
  // Returns events taken but not applied (the turn's time budget ran out) to the queue's front.
  // (The queue may then hold a little more than kMaxQueued; posts wait until it is below.)
  void put_back(Batch rest);
  // The events up to `last` (`count` of them) are applied and presented: wakes their waiters.
  void applied(std::uint64_t last, std::size_t count);
  // Moves to the session's new framebuffer (the previous one goes when the session let go too).
  void adopt_framebuffer(session_event::FramebufferChanged& changed);
  // The whole framebuffer / these rectangles need uploading.
  void damage_framebuffer();
  void damage(std::span<const rdpmux::host::DesktopRect> rects);
  void need_present() { need_present_ = true; }
  bool wants_present() const { return need_present_; }
  // Uploads the damage (unless the session is writing the framebuffer: then the next dispatch
  // does, woken by framebuffer_writes_end), draws and swaps; the stage clock gets the times.
  void present();

  // Surfaces: see RemoteDisplay::enable_surfaces / prepare_sleep.
  std::expected<void, std::string> enable_surfaces(ringbus::Bus& bus, std::function<void(std::uint32_t)> pass_on);
  bool prepare_sleep();
  // One budgeted turn of the surface receiver.
  // Returns true when a surface was uploaded (the windows changed).
  bool pump_surfaces();
  // The window exists in the compositor now / is about to go (a waiting surface attaches).
  void window_created(rdpmux::host::WindowId id);
  void window_deleted(rdpmux::host::WindowId id);
  // Drops the surface receiver and pump (before the compositor goes).
  void close_surfaces();

 private:
  FramePump(compositor::Compositor& compositor, StageClock& clock, std::chrono::milliseconds callback_timeout)
      : compositor_(compositor), clock_(clock), callback_timeout_(callback_timeout) {}
  // Session thread: queues `event` (and wakes the UI thread); returns its sequence number, 0
  // after shutdown. The caller holds `lock` on mutex_.
  std::uint64_t post_locked(Event event, std::unique_lock<std::mutex>& lock);
  // Session thread: queues `event` and waits until the UI thread applied it (or shutdown/timeout).
  void post_and_wait(Event event);
  compositor::PixelSource source() const;

  compositor::Compositor& compositor_;
  StageClock& clock_;
  const std::chrono::milliseconds callback_timeout_;
  ringbus::UniqueFd wake_;  // eventfd: the session thread posted events

  // Session thread <-> UI thread. The queue is bounded: a guest can send RAIL orders (window
  // creates, moves, deletes) far faster than the UI thread applies them, and an unbounded queue
  // grew to hundreds of thousands of events, all applied in one turn (0.9 s, bench_hostile).
  // Past kMaxQueued the session thread waits: back-pressure on the guest's RDP stream, never a
  // lost order.
  static constexpr std::size_t kMaxQueued = 4096;
  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  std::condition_variable room_cv_;  // the queue fell below kMaxQueued, or shutdown
  Batch queue_;
  std::uint64_t posted_ = 0;
  std::uint64_t applied_ = 0;
  bool shut_down_ = false;
  session_event::SharedPixels session_fb_;  // session thread: the memory FreeRDP was last given
  FramePumpStats stats_;                    // under mutex_
  std::set<std::uint32_t> surface_windows_;  // under mutex_: windows painted from surfaces

  // Held by the session thread while FreeRDP may write the framebuffer, by the UI thread
  // (try_lock) while it copies damage out of it.
  std::mutex fb_write_mutex_;
  std::atomic<bool> upload_deferred_{false};  // the UI thread found it held: wake it after

  // UI thread only.
  session_event::SharedPixels fb_owner_;  // keeps fb_.pixels alive while fb_ points into our memory
  rdpmux::host::FramebufferView fb_{};
  bool need_present_ = false;
  std::unique_ptr<SurfacePump> surface_pump_;
  std::unique_ptr<SurfaceReceiver> surface_receiver_;
  bool surfaces_more_ = false;  // the receiver stopped at its budget: do not sleep
  bool surface_windows_stale_ = false;  // a window came or went since surface_windows_ was taken
  std::uint64_t surface_churn_ = 0;     // the receiver's creates + destroys + drops + resets then
};

}  // namespace vitrine::viewer
