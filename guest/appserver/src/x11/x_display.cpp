#include "x_display.hpp"

#include <X11/extensions/XShm.h>
#include <X11/extensions/Xcomposite.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/XTest.h>

#include <atomic>
#include <cstdio>

namespace vitrine::appserver::x11 {
namespace {

std::atomic<unsigned long> g_errors{0};

// Windows are destroyed by their clients at any time, so BadWindow/BadDrawable/BadMatch on a
// request about a window that just died is expected; count it and carry on (Xlib's default
// handler would exit the process).
int on_x_error(Display*, XErrorEvent*) {
  g_errors.fetch_add(1, std::memory_order_relaxed);  // a statistic only
  return 0;
}

// The connection itself broke (X server gone). Nothing can be recovered; Xlib exits after the
// handler returns, so say why first.
int on_io_error(Display*) {
  std::fputs("vitrine-appserver: lost the connection to the X server\n", stderr);
  return 0;
}

}  // namespace

unsigned long XDisplay::error_count() { return g_errors.load(std::memory_order_relaxed); }

std::expected<std::unique_ptr<XDisplay>, std::string> XDisplay::open(const std::string& name) {
  XSetErrorHandler(on_x_error);
  XSetIOErrorHandler(on_io_error);
  Display* dpy = XOpenDisplay(name.empty() ? nullptr : name.c_str());
  if (!dpy) return std::unexpected("cannot open X display '" + name + "'");
  std::unique_ptr<XDisplay> d(new XDisplay(dpy));
  int err = 0;
  int major = 0;
  int minor = 0;
  if (!XDamageQueryExtension(dpy, &d->damage_event_, &err))
    return std::unexpected("X server lacks the DAMAGE extension");
  if (!XFixesQueryExtension(dpy, &d->fixes_event_, &err))
    return std::unexpected("X server lacks the XFIXES extension");
  major = 4;
  XFixesQueryVersion(dpy, &major, &minor);
  if (!XCompositeQueryExtension(dpy, &major, &err))
    return std::unexpected("X server lacks the Composite extension");
  major = 0;
  minor = 4;
  XCompositeQueryVersion(dpy, &major, &minor);
  int ev = 0;
  if (!XTestQueryExtension(dpy, &ev, &err, &major, &minor))
    return std::unexpected("X server lacks the XTEST extension");
  d->has_shm_ = XShmQueryExtension(dpy);
  return d;
}

XDisplay::XDisplay(Display* dpy) : dpy_(dpy), root_(DefaultRootWindow(dpy)) {
  struct Named {
    Atom* atom;
    const char* name;
  };
  const Named names[] = {
      {&atoms_.wm_name, "WM_NAME"},
      {&atoms_.net_wm_name, "_NET_WM_NAME"},
      {&atoms_.utf8_string, "UTF8_STRING"},
      {&atoms_.net_wm_icon, "_NET_WM_ICON"},
      {&atoms_.wm_transient_for, "WM_TRANSIENT_FOR"},
      {&atoms_.net_wm_window_type, "_NET_WM_WINDOW_TYPE"},
      {&atoms_.net_wm_window_type_normal, "_NET_WM_WINDOW_TYPE_NORMAL"},
      {&atoms_.net_wm_window_type_dialog, "_NET_WM_WINDOW_TYPE_DIALOG"},
      {&atoms_.net_wm_window_type_menu, "_NET_WM_WINDOW_TYPE_MENU"},
      {&atoms_.net_wm_window_type_dropdown_menu, "_NET_WM_WINDOW_TYPE_DROPDOWN_MENU"},
      {&atoms_.net_wm_window_type_popup_menu, "_NET_WM_WINDOW_TYPE_POPUP_MENU"},
      {&atoms_.net_wm_window_type_tooltip, "_NET_WM_WINDOW_TYPE_TOOLTIP"},
      {&atoms_.net_wm_window_type_utility, "_NET_WM_WINDOW_TYPE_UTILITY"},
      {&atoms_.net_wm_window_type_splash, "_NET_WM_WINDOW_TYPE_SPLASH"},
      {&atoms_.net_wm_window_type_notification, "_NET_WM_WINDOW_TYPE_NOTIFICATION"},
      {&atoms_.net_wm_window_type_combo, "_NET_WM_WINDOW_TYPE_COMBO"},
      {&atoms_.wm_protocols, "WM_PROTOCOLS"},
      {&atoms_.wm_delete_window, "WM_DELETE_WINDOW"},
      {&atoms_.wm_state, "WM_STATE"},
      {&atoms_.wm_class, "WM_CLASS"},
      {&atoms_.net_active_window, "_NET_ACTIVE_WINDOW"},
  };
  for (const Named& n : names) *n.atom = XInternAtom(dpy_, n.name, False);
}

XDisplay::~XDisplay() { XCloseDisplay(dpy_); }

int XDisplay::screen_width() const { return DisplayWidth(dpy_, DefaultScreen(dpy_)); }
int XDisplay::screen_height() const { return DisplayHeight(dpy_, DefaultScreen(dpy_)); }

}  // namespace vitrine::appserver::x11
