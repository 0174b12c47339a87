#include "window_actions.hpp"

#include <algorithm>

namespace vitrine::appserver::x11 {

bool WindowActions::activate(Window w) {
  const WindowInfo* info = tracker_.find(w);
  if (!info || !info->shown()) return false;
  if (info->minimized) restore(w);
  Display* dpy = display_.get();
  XRaiseWindow(dpy, w);
  // Popups (override-redirect) never take focus: their owner keeps it, as with a real WM.
  if (info->kind != WindowKind::kPopup && info->viewable) {
    XSetInputFocus(dpy, w, RevertToPointerRoot, CurrentTime);
    tracker_.set_active(w);
  }
  return true;
}

bool WindowActions::minimize(Window w) {
  const WindowInfo* info = tracker_.find(w);
  if (!info || !info->shown() || info->kind == WindowKind::kPopup) return false;
  tracker_.set_minimized(w, true);
  XUnmapWindow(display_.get(), w);
  return true;
}

bool WindowActions::maximize(Window w) {
  const WindowInfo* info = tracker_.find(w);
  if (!info || !info->shown() || info->kind == WindowKind::kPopup) return false;
  const Rect restore_to = info->maximized ? info->restore_frame : info->frame;
  if (info->minimized) restore(w);
  tracker_.set_maximized(w, true, restore_to);
  const int bw2 = 2 * info->border;
  XMoveResizeWindow(display_.get(), w, 0, 0,
                    static_cast<unsigned>(std::max(1, display_.screen_width() - bw2)),
                    static_cast<unsigned>(std::max(1, display_.screen_height() - bw2)));
  return true;
}

bool WindowActions::restore(Window w) {
  const WindowInfo* info = tracker_.find(w);
  if (!info) return false;
  if (info->minimized) {
    XMapRaised(display_.get(), w);
    return true;
  }
  if (info->maximized) {
    const Rect r = info->restore_frame;
    tracker_.set_maximized(w, false, {});
    return move_resize(w, r);
  }
  return info->shown();
}

bool WindowActions::close(Window w) {
  const WindowInfo* info = tracker_.find(w);
  if (!info) return false;
  Display* dpy = display_.get();
  if (info->supports_delete) {
    XEvent ev{};
    ev.xclient.type = ClientMessage;
    ev.xclient.window = w;
    ev.xclient.message_type = display_.atoms().wm_protocols;
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = static_cast<long>(display_.atoms().wm_delete_window);
    ev.xclient.data.l[1] = CurrentTime;
    XSendEvent(dpy, w, False, NoEventMask, &ev);
  } else {
    // ICCCM: a client that does not take part in WM_DELETE_WINDOW is closed by killing its
    // connection.
    XKillClient(dpy, w);
  }
  return true;
}

bool WindowActions::move_resize(Window w, const Rect& frame) {
  const WindowInfo* info = tracker_.find(w);
  if (!info || frame.width <= 0 || frame.height <= 0) return false;
  const int bw2 = 2 * info->border;
  // Bound what a client may ask: at most 4x the screen, never below 1x1.
  const int max_w = 4 * display_.screen_width();
  const int max_h = 4 * display_.screen_height();
  XMoveResizeWindow(display_.get(), w, frame.x, frame.y,
                    static_cast<unsigned>(std::clamp(frame.width - bw2, 1, max_w)),
                    static_cast<unsigned>(std::clamp(frame.height - bw2, 1, max_h)));
  return true;
}

}  // namespace vitrine::appserver::x11
