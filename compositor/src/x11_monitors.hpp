// Private: the host's monitors and work areas on an X display. RandR 1.5 monitors (XRRGetMonitors)
// when libXrandr is there at run time (loaded with dlopen: no build dependency, and a host without
// it still works), else one monitor of the root window's size. Each monitor's work area is the
// window manager's _NET_WORKAREA (desktop 0) clipped to it, or the whole monitor.
#pragma once

#include <X11/Xlib.h>

#include <vector>

#include "vitrine/compositor/window_guard.hpp"

namespace vitrine::compositor {

class X11Monitors {
 public:
  // Loads RandR if it can and asks for screen-change events on the root window.
  X11Monitors(Display* display, Atom net_workarea);
  ~X11Monitors();
  X11Monitors(const X11Monitors&) = delete;
  X11Monitors& operator=(const X11Monitors&) = delete;

  // Reads the monitors and work areas from the server (a few round trips).
  void refresh();
  [[nodiscard]] const std::vector<Monitor>& monitors() const { return monitors_; }
  [[nodiscard]] bool randr() const { return get_monitors_ != nullptr; }
  // True for a RandR event that may have changed the monitors (call refresh()).
  [[nodiscard]] bool is_change_event(int type) const { return randr() && type == event_base_; }

 private:
  struct MonitorInfo;  // XRRMonitorInfo's layout (Xrandr.h, RandR 1.5)
  using GetMonitors = MonitorInfo* (*)(Display*, ::Window, Bool, int*);
  using FreeMonitors = void (*)(MonitorInfo*);

  Display* display_;
  Atom net_workarea_;
  void* library_ = nullptr;
  GetMonitors get_monitors_ = nullptr;
  FreeMonitors free_monitors_ = nullptr;
  int event_base_ = -1;
  std::vector<Monitor> monitors_;
};

}  // namespace vitrine::compositor
