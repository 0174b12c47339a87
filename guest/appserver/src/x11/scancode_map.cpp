#include "scancode_map.hpp"

namespace vitrine::appserver {
namespace {
constexpr uint8_t kEvdevOffset = 8;
}

uint8_t scancode_to_x_keycode(uint16_t scancode, bool extended) {
  if (scancode == 0 || scancode > 0x7f) return 0;
  if (!extended) return static_cast<uint8_t>(scancode + kEvdevOffset);
  // E0-prefixed keys: Linux input codes from linux/input-event-codes.h.
  switch (scancode) {
    case 0x1c: return 96 + kEvdevOffset;   // KEY_KPENTER
    case 0x1d: return 97 + kEvdevOffset;   // KEY_RIGHTCTRL
    case 0x35: return 98 + kEvdevOffset;   // KEY_KPSLASH
    case 0x37: return 99 + kEvdevOffset;   // KEY_SYSRQ (Print Screen)
    case 0x38: return 100 + kEvdevOffset;  // KEY_RIGHTALT
    case 0x47: return 102 + kEvdevOffset;  // KEY_HOME
    case 0x48: return 103 + kEvdevOffset;  // KEY_UP
    case 0x49: return 104 + kEvdevOffset;  // KEY_PAGEUP
    case 0x4b: return 105 + kEvdevOffset;  // KEY_LEFT
    case 0x4d: return 106 + kEvdevOffset;  // KEY_RIGHT
    case 0x4f: return 107 + kEvdevOffset;  // KEY_END
    case 0x50: return 108 + kEvdevOffset;  // KEY_DOWN
    case 0x51: return 109 + kEvdevOffset;  // KEY_PAGEDOWN
    case 0x52: return 110 + kEvdevOffset;  // KEY_INSERT
    case 0x53: return 111 + kEvdevOffset;  // KEY_DELETE
    case 0x5b: return 125 + kEvdevOffset;  // KEY_LEFTMETA
    case 0x5c: return 126 + kEvdevOffset;  // KEY_RIGHTMETA
    case 0x5d: return 127 + kEvdevOffset;  // KEY_COMPOSE (Menu)
    case 0x46: return 119 + kEvdevOffset;  // KEY_PAUSE (Ctrl+Break)
    default: return 0;
  }
}

}  // namespace vitrine::appserver
