// Input the host sends back to the guest (MS-RDPBCGR 2.2.8.1.1.3 input events, MS-RDPERP
// 2.2.2.6-2.2.2.7 RAIL client orders). Coordinates are desktop coordinates (geometry.hpp).
#pragma once

#include <cstdint>

#include "vitrine/rdpmux/host/geometry.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"

namespace vitrine::rdpmux::host {

// A PC/AT set-1 make code; `extended` is the E0 prefix (arrows, right Ctrl/Alt, keypad Enter...).
struct Scancode {
  std::uint8_t code = 0;
  bool extended = false;
  friend bool operator==(const Scancode&, const Scancode&) = default;
};

// Lock keys to synchronise (MS-RDPBCGR 2.2.8.1.1.3.1.1.5 TS_SYNC_EVENT toggleFlags).
struct LockState {
  bool scroll = false;
  bool num = false;
  bool caps = false;
  bool kana = false;
};

enum class MouseButton : std::uint8_t { kLeft, kRight, kMiddle, kX1, kX2 };
enum class WheelAxis : std::uint8_t { kVertical, kHorizontal };

// MS-RDPERP 2.2.2.6.3 system commands.
enum class SystemCommand : std::uint16_t {
  kSize = 0xF000,
  kMove = 0xF010,
  kMinimize = 0xF020,
  kMaximize = 0xF030,
  kClose = 0xF060,
  kKeyMenu = 0xF100,
  kRestore = 0xF120,
};

}  // namespace vitrine::rdpmux::host
