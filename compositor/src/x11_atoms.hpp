// Private: the X atoms the backend uses, interned once per connection.
#pragma once

#include <X11/Xlib.h>

namespace vitrine::compositor {

struct X11Atoms {
  Atom wm_protocols, wm_delete_window, wm_state, wm_change_state, utf8_string;
  Atom net_wm_name, net_wm_icon, net_wm_pid, net_wm_state, net_wm_state_hidden;
  Atom net_wm_state_max_vert, net_wm_state_max_horz, net_wm_state_fullscreen;
  Atom net_wm_state_skip_taskbar, net_wm_state_skip_pager;
  Atom net_wm_window_type, net_wm_window_type_normal, net_wm_window_type_popup_menu;
  Atom net_wm_window_type_tooltip, net_wm_window_type_utility;
  Atom motif_wm_hints, net_supporting_wm_check, net_active_window;
  Atom net_workarea, net_wm_state_demands_attention, net_wm_user_time;
  Atom net_supported, net_restack_window;

  explicit X11Atoms(Display* d) {
    const char* names[] = {"WM_PROTOCOLS", "WM_DELETE_WINDOW", "WM_STATE", "WM_CHANGE_STATE", "UTF8_STRING",
                           "_NET_WM_NAME", "_NET_WM_ICON", "_NET_WM_PID", "_NET_WM_STATE",
                           "_NET_WM_STATE_HIDDEN", "_NET_WM_STATE_MAXIMIZED_VERT",
                           "_NET_WM_STATE_MAXIMIZED_HORZ", "_NET_WM_STATE_FULLSCREEN",
                           "_NET_WM_STATE_SKIP_TASKBAR", "_NET_WM_STATE_SKIP_PAGER", "_NET_WM_WINDOW_TYPE",
                           "_NET_WM_WINDOW_TYPE_NORMAL", "_NET_WM_WINDOW_TYPE_POPUP_MENU",
                           "_NET_WM_WINDOW_TYPE_TOOLTIP", "_NET_WM_WINDOW_TYPE_UTILITY", "_MOTIF_WM_HINTS",
                           "_NET_SUPPORTING_WM_CHECK", "_NET_ACTIVE_WINDOW", "_NET_WORKAREA",
                           "_NET_WM_STATE_DEMANDS_ATTENTION", "_NET_WM_USER_TIME", "_NET_SUPPORTED",
                           "_NET_RESTACK_WINDOW"};
    Atom* out[] = {&wm_protocols, &wm_delete_window, &wm_state, &wm_change_state, &utf8_string,
                   &net_wm_name, &net_wm_icon, &net_wm_pid, &net_wm_state, &net_wm_state_hidden,
                   &net_wm_state_max_vert, &net_wm_state_max_horz, &net_wm_state_fullscreen,
                   &net_wm_state_skip_taskbar, &net_wm_state_skip_pager, &net_wm_window_type,
                   &net_wm_window_type_normal, &net_wm_window_type_popup_menu, &net_wm_window_type_tooltip,
                   &net_wm_window_type_utility, &motif_wm_hints, &net_supporting_wm_check,
                   &net_active_window, &net_workarea, &net_wm_state_demands_attention, &net_wm_user_time,
                   &net_supported, &net_restack_window};
    constexpr int n = sizeof(names) / sizeof(names[0]);
    static_assert(n == sizeof(out) / sizeof(out[0]));
    Atom atoms[n];
    // One round trip for all of them.
    XInternAtoms(d, const_cast<char**>(names), n, False, atoms);
    for (int i = 0; i < n; ++i) *out[i] = atoms[i];
  }
};

}  // namespace vitrine::compositor
