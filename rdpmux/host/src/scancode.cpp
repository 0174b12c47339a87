#include "vitrine/rdpmux/host/scancode.hpp"

#include <winpr/input.h>

namespace vitrine::rdpmux::host {

std::optional<Scancode> scancode_from_x11_keycode(std::uint32_t x11_keycode) {
  const DWORD vk = GetVirtualKeyCodeFromKeycode(x11_keycode, KEYCODE_TYPE_EVDEV);
  if (vk == 0) return std::nullopt;
  const DWORD sc = GetVirtualScanCodeFromVirtualKeyCode(vk, 4);  // 4: IBM enhanced (101/102) keyboard
  if ((sc & 0xFF) == 0) return std::nullopt;
  return Scancode{static_cast<std::uint8_t>(sc & 0xFF), (sc & KBDEXT) != 0};
}

}  // namespace vitrine::rdpmux::host
