// RDP keyboard scancodes (PC/AT set 1, MS-RDPBCGR 2.2.8.1.1.3.1.1.1) to X keycodes of an X
// server that uses the evdev keycode set (Xvfb, Xorg with libinput/evdev: keycode = Linux
// input code + 8). Set-1 codes without the E0 prefix equal the Linux input codes; extended
// (E0) keys have their own Linux codes. Pure functions: unit-tested without an X server.
#pragma once

#include <cstdint>

namespace vitrine::appserver {

// Returns 0 when the scancode has no key.
[[nodiscard]] uint8_t scancode_to_x_keycode(uint16_t scancode, bool extended);

}  // namespace vitrine::appserver
