// The capture side of the appserver: everything it learns from the guest's X server, with no
// RDP in sight. Windows (WindowTracker), damaged pixels (DamageTracker + Composite
// redirection + PixelGrabber), the cursor (CursorWatcher), plus input injection and window
// actions, which act on the same connection. The RDP side (rdp/) reads from this; a future
// shared-surface path will read per-window damage and grab_window() instead of encoding.
// Session thread only.
#pragma once

#include <expected>
#include <map>
#include <memory>
#include <string>

#include "../geometry.hpp"
#include "cursor_watcher.hpp"
#include "damage_tracker.hpp"
#include "input_injector.hpp"
#include "pixel_grabber.hpp"
#include "window_actions.hpp"
#include "window_tracker.hpp"
#include "x_display.hpp"

namespace vitrine::appserver::x11 {

struct CaptureOptions {
  std::string display;  // empty: $DISPLAY
  bool use_shm = true;
  // Also keep damage per window, in window coordinates (window_damage()): the source for
  // per-window shared surfaces. The RDP path needs only the desktop damage.
  bool per_window_damage = false;
};

class X11Capture {
 public:
  static std::expected<std::unique_ptr<X11Capture>, std::string> open(const CaptureOptions& opts);
  ~X11Capture();
  X11Capture(const X11Capture&) = delete;
  X11Capture& operator=(const X11Capture&) = delete;

  // The X connection's fd: poll it, then call pump().
  [[nodiscard]] int fd() const { return display_->fd(); }
  // Drains queued X events into the trackers. Returns the number of events handled.
  int pump();
  void flush() { XFlush(display_->get()); }

  [[nodiscard]] Rect desktop() const { return {0, 0, display_->screen_width(), display_->screen_height()}; }
  [[nodiscard]] const WindowTracker& windows() const { return tracker_; }
  // Desktop-coordinate damage since the last take: what changed on the composited screen (root
  // window damage, which includes the server's own compositing of redirected windows), plus
  // areas exposed by windows appearing, moving or vanishing.
  [[nodiscard]] DamageRegion& damage() { return damage_; }
  // Per-window damage in window coordinates (CaptureOptions::per_window_damage), or nullptr.
  [[nodiscard]] DamageRegion* window_damage(Window w);
  // Marks the whole desktop damaged (a new client needs every pixel).
  void damage_all() { damage_.add(desktop()); }
  [[nodiscard]] const CursorWatcher& cursor() const { return cursor_; }
  [[nodiscard]] PixelGrabber& grabber() { return *grabber_; }
  [[nodiscard]] InputInjector& input() { return input_; }
  [[nodiscard]] WindowActions& actions() { return actions_; }
  [[nodiscard]] XDisplay& display() { return *display_; }
  [[nodiscard]] uint64_t events_handled() const { return events_; }

 private:
  X11Capture(std::unique_ptr<XDisplay> display, bool per_window_damage);
  void on_shown_changed(const WindowInfo& info, bool shown);

  std::unique_ptr<XDisplay> display_;
  WindowTracker tracker_;
  DamageTracker damage_tracker_;
  CursorWatcher cursor_;
  InputInjector input_;
  WindowActions actions_;
  std::unique_ptr<PixelGrabber> grabber_;
  DamageRegion damage_;
  bool per_window_damage_;
  std::map<Window, std::unique_ptr<DamageRegion>> window_damage_;
  uint64_t events_ = 0;
};

}  // namespace vitrine::appserver::x11
