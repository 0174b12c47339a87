// Host key codes -> RDP scancodes (input.hpp's Scancode, MS-RDPBCGR 2.2.8.1.1.3.1.1.1 keyboard
// events). A pure function of its argument: tests and fuzzers can feed it any value.
#pragma once

#include <cstdint>
#include <optional>

#include "vitrine/rdpmux/host/input.hpp"

namespace vitrine::rdpmux::host {

// An X11 keycode (evdev code + 8, as X servers on Linux report it) -> its PC/AT set-1 scancode
// on an IBM enhanced (101/102-key) keyboard, through WinPR's tables (the ones xfreerdp uses).
// nullopt: the key has no scancode (the caller drops it). Any thread.
std::optional<Scancode> scancode_from_x11_keycode(std::uint32_t x11_keycode);

}  // namespace vitrine::rdpmux::host
