// What the RAIL window model tells its consumer (the compositor adapter in cli/): typed window
// state, never a FreeRDP structure and never GL. All calls come from the RdpClient's session
// thread, in order; an adapter that draws on another thread copies what it needs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vitrine/rdpmux/host/geometry.hpp"

namespace vitrine::rdpmux::host {

using WindowId = std::uint32_t;
inline constexpr WindowId kNoWindow = 0;  // MS-RDPERP: window id 0 means "none"

// MS-RDPERP 2.2.1.3.1.2.1 ShowState values.
enum class ShowState : std::uint8_t {
  kHidden = 0,
  kMinimized = 2,
  kMaximized = 3,
  kNormal = 5,
};

// Win32 window styles the host needs to place a window (MS-RDPERP refers to [MSDN-WS]).
namespace style {
inline constexpr std::uint32_t kPopup = 0x80000000u;    // WS_POPUP
inline constexpr std::uint32_t kChild = 0x40000000u;    // WS_CHILD
inline constexpr std::uint32_t kCaption = 0x00C00000u;  // WS_CAPTION
}  // namespace style
namespace ex_style {
inline constexpr std::uint32_t kTopmost = 0x00000008u;     // WS_EX_TOPMOST
inline constexpr std::uint32_t kToolWindow = 0x00000080u;  // WS_EX_TOOLWINDOW
inline constexpr std::uint32_t kAppWindow = 0x00040000u;   // WS_EX_APPWINDOW
inline constexpr std::uint32_t kLayered = 0x00080000u;     // WS_EX_LAYERED
}  // namespace ex_style

// A decoded icon: straight (non-premultiplied) BGRA, 4 bytes per pixel, rows top-down.
struct Icon {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> bgra;
};

struct WindowState {
  WindowId id = kNoWindow;
  WindowId owner = kNoWindow;  // popups and dialogs: the window they belong to
  std::uint32_t style = 0;
  std::uint32_t ex_style = 0;
  ShowState show = ShowState::kHidden;
  std::string title;  // UTF-8
  DesktopRect frame;  // window offset + window size, desktop coordinates
  DesktopPoint client_offset;  // desktop coordinates of the client area's origin
  std::uint32_t client_width = 0;
  std::uint32_t client_height = 0;
  std::vector<RelativeRect> window_rects;      // relative to frame origin; empty = whole frame
  DesktopPoint visible_offset;                 // desktop coordinates
  std::vector<RelativeRect> visibility_rects;  // relative to visible_offset
  std::shared_ptr<const Icon> small_icon;
  std::shared_ptr<const Icon> big_icon;

  bool popup() const { return (style & style::kPopup) != 0; }
  bool tool_window() const { return (ex_style & ex_style::kToolWindow) != 0; }
  bool topmost() const { return (ex_style & ex_style::kTopmost) != 0; }
  // Menus, tooltips and other popups the host shows override-redirect (no decoration).
  bool override_redirect() const { return popup() || tool_window(); }
};

// Which parts of a WindowState an update changed (bitmask).
namespace changed {
inline constexpr std::uint32_t kOwner = 1u << 0;
inline constexpr std::uint32_t kStyle = 1u << 1;
inline constexpr std::uint32_t kShow = 1u << 2;
inline constexpr std::uint32_t kTitle = 1u << 3;
inline constexpr std::uint32_t kFramePosition = 1u << 4;
inline constexpr std::uint32_t kFrameSize = 1u << 5;
inline constexpr std::uint32_t kClientArea = 1u << 6;
inline constexpr std::uint32_t kWindowRects = 1u << 7;
inline constexpr std::uint32_t kVisibility = 1u << 8;
inline constexpr std::uint32_t kIcon = 1u << 9;
}  // namespace changed

struct NotifyIconState {
  WindowId window = kNoWindow;
  std::uint32_t icon_id = 0;
  std::string tooltip;  // UTF-8
  std::uint32_t state = 0;
  std::shared_ptr<const Icon> icon;
};

// The server asks the host to run a local move/size loop (MS-RDPERP 2.2.2.7.3), and tells it
// when the loop ends; at the end the host reports the final rectangle with window_move().
struct LocalMoveSize {
  WindowId window = kNoWindow;
  bool start = false;
  std::uint16_t type = 0;  // RAIL_WMSZ_*: 1..8 edges/corners, 9 move, 10 keyboard size, 11 keyboard move
  DesktopPoint position;   // start: cursor position; end: window top-left
};

class WindowEvents {
 public:
  virtual ~WindowEvents() = default;
  // A new window; `state` holds every field the create order carried.
  virtual void window_created(const WindowState& state) = 0;
  // An existing window changed; `what` is a mask of changed:: bits.
  virtual void window_changed(const WindowState& state, std::uint32_t what) = 0;
  virtual void window_deleted(WindowId id) = 0;
  // MonitoredDesktop: the guest's z-order, topmost first (only windows the model knows).
  virtual void z_order_changed(std::span<const WindowId> top_to_bottom) = 0;
  // MonitoredDesktop: the active (focused) window; kNoWindow when none.
  virtual void active_window_changed(WindowId id) = 0;
  virtual void notify_icon_changed(const NotifyIconState& state) = 0;
  virtual void notify_icon_deleted(WindowId window, std::uint32_t icon_id) = 0;
  // The server starts or ends a local move/size loop for a window (see LocalMoveSize).
  virtual void local_move_size(const LocalMoveSize& request) = 0;
};

}  // namespace vitrine::rdpmux::host
