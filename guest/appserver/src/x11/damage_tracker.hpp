// XDamage per shown top-level window. Reports damaged rectangles in window coordinates, so the
// consumer decides where they go: the RDP encoder maps them onto the desktop, a future
// shared-surface path onto the window's own buffer. Session thread only.
#pragma once

#include <X11/Xlib.h>
#include <X11/extensions/Xdamage.h>

#include <functional>
#include <map>

#include "../geometry.hpp"
#include "x_display.hpp"

namespace vitrine::appserver::x11 {

class DamageTracker {
 public:
  // window, damaged rectangle relative to the window's origin (inside its border)
  using Sink = std::function<void(Window, const Rect&)>;

  explicit DamageTracker(XDisplay& display) : display_(display) {}
  ~DamageTracker();
  DamageTracker(const DamageTracker&) = delete;
  DamageTracker& operator=(const DamageTracker&) = delete;

  void track(Window w);
  void untrack(Window w);
  [[nodiscard]] bool tracking(Window w) const { return damages_.contains(w); }
  // Returns true when `ev` was a DamageNotify (consumed).
  bool handle_event(const XEvent& ev, const Sink& sink);

 private:
  XDisplay& display_;
  std::map<Window, Damage> damages_;
};

}  // namespace vitrine::appserver::x11
