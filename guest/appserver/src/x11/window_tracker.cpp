#include "window_tracker.hpp"

#include <X11/Xatom.h>

#include <algorithm>

#include "window_properties.hpp"

namespace vitrine::appserver::x11 {
namespace {
constexpr uint32_t kPreferredIconSize = 32;
constexpr long kWindowEventMask = PropertyChangeMask | FocusChangeMask;
}  // namespace

WindowTracker::WindowTracker(XDisplay& display) : display_(display) {}

void WindowTracker::start(ShownChanged on_shown_changed) {
  on_shown_changed_ = std::move(on_shown_changed);
  Display* dpy = display_.get();
  XSelectInput(dpy, display_.root(), SubstructureNotifyMask | PropertyChangeMask);
  Window root_ret = 0;
  Window parent = 0;
  Window* children = nullptr;
  unsigned int n = 0;
  if (XQueryTree(dpy, display_.root(), &root_ret, &parent, &children, &n)) {
    for (unsigned int i = 0; i < n; ++i) adopt(children[i]);
    if (children) XFree(children);
  }
  refresh_stacking();
}

const WindowInfo* WindowTracker::find(Window w) const {
  auto it = windows_.find(w);
  return it == windows_.end() ? nullptr : &it->second;
}

std::vector<Window> WindowTracker::stacking() const {
  std::vector<Window> out;
  for (Window w : stacking_) {
    if (const WindowInfo* info = find(w); info && info->shown()) out.push_back(w);
  }
  return out;
}

void WindowTracker::adopt(Window w) {
  if (windows_.contains(w)) return;
  Display* dpy = display_.get();
  XWindowAttributes attr{};
  // Select first, then read: a property change after the read still produces an event.
  XSelectInput(dpy, w, kWindowEventMask);
  if (!XGetWindowAttributes(dpy, w, &attr)) return;  // died before we looked
  WindowInfo info;
  info.id = w;
  info.frame = {attr.x, attr.y, attr.width + 2 * attr.border_width,
                attr.height + 2 * attr.border_width};
  info.border = attr.border_width;
  info.override_redirect = attr.override_redirect;
  info.viewable = attr.map_state == IsViewable;
  info.input_output = attr.c_class == InputOutput;
  if (info.input_output) {
    info.owner = read_transient_for(display_, w);
    info.title = read_title(display_, w);
    info.app_id = read_app_id(display_, w);
    info.kind = read_kind(display_, w, info.override_redirect, info.owner);
    info.supports_delete = read_supports_delete(display_, w);
    info.icon = read_icon(display_, w, kPreferredIconSize);
  }
  auto [it, inserted] = windows_.emplace(w, std::move(info));
  ++generation_;
  if (it->second.shown()) note_shown_change(it->second, false, it->second.frame);
}

void WindowTracker::forget(Window w) {
  auto it = windows_.find(w);
  if (it == windows_.end()) return;
  if (it->second.shown()) {
    exposed_.add(it->second.frame);
    if (on_shown_changed_) on_shown_changed_(it->second, false);
  }
  if (active_ == w) active_ = 0;
  windows_.erase(it);
  std::erase(stacking_, w);
  ++generation_;
}

void WindowTracker::note_shown_change(WindowInfo& info, bool was_shown, const Rect& old_frame) {
  const bool now = info.shown();
  if (was_shown) exposed_.add(old_frame);
  if (now) exposed_.add(info.frame);
  if (was_shown != now || (now && old_frame != info.frame)) {
    if (on_shown_changed_) on_shown_changed_(info, now);
  }
  ++generation_;
}

void WindowTracker::read_properties(WindowInfo& info, Atom which) {
  const Atoms& a = display_.atoms();
  if (!info.input_output) return;
  if (which == a.net_wm_name || which == a.wm_name) {
    info.title = read_title(display_, info.id);
  } else if (which == a.net_wm_icon) {
    info.icon = read_icon(display_, info.id, kPreferredIconSize);
  } else if (which == a.wm_transient_for || which == a.net_wm_window_type) {
    info.owner = read_transient_for(display_, info.id);
    info.kind = read_kind(display_, info.id, info.override_redirect, info.owner);
  } else if (which == a.wm_class) {
    info.app_id = read_app_id(display_, info.id);
  } else if (which == a.wm_protocols) {
    info.supports_delete = read_supports_delete(display_, info.id);
  } else {
    return;
  }
  ++generation_;
}

void WindowTracker::refresh_stacking() {
  Window root_ret = 0;
  Window parent = 0;
  Window* children = nullptr;
  unsigned int n = 0;
  stacking_.clear();
  if (!XQueryTree(display_.get(), display_.root(), &root_ret, &parent, &children, &n)) return;
  for (unsigned int i = 0; i < n; ++i) {
    if (windows_.contains(children[i])) stacking_.push_back(children[i]);
  }
  if (children) XFree(children);
  ++generation_;
}

bool WindowTracker::handle_event(const XEvent& ev) {
  switch (ev.type) {
    case CreateNotify:
      if (ev.xcreatewindow.parent != display_.root()) return false;
      adopt(ev.xcreatewindow.window);
      refresh_stacking();
      return true;
    case DestroyNotify:
      if (!windows_.contains(ev.xdestroywindow.window)) return false;
      forget(ev.xdestroywindow.window);
      return true;
    case ReparentNotify: {
      const Window w = ev.xreparent.window;
      if (ev.xreparent.parent == display_.root()) {
        adopt(w);
        refresh_stacking();
      } else if (windows_.contains(w)) {
        forget(w);
      } else {
        return false;
      }
      return true;
    }
    case MapNotify: {
      auto it = windows_.find(ev.xmap.window);
      if (it == windows_.end()) return false;
      WindowInfo& info = it->second;
      const bool was = info.shown();
      info.viewable = true;
      info.minimized = false;
      info.override_redirect = ev.xmap.override_redirect;
      // Properties may have been set while unmapped without our noticing the type change.
      info.kind = read_kind(display_, info.id, info.override_redirect, info.owner);
      note_shown_change(info, was, info.frame);
      refresh_stacking();
      return true;
    }
    case UnmapNotify: {
      auto it = windows_.find(ev.xunmap.window);
      if (it == windows_.end()) return false;
      WindowInfo& info = it->second;
      const bool was = info.shown();
      info.viewable = false;
      if (active_ == info.id && !info.minimized) active_ = 0;
      note_shown_change(info, was, info.frame);
      return true;
    }
    case ConfigureNotify: {
      auto it = windows_.find(ev.xconfigure.window);
      if (it == windows_.end()) return false;
      WindowInfo& info = it->second;
      const bool was = info.shown();
      const Rect old = info.frame;
      const XConfigureEvent& c = ev.xconfigure;
      info.frame = {c.x, c.y, c.width + 2 * c.border_width, c.height + 2 * c.border_width};
      info.border = c.border_width;
      info.override_redirect = c.override_redirect;
      note_shown_change(info, was, old);
      refresh_stacking();
      return true;
    }
    case CirculateNotify:
      if (!windows_.contains(ev.xcirculate.window)) return false;
      refresh_stacking();
      if (const WindowInfo* info = find(ev.xcirculate.window); info && info->shown())
        exposed_.add(info->frame);
      return true;
    case PropertyNotify: {
      auto it = windows_.find(ev.xproperty.window);
      if (it == windows_.end()) return false;
      read_properties(it->second, ev.xproperty.atom);
      return true;
    }
    case FocusIn: {
      if (ev.xfocus.mode == NotifyGrab || ev.xfocus.detail == NotifyPointer ||
          ev.xfocus.detail == NotifyInferior)
        return windows_.contains(ev.xfocus.window);
      if (!windows_.contains(ev.xfocus.window)) return false;
      if (active_ != ev.xfocus.window) {
        active_ = ev.xfocus.window;
        ++generation_;
      }
      return true;
    }
    case FocusOut:
      return windows_.contains(ev.xfocus.window);
    default:
      return false;
  }
}

void WindowTracker::set_minimized(Window w, bool minimized) {
  auto it = windows_.find(w);
  if (it == windows_.end()) return;
  it->second.minimized = minimized;
  ++generation_;
}

void WindowTracker::set_maximized(Window w, bool maximized, const Rect& restore_frame) {
  auto it = windows_.find(w);
  if (it == windows_.end()) return;
  it->second.maximized = maximized;
  it->second.restore_frame = restore_frame;
  ++generation_;
}

void WindowTracker::set_active(Window w) {
  if (active_ == w) return;
  active_ = w;
  ++generation_;
}

}  // namespace vitrine::appserver::x11
