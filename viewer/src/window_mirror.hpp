// WindowMirror: rdpmux's window state -> the compositor's scene. It applies the RAIL window orders
// (create, change, delete, z-order, activation) to the compositor, keeps the window pixel budget
// (its automatic size and the over-budget flags) and the table of shown windows that stats(),
// tests and the screenshots read. Guest-caused refusals are counted and logged, never fatal.
//
// Threads: every method but windows(), window_ids() and refused() runs on the UI thread (the
// compositor's); those three read under mutex_ from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vitrine/compositor/compositor.hpp"
#include "vitrine/rdpmux/host/display_sink.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"
#include "vitrine/viewer/remote_display.hpp"

namespace vitrine::compositor {
class X11Backend;
}

namespace vitrine::viewer {

class FocusPolicy;

class WindowMirror {
 public:
  // `x11`: the X11 backend (owned by the compositor) for host window ids; nullptr headless.
  // `max_window_pixels`: RemoteDisplayOptions::max_window_pixels (0: the automatic budget).
  // `focus`: whether an activation (or a new window) may take host focus now (outlives this).
  WindowMirror(compositor::Compositor& compositor, compositor::X11Backend* x11, std::uint64_t max_window_pixels,
               FocusPolicy& focus);

  // ---- UI thread ----
  // True while windows wait for the budget: after window events, refresh_budget_flags() then
  // (a close or a larger budget may have admitted them).
  bool waiting_for_budget() const { return compositor_.waiting_for_budget() != 0; }
  // A window order: creates the host window when it is new (`created`, or unknown to the
  // scene), else applies the fields named in `what` (rdpmux::host::changed bits). False when
  // the compositor refused to create it (nothing to present).
  bool apply(const rdpmux::host::WindowState& state, std::uint32_t what, bool created);
  // The guest deleted window `id`: its host window and its table entry go.
  void remove(rdpmux::host::WindowId id);
  void z_order(std::span<const rdpmux::host::WindowId> top_to_bottom);
  // The guest activated `id`: focus it if the user just interacted with this VM's windows
  // (FocusPolicy), else only ask for attention (urgency) and count the refusal.
  void activate(rdpmux::host::WindowId id);
  // The session's desktop (framebuffer) is known or changed: the automatic budget follows it.
  void desktop_changed(const rdpmux::host::FramebufferView& framebuffer);
  // over_budget / x11_window of every window.
  void refresh_budget_flags();

  // ---- any thread ----
  // Sorted by id.
  std::vector<DisplayedWindow> windows() const;
  // The shown windows' ids in table order.
  std::vector<rdpmux::host::WindowId> window_ids() const;
  // Window requests the compositor refused.
  std::uint64_t refused() const;

 private:
  // The default budget follows the larger desktop (see the .cpp).
  void set_auto_budget(std::uint64_t session_pixels);

  // Guest-caused refusals are logged once per window and kind, and at most kLinesPerSecond lines
  // a second: a guest that opens windows in a loop cannot flood the log. The counters count all.
  // UI thread only.
  class RefusalLog {
   public:
    enum class Kind : std::uint8_t { kRequest, kBudget, kFocus };
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

  compositor::Compositor& compositor_;
  compositor::X11Backend* x11_ = nullptr;
  FocusPolicy& focus_;
  std::uint64_t host_desktop_pixels_ = 0;  // X11 screen (0 headless)
  RefusalLog refusal_log_;

  mutable std::mutex mutex_;
  std::unordered_map<rdpmux::host::WindowId, DisplayedWindow> shown_;  // under mutex_
  std::uint64_t refused_ = 0;                                           // under mutex_
};

}  // namespace vitrine::viewer
