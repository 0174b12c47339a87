// What the appserver knows about one top-level X window: the capture side's model, read by the
// RDP side to produce window orders. Geometry is in desktop coordinates and includes the X
// border (the guest runs no window manager, so there are no frame windows to skip).
#pragma once

#include <X11/Xlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../geometry.hpp"

namespace vitrine::appserver {

enum class WindowKind : uint8_t {
  kNormal,   // application window
  kDialog,   // transient dialog (WM_TRANSIENT_FOR or _NET_WM_WINDOW_TYPE_DIALOG)
  kUtility,  // utility/toolbar palettes
  kPopup,    // override-redirect: menus, tooltips, combo lists, splash, notifications
};

struct WindowIcon {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint32_t> argb;  // row-major, top-down, non-premultiplied ARGB (_NET_WM_ICON)
  friend bool operator==(const WindowIcon&, const WindowIcon&) = default;
};

struct WindowInfo {
  Window id = 0;             // X window id; also the RDP window id (both are 32-bit)
  Rect frame;                // desktop coordinates, border included
  int32_t border = 0;        // X border width: window-relative (0,0) is frame.x + border
  bool override_redirect = false;
  bool viewable = false;     // mapped and all ancestors mapped
  bool minimized = false;    // unmapped by the appserver on a client's minimize command
  bool maximized = false;
  Rect restore_frame;        // geometry before maximize
  bool input_output = true;  // InputOnly windows are never shown
  WindowKind kind = WindowKind::kNormal;
  Window owner = 0;          // WM_TRANSIENT_FOR, 0 when none
  std::string title;         // UTF-8
  std::string app_id;        // WM_CLASS class part, e.g. "XTerm"
  bool supports_delete = false;  // WM_PROTOCOLS contains WM_DELETE_WINDOW
  std::optional<WindowIcon> icon;

  // Shown to the client: a real, visible window (or one we minimized ourselves).
  [[nodiscard]] bool shown() const {
    return input_output && (viewable || minimized) && !frame.empty();
  }
};

}  // namespace vitrine::appserver
