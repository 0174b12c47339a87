// What a client may ask of a window: activate, minimize, maximize, restore, close, move and
// resize. The guest runs no window manager, so the appserver plays its part: minimize unmaps
// (and remembers), maximize resizes to the screen, close sends WM_DELETE_WINDOW when the
// application supports it (ICCCM 4.2.8.1) and otherwise disconnects its X client.
#pragma once

#include <X11/Xlib.h>

#include "../geometry.hpp"
#include "window_tracker.hpp"
#include "x_display.hpp"

namespace vitrine::appserver::x11 {

class WindowActions {
 public:
  WindowActions(XDisplay& display, WindowTracker& tracker) : display_(display), tracker_(tracker) {}

  // Each returns false when `w` is not a tracked top-level window (a client naming a window
  // that never existed or just died).
  bool activate(Window w);
  bool minimize(Window w);
  bool maximize(Window w);
  bool restore(Window w);
  bool close(Window w);
  // `frame` in desktop coordinates, border included (as window orders report it).
  bool move_resize(Window w, const Rect& frame);

 private:
  XDisplay& display_;
  WindowTracker& tracker_;
};

}  // namespace vitrine::appserver::x11
