#include "x11_window.hpp"

#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <X11/extensions/shape.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace vitrine::compositor {
namespace {

constexpr std::size_t kMaxRequested = 32;  // echoes we remember per window
constexpr long kNetWmStateRemove = 0;
constexpr long kNetWmStateAdd = 1;

bool is_ascii(const std::string& s) {
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0x80u) != 0) return false;
  }
  return true;
}

}  // namespace

X11Shared::~X11Shared() {
  egl.reset();  // EGL's X11 display uses the connection: tear it down first
  if (display != nullptr) {
    if (colormap != 0) XFreeColormap(display, colormap);
    XCloseDisplay(display);
  }
  XSetErrorHandler(previous_handler);
}

Result<std::unique_ptr<X11Window>> X11Window::create(X11Shared& x, const Window& window) {
  std::unique_ptr<X11Window> w(new X11Window(x));
  Display* d = x.display;
  XSetWindowAttributes a{};
  a.colormap = x.colormap;
  a.border_pixel = 0;
  a.background_pixmap = None;  // no server-side clear before our first frame: no flash
  // The guard's decision (window_guard.hpp), not the guest's: a fake full screen is managed.
  a.override_redirect = window.host.override_redirect ? True : False;
  a.event_mask = KeyPressMask | KeyReleaseMask | ButtonPressMask | ButtonReleaseMask | PointerMotionMask |
                 FocusChangeMask | StructureNotifyMask | ExposureMask | PropertyChangeMask;
  const HostRect h = window.host.rect;
  w->xid_ = XCreateWindow(d, DefaultRootWindow(d), h.x, h.y, static_cast<unsigned>(h.width),
                          static_cast<unsigned>(h.height), 0, x.depth, InputOutput, x.visual,
                          CWColormap | CWBorderPixel | CWBackPixmap | CWOverrideRedirect | CWEventMask, &a);
  if (w->xid_ == 0) return fail(Errc::kX11, "XCreateWindow failed");
  w->rect_ = h;
  w->origin_ = window.desc.rect.origin();
  w->override_redirect_ = window.host.override_redirect;

  std::string instance = "vitrine";
  std::string klass = window.desc.app_id.empty() ? "vitrine" : window.desc.app_id;
  XClassHint class_hint{instance.data(), klass.data()};
  XSetClassHint(d, w->xid_, &class_hint);
  w->input_hint_ = window.desc.kind != WindowKind::kTooltip;
  w->set_hints(NormalState);
  if (!window.desc.focus_on_map) {
    // EWMH _NET_WM_USER_TIME: 0 = "do not focus this window when it is mapped" (no host input
    // asked for it: a guest cannot take focus by opening a window).
    const long zero = 0;
    XChangeProperty(d, w->xid_, x.atoms->net_wm_user_time, XA_CARDINAL, 32, PropModeReplace,
                    reinterpret_cast<const unsigned char*>(&zero), 1);
  }
  XSizeHints size{};
  size.flags = USPosition | USSize | PPosition | PSize;
  size.x = h.x;
  size.y = h.y;
  size.width = h.width;
  size.height = h.height;
  XSetWMNormalHints(d, w->xid_, &size);
  Atom protocols[] = {x.atoms->wm_delete_window};
  XSetWMProtocols(d, w->xid_, protocols, 1);
  const long pid = static_cast<long>(getpid());
  XChangeProperty(d, w->xid_, x.atoms->net_wm_pid, XA_CARDINAL, 32, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(&pid), 1);
  // Motif hints {flags = decorations, functions, decorations = none, input mode, status}:
  // the guest draws its own title bar and borders.
  const long motif[5] = {2, 0, 0, 0, 0};
  XChangeProperty(d, w->xid_, x.atoms->motif_wm_hints, x.atoms->motif_wm_hints, 32, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(motif), 5);
  w->set_type(window);

  // X11 EGL platform: native_window is a pointer to the XID (EGL_EXT_platform_x11).
  ::Window xid = w->xid_;
  w->surface_ = eglCreatePlatformWindowSurfaceEXT(x.egl->display(), x.egl->config(), &xid, nullptr);
  if (w->surface_ == EGL_NO_SURFACE) return egl_fail("eglCreatePlatformWindowSurface");
  return w;
}

X11Window::~X11Window() {
  if (surface_ != EGL_NO_SURFACE) {
    if (eglGetCurrentSurface(EGL_DRAW) == surface_) {
      (void)x_.egl->make_current(EGL_NO_SURFACE);
    }
    eglDestroySurface(x_.egl->display(), surface_);
  }
  if (xid_ != 0) XDestroyWindow(x_.display, xid_);
}

void X11Window::apply(const Window& window, ChangeMask changes, const X11Window* owner) {
  Display* d = x_.display;
  origin_ = window.desc.rect.origin();
  if ((changes & kChangeKind) != 0 && window.host.override_redirect != override_redirect_) {
    set_override_redirect(window);
    changes |= kChangeState;  // set_state() maps it again as what it is now
  }
  if ((changes & kChangeRect) != 0 && window.host.rect != rect_) {
    const HostRect& h = window.host.rect;
    XMoveResizeWindow(d, xid_, h.x, h.y, static_cast<unsigned>(h.width), static_cast<unsigned>(h.height));
    rect_ = h;
    requested_.push_back(rect_);
    if (requested_.size() > kMaxRequested) requested_.pop_front();
  }
  if ((changes & kChangeTitle) != 0) set_title(window.host.title);
  if ((changes & kChangeIcon) != 0) set_icon(window.icon);
  if ((changes & kChangeOwner) != 0) set_owner(owner);
  if ((changes & kChangeShape) != 0) set_shape(window);
  if ((changes & (kChangeState | kChangeVisible | kChangeOwner)) != 0) set_state(window);
}

void X11Window::set_override_redirect(const Window& window) {
  // Override-redirect can change only while unmapped; XWithdrawWindow also tells a window
  // manager that it no longer manages the window (ICCCM 4.1.4).
  if (!withdrawn_) XWithdrawWindow(x_.display, xid_, DefaultScreen(x_.display));
  mapped_ = false;
  withdrawn_ = true;
  override_redirect_ = window.host.override_redirect;
  XSetWindowAttributes a{};
  a.override_redirect = override_redirect_ ? True : False;
  XChangeWindowAttributes(x_.display, xid_, CWOverrideRedirect, &a);
  set_type(window);
}

void X11Window::set_hints(int initial_state) {
  XWMHints hints{};
  hints.flags = InputHint | StateHint | (urgent_ ? XUrgencyHint : 0);
  hints.input = input_hint_ ? True : False;
  hints.initial_state = initial_state;
  XSetWMHints(x_.display, xid_, &hints);
}

void X11Window::set_urgent(bool urgent) {
  if (urgent == urgent_) return;
  urgent_ = urgent;
  XWMHints* current = XGetWMHints(x_.display, xid_);
  XWMHints hints{};
  if (current != nullptr) {
    hints = *current;
    XFree(current);
  }
  hints.flags = urgent ? (hints.flags | XUrgencyHint) : (hints.flags & ~XUrgencyHint);
  XSetWMHints(x_.display, xid_, &hints);
  const X11Atoms& a = *x_.atoms;
  if (x_.has_wm && !withdrawn_) {  // managed (normal or iconic): ask, as in set_net_wm_state
    ask_net_wm_state(urgent, a.net_wm_state_demands_attention, 0);
    return;
  }
  // Nobody to ask: the property itself (the list the rest of set_net_wm_state writes, plus it).
  Atom type = 0;
  int format = 0;
  unsigned long n = 0, after = 0;
  unsigned char* data = nullptr;
  std::vector<Atom> atoms;
  if (XGetWindowProperty(x_.display, xid_, a.net_wm_state, 0, 64, False, XA_ATOM, &type, &format, &n, &after,
                         &data) == Success &&
      data != nullptr) {
    if (format == 32) atoms.assign(reinterpret_cast<const Atom*>(data), reinterpret_cast<const Atom*>(data) + n);
    XFree(data);
  }
  std::erase(atoms, a.net_wm_state_demands_attention);
  if (urgent) atoms.push_back(a.net_wm_state_demands_attention);
  XChangeProperty(x_.display, xid_, a.net_wm_state, XA_ATOM, 32, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(atoms.data()), static_cast<int>(atoms.size()));
}

bool X11Window::in_taskbar(const Window& window) {
  if (window.desc.owner != kNoWindow) return false;
  return window.desc.kind == WindowKind::kNormal || (window.wants_override_redirect() && !window.host.override_redirect);
}

bool X11Window::consume_requested(const HostRect& rect) {
  for (auto it = requested_.begin(); it != requested_.end(); ++it) {
    if (*it == rect) {
      requested_.erase(requested_.begin(), it + 1);
      return true;
    }
  }
  return false;
}

void X11Window::set_title(const std::string& title) {
  Display* d = x_.display;
  const auto* bytes = reinterpret_cast<const unsigned char*>(title.data());
  const int n = static_cast<int>(title.size());
  XChangeProperty(d, xid_, x_.atoms->net_wm_name, x_.atoms->utf8_string, 8, PropModeReplace, bytes, n);
  // WM_NAME is Latin-1 (STRING) by ICCCM; non-ASCII titles go as UTF8_STRING, which every
  // current window manager and xprop understand.
  XChangeProperty(d, xid_, XA_WM_NAME, is_ascii(title) ? XA_STRING : x_.atoms->utf8_string, 8, PropModeReplace,
                  bytes, n);
}

void X11Window::set_icon(const Icon& icon) {
  if (icon.empty()) {
    XDeleteProperty(x_.display, xid_, x_.atoms->net_wm_icon);
    return;
  }
  // Format-32 properties travel as C longs in Xlib, whatever the size of long.
  std::vector<long> data;
  data.reserve(icon.argb.size() + 2);
  data.push_back(icon.width);
  data.push_back(icon.height);
  for (std::uint32_t p : icon.argb) data.push_back(static_cast<long>(p));
  XChangeProperty(x_.display, xid_, x_.atoms->net_wm_icon, XA_CARDINAL, 32, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
}

void X11Window::set_owner(const X11Window* owner) {
  owner_ = owner == nullptr ? 0 : owner->xid_;
  if (owner == nullptr) {
    XDeleteProperty(x_.display, xid_, XA_WM_TRANSIENT_FOR);
  } else {
    XSetTransientForHint(x_.display, xid_, owner->xid_);
  }
}

void X11Window::set_shape(const Window& window) {
  if (!x_.has_shape) return;
  const WindowRegion whole(WindowRect{0, 0, window.desc.rect.width, window.desc.rect.height});
  if (window.visible_region == whole) {
    XShapeCombineMask(x_.display, xid_, ShapeBounding, 0, 0, None, ShapeSet);
    return;
  }
  // The label's border stays visible whatever the guest shapes away.
  WindowRegion shape = window.visible_region.copy();
  if (const std::int32_t b = window.host.border_px; b > 0) {
    const std::int32_t w = window.host.rect.width, h = window.host.rect.height;
    shape.add(WindowRect{0, 0, w, b});
    shape.add(WindowRect{0, h - b, w, b});
    shape.add(WindowRect{0, 0, b, h});
    shape.add(WindowRect{w - b, 0, b, h});
  }
  std::vector<XRectangle> rects;
  for (const auto& b : shape.boxes()) {
    rects.push_back({static_cast<short>(b.x1), static_cast<short>(b.y1), static_cast<unsigned short>(b.x2 - b.x1),
                     static_cast<unsigned short>(b.y2 - b.y1)});
  }
  XShapeCombineRectangles(x_.display, xid_, ShapeBounding, 0, 0, rects.data(), static_cast<int>(rects.size()),
                          ShapeSet, YXBanded);
}

void X11Window::set_type(const Window& window) {
  Atom type = x_.atoms->net_wm_window_type_normal;
  // A popup the guard made a managed window is an ordinary window to the window manager.
  const WindowKind kind = window.wants_override_redirect() && !window.host.override_redirect ? WindowKind::kNormal
                                                                                              : window.desc.kind;
  switch (kind) {
    case WindowKind::kNormal: type = x_.atoms->net_wm_window_type_normal; break;
    case WindowKind::kPopup: type = x_.atoms->net_wm_window_type_popup_menu; break;
    case WindowKind::kTooltip: type = x_.atoms->net_wm_window_type_tooltip; break;
    case WindowKind::kTool: type = x_.atoms->net_wm_window_type_utility; break;
  }
  XChangeProperty(x_.display, xid_, x_.atoms->net_wm_window_type, XA_ATOM, 32, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(&type), 1);
}

void X11Window::set_net_wm_state(const Window& window) {
  const X11Atoms& a = *x_.atoms;
  const WindowState s = window.desc.state;
  const bool skip = !in_taskbar(window);
  if (!x_.has_wm || withdrawn_) {
    // EWMH: while withdrawn (and with nobody to ask) the client sets the property itself; a
    // managed window, iconic too, asks. Not `mapped_`: it follows Map/UnmapNotify, which may
    // still be on its way (an UnmapNotify of the last iconify read after the restore's map),
    // and a property written then is never seen by the manager (the state shows maximized,
    // the window is not).
    std::vector<Atom> atoms;
    if (s == WindowState::kMinimized) atoms.push_back(a.net_wm_state_hidden);
    if (s == WindowState::kMaximized) {
      atoms.push_back(a.net_wm_state_max_vert);
      atoms.push_back(a.net_wm_state_max_horz);
    }
    if (s == WindowState::kFullscreen) atoms.push_back(a.net_wm_state_fullscreen);
    if (skip) {
      atoms.push_back(a.net_wm_state_skip_taskbar);
      atoms.push_back(a.net_wm_state_skip_pager);
    }
    if (urgent_) atoms.push_back(a.net_wm_state_demands_attention);
    XChangeProperty(x_.display, xid_, a.net_wm_state, XA_ATOM, 32, PropModeReplace,
                    reinterpret_cast<const unsigned char*>(atoms.data()), static_cast<int>(atoms.size()));
    return;
  }
  // EWMH "_NET_WM_STATE": a mapped window asks the window manager with client messages.
  ask_net_wm_state(s == WindowState::kMaximized, a.net_wm_state_max_vert, a.net_wm_state_max_horz);
  ask_net_wm_state(s == WindowState::kFullscreen, a.net_wm_state_fullscreen, 0);
  ask_net_wm_state(skip, a.net_wm_state_skip_taskbar, a.net_wm_state_skip_pager);
}

void X11Window::ask_net_wm_state(bool add, Atom first, Atom second) {
  XEvent e{};
  e.xclient.type = ClientMessage;
  e.xclient.window = xid_;
  e.xclient.message_type = x_.atoms->net_wm_state;
  e.xclient.format = 32;
  e.xclient.data.l[0] = add ? kNetWmStateAdd : kNetWmStateRemove;
  e.xclient.data.l[1] = static_cast<long>(first);
  e.xclient.data.l[2] = static_cast<long>(second);
  e.xclient.data.l[3] = 1;  // source: a normal application
  XSendEvent(x_.display, DefaultRootWindow(x_.display), False, SubstructureRedirectMask | SubstructureNotifyMask, &e);
}

bool X11Window::is_foreign_state(WindowState seen) {
  if (seen == applied_state_) {
    requested_states_.clear();
    reported_state_.reset();  // back where the guest is: the next change is news again
    return false;
  }
  if (std::find(requested_states_.begin(), requested_states_.end(), seen) != requested_states_.end()) return false;
  // Each property the window manager changes (WM_STATE, _NET_WM_STATE, often several times for
  // one change) reads the same state again: report it once.
  if (reported_state_ == seen) return false;
  reported_state_ = seen;
  return true;
}

void X11Window::set_state(const Window& window) {
  // Until the properties show the new state, readings of the old one are ours too. Unless the
  // guest agrees to the state the window manager reported (a taskbar asked): the properties
  // show it already, nothing of ours is under way, and remembering the old state as "ours"
  // would hide the window manager's next change back to it (the taskbar's restore after its
  // minimize). Not "the properties show it" alone: readings lag behind our own requests.
  if (reported_state_ == window.desc.state) {
    requested_states_.clear();
  } else if (requested_states_.empty()) {
    requested_states_.push_back(applied_state_);
  }
  reported_state_.reset();
  if (!requested_states_.empty() && requested_states_.back() != window.desc.state) {
    requested_states_.push_back(window.desc.state);
    if (requested_states_.size() > kMaxRequested) requested_states_.pop_front();
  }
  Display* d = x_.display;
  const int screen = DefaultScreen(d);
  const WindowState s = window.desc.state;
  if (!window.desc.visible) {
    if (!withdrawn_) XWithdrawWindow(d, xid_, screen);  // also an iconic one (ICCCM 4.1.4)
    mapped_ = false;
    withdrawn_ = true;
    applied_state_ = s;
    set_net_wm_state(window);
    return;
  }
  if (s == WindowState::kMinimized) {
    if (x_.has_wm) {
      if (withdrawn_) {
        set_hints(IconicState);
        set_net_wm_state(window);
        XMapWindow(d, xid_);
        mapped_ = true;
        withdrawn_ = false;
      } else {
        // Managed: WM_CHANGE_STATE (ICCCM 4.1.4), a no-op when the window manager iconified it
        // already (a taskbar asked and the guest agreed). Never XMapWindow here: on an iconic
        // window that is a MapRequest, which de-iconifies it.
        XIconifyWindow(d, xid_, screen);
      }
    } else {
      // No window manager to iconify to: hide it and say so in _NET_WM_STATE.
      if (mapped_) XUnmapWindow(d, xid_);
      mapped_ = false;
      withdrawn_ = true;
      set_net_wm_state(window);
    }
    applied_state_ = s;
    return;
  }
  const bool was_minimized = applied_state_ == WindowState::kMinimized;
  applied_state_ = s;
  if (withdrawn_ || !mapped_ || was_minimized) {
    set_hints(NormalState);
    set_net_wm_state(window);  // the property while withdrawn, else messages (EWMH)
    XMapWindow(d, xid_);  // maps a withdrawn window; de-iconifies an iconic one (ICCCM 4.1.4)
    mapped_ = true;
    withdrawn_ = false;
    return;
  }
  set_net_wm_state(window);
}

WindowState X11Window::read_state() const {
  const X11Atoms& a = *x_.atoms;
  Atom type = 0;
  int format = 0;
  unsigned long n = 0, after = 0;
  unsigned char* data = nullptr;
  bool hidden = false, vert = false, horz = false, full = false;
  if (XGetWindowProperty(x_.display, xid_, a.net_wm_state, 0, 64, False, XA_ATOM, &type, &format, &n, &after,
                         &data) == Success &&
      data != nullptr) {
    if (format == 32) {
      const auto* atoms = reinterpret_cast<const Atom*>(data);
      for (unsigned long i = 0; i < n; ++i) {
        hidden |= atoms[i] == a.net_wm_state_hidden;
        vert |= atoms[i] == a.net_wm_state_max_vert;
        horz |= atoms[i] == a.net_wm_state_max_horz;
        full |= atoms[i] == a.net_wm_state_fullscreen;
      }
    }
    XFree(data);
  }
  data = nullptr;
  // ICCCM 4.1.3.1: WM_STATE {state, icon}; 3 = IconicState.
  if (XGetWindowProperty(x_.display, xid_, a.wm_state, 0, 2, False, a.wm_state, &type, &format, &n, &after, &data) ==
          Success &&
      data != nullptr) {
    if (format == 32 && n >= 1 && reinterpret_cast<const long*>(data)[0] == IconicState) hidden = true;
    XFree(data);
  }
  if (hidden) return WindowState::kMinimized;
  if (full) return WindowState::kFullscreen;
  if (vert && horz) return WindowState::kMaximized;
  return WindowState::kNormal;
}

Result<void> X11Window::make_current() {
  return x_.egl->make_current(surface_);
}

Result<void> X11Window::swap(bool vsync) {
  // eglSwapInterval applies to the current draw surface (this one, since make_current());
  // see the presentation note in x11_backend.hpp.
  const EGLint interval = vsync ? 1 : 0;
  if (interval != swap_interval_) {
    eglSwapInterval(x_.egl->display(), interval);
    swap_interval_ = interval;
  }
  if (!eglSwapBuffers(x_.egl->display(), surface_)) return egl_fail("eglSwapBuffers");
  return {};
}

}  // namespace vitrine::compositor
