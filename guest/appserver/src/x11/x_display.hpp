// One Xlib connection to the guest's X server, with the extensions the appserver uses.
// Single-threaded: every X call of the appserver happens on the session thread.
#pragma once

#include <X11/Xlib.h>

#include <expected>
#include <memory>
#include <string>

namespace vitrine::appserver::x11 {

struct Atoms {
  Atom wm_name, net_wm_name, utf8_string, net_wm_icon, wm_transient_for, net_wm_window_type,
      net_wm_window_type_normal, net_wm_window_type_dialog, net_wm_window_type_menu,
      net_wm_window_type_dropdown_menu, net_wm_window_type_popup_menu,
      net_wm_window_type_tooltip, net_wm_window_type_utility, net_wm_window_type_splash,
      net_wm_window_type_notification, net_wm_window_type_combo, wm_protocols, wm_delete_window,
      wm_state, wm_class, net_active_window;
};

class XDisplay {
 public:
  // `name` empty: $DISPLAY. Fails when the server cannot be reached or lacks a required
  // extension (DAMAGE, Composite, XFIXES, XTEST); MIT-SHM is optional.
  static std::expected<std::unique_ptr<XDisplay>, std::string> open(const std::string& name);
  ~XDisplay();
  XDisplay(const XDisplay&) = delete;
  XDisplay& operator=(const XDisplay&) = delete;

  [[nodiscard]] Display* get() const { return dpy_; }
  [[nodiscard]] Window root() const { return root_; }
  [[nodiscard]] int screen_width() const;
  [[nodiscard]] int screen_height() const;
  [[nodiscard]] int fd() const { return ConnectionNumber(dpy_); }
  [[nodiscard]] const Atoms& atoms() const { return atoms_; }
  [[nodiscard]] int damage_event_base() const { return damage_event_; }
  [[nodiscard]] int fixes_event_base() const { return fixes_event_; }
  [[nodiscard]] bool has_shm() const { return has_shm_; }
  // X protocol errors seen since start (a window vanished between two requests is normal:
  // windows die asynchronously). Never fatal.
  [[nodiscard]] static unsigned long error_count();

 private:
  explicit XDisplay(Display* dpy);
  Display* dpy_;
  Window root_;
  Atoms atoms_{};
  int damage_event_ = 0;
  int fixes_event_ = 0;
  bool has_shm_ = false;
};

}  // namespace vitrine::appserver::x11
