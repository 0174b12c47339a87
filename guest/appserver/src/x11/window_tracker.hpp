// Tracks every top-level window of the X screen (children of the root window), override-
// redirect popups, menus and tooltips included: map, unmap, configure (position, size,
// stacking), reparent, destroy, and the properties the client shows (title, icon, owner,
// type, WM_CLASS, WM_PROTOCOLS). Session thread only.
//
// The tracker holds the current state only; each RDP session diffs it against what it last
// sent, so a reconnecting client simply starts from an empty "sent" state.
#pragma once

#include <X11/Xlib.h>

#include <functional>
#include <map>
#include <vector>

#include "../geometry.hpp"
#include "window_info.hpp"
#include "x_display.hpp"

namespace vitrine::appserver::x11 {

class WindowTracker {
 public:
  // Called when a window starts or stops being shown, or when its frame changes: the capture
  // layer moves its per-window damage tracking with it.
  using ShownChanged = std::function<void(const WindowInfo& info, bool shown)>;

  explicit WindowTracker(XDisplay& display);

  // Selects SubstructureNotify on the root and adopts the windows that exist already.
  void start(ShownChanged on_shown_changed);

  // Returns true when the event was about a tracked window (consumed).
  bool handle_event(const XEvent& ev);

  [[nodiscard]] const std::map<Window, WindowInfo>& windows() const { return windows_; }
  [[nodiscard]] const WindowInfo* find(Window w) const;
  // Shown windows, bottom to top.
  [[nodiscard]] std::vector<Window> stacking() const;
  [[nodiscard]] Window active() const { return active_; }
  // Bumped whenever anything a client could see changed (state, stacking, focus).
  [[nodiscard]] uint64_t generation() const { return generation_; }

  // Desktop areas whose pixels changed because windows appeared, moved, resized or vanished
  // (not reported by per-window damage). The caller drains it.
  [[nodiscard]] DamageRegion& exposed() { return exposed_; }

  // State the appserver itself decides (no window manager in the guest).
  void set_minimized(Window w, bool minimized);
  void set_maximized(Window w, bool maximized, const Rect& restore_frame);
  void set_active(Window w);

 private:
  void adopt(Window w);
  void forget(Window w);
  void read_properties(WindowInfo& info, Atom which);
  void refresh_stacking();
  void note_shown_change(WindowInfo& info, bool was_shown, const Rect& old_frame);

  XDisplay& display_;
  ShownChanged on_shown_changed_;
  std::map<Window, WindowInfo> windows_;
  std::vector<Window> stacking_;  // every tracked window, bottom to top
  Window active_ = 0;
  uint64_t generation_ = 1;
  DamageRegion exposed_;
};

}  // namespace vitrine::appserver::x11
