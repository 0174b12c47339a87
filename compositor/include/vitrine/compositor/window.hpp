// One remote window as the scene holds it. Ids are chosen by the caller (RAIL window ids);
// the compositor never invents them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/geometry.hpp"

namespace vitrine::compositor {

using WindowId = std::uint64_t;
inline constexpr WindowId kNoWindow = 0;  // "no owner"; not a valid window id

enum class WindowKind : std::uint8_t {
  kNormal,   // top-level application window: taskbar entry, managed by the window manager
  kPopup,    // menus, drop-downs, combo lists: override-redirect, no taskbar entry
  kTooltip,  // override-redirect, never takes focus
  kTool,     // tool/utility window: managed, no taskbar entry
};

enum class WindowState : std::uint8_t { kNormal, kMinimized, kMaximized, kFullscreen };

// Window icon, _NET_WM_ICON layout: non-premultiplied ARGB, one uint32 per pixel, rows top
// to bottom. Empty = no icon.
struct Icon {
  std::int32_t width = 0;
  std::int32_t height = 0;
  std::vector<std::uint32_t> argb;
  [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }
  friend bool operator==(const Icon&, const Icon&) = default;
};

// What create_window() takes. Everything can be changed later by the setters of Compositor.
struct WindowDesc {
  DesktopRect rect;                  // where the window's pixels are in the desktop framebuffer
  WindowKind kind = WindowKind::kNormal;
  std::string title;                 // UTF-8
  std::string app_id = "vitrine";    // WM_CLASS class part (groups taskbar entries)
  WindowId owner = kNoWindow;        // transient-for; owned windows get no taskbar entry
  WindowState state = WindowState::kNormal;
  bool visible = true;               // false: exists but is not mapped / not drawn
  // False: the window manager is asked not to focus it when it appears (_NET_WM_USER_TIME 0);
  // the viewer clears it when no host input asked for the window.
  bool focus_on_map = true;
};

// Bits saying which part of a window changed (Backend::update_window).
enum ChangeBits : std::uint32_t {
  kChangeRect = 1u << 0,
  kChangeTitle = 1u << 1,
  kChangeIcon = 1u << 2,
  kChangeState = 1u << 3,
  kChangeOwner = 1u << 4,
  kChangeVisible = 1u << 5,
  kChangeShape = 1u << 6,
  kChangeKind = 1u << 7,  // the host side's override-redirect decision (HostFrame) changed
};
using ChangeMask = std::uint32_t;

// How the host shows a window: decided by the compositor (WindowGuard, window_guard.hpp) from the
// guest's description, the owner and the host's monitors, never by the guest directly. Backends
// place, title and decorate host windows from this, not from `desc`.
struct HostFrame {
  // Where the host window is and its size. Equal to desc.rect except for override-redirect
  // windows that the guard moved or shrank into their monitor's work area; the window still
  // shows desktop pixels from desc.rect's top-left (its top-left part when shrunk).
  HostRect rect;
  bool override_redirect = false;  // popups and tooltips, unless demoted (window_guard.hpp)
  // The VM's label: a border of border_px pixels in border_rgb (0xRRGGBB) drawn over the
  // window's outermost pixels, and the title the host shows (label prefix + sanitized title).
  std::int32_t border_px = 0;
  std::uint32_t border_rgb = 0;
  bool covers_monitor = false;  // (nearly) a whole monitor: the marker is forced on
  std::string title;
};

struct Window {
  WindowId id = kNoWindow;
  WindowDesc desc;
  HostFrame host;
  Icon icon;
  // The part of the window that is visible (RAIL visibility rectangles), window coordinates.
  // Outside it the window is transparent (X11: shaped away). Defaults to the whole window.
  WindowRegion visible_region;
  [[nodiscard]] bool shown() const { return desc.visible && desc.state != WindowState::kMinimized; }
  [[nodiscard]] bool top_level() const {
    return desc.owner == kNoWindow && desc.kind == WindowKind::kNormal;
  }
  // What the guest asked for (a popup or tooltip); host.override_redirect is what it gets.
  [[nodiscard]] bool wants_override_redirect() const {
    return desc.kind == WindowKind::kPopup || desc.kind == WindowKind::kTooltip;
  }
  // Desktop pixel under the host window's (window-coordinate) point.
  [[nodiscard]] DesktopPoint desktop_of(WindowPoint p) const { return to_desktop(p, desc.rect); }
};

}  // namespace vitrine::compositor
