// scancode_from_x11_keycode: X keycodes (evdev + 8) -> PC/AT set-1 scancodes, the table the
// viewer's input forwarder sends host keys through.
#include <gtest/gtest.h>

#include <cstdint>

#include "vitrine/rdpmux/host/scancode.hpp"

namespace vitrine::rdpmux::host {
namespace {

constexpr std::uint32_t x11(std::uint32_t evdev) { return evdev + 8; }  // X's offset on Linux

TEST(ScancodeTest, LettersDigitsAndControlKeysHaveTheirSet1MakeCodes) {
  EXPECT_EQ(scancode_from_x11_keycode(x11(1)), (Scancode{0x01, false}));   // Esc
  EXPECT_EQ(scancode_from_x11_keycode(x11(2)), (Scancode{0x02, false}));   // 1
  EXPECT_EQ(scancode_from_x11_keycode(x11(30)), (Scancode{0x1E, false}));  // A
  EXPECT_EQ(scancode_from_x11_keycode(x11(28)), (Scancode{0x1C, false}));  // Enter
  EXPECT_EQ(scancode_from_x11_keycode(x11(42)), (Scancode{0x2A, false}));  // left Shift
  EXPECT_EQ(scancode_from_x11_keycode(x11(29)), (Scancode{0x1D, false}));  // left Ctrl
  EXPECT_EQ(scancode_from_x11_keycode(x11(57)), (Scancode{0x39, false}));  // Space
}

TEST(ScancodeTest, KeysOfTheEnhancedKeyboardCarryTheE0Prefix) {
  EXPECT_EQ(scancode_from_x11_keycode(x11(103)), (Scancode{0x48, true}));  // Up
  EXPECT_EQ(scancode_from_x11_keycode(x11(108)), (Scancode{0x50, true}));  // Down
  EXPECT_EQ(scancode_from_x11_keycode(x11(96)), (Scancode{0x1C, true}));   // keypad Enter
  EXPECT_EQ(scancode_from_x11_keycode(x11(97)), (Scancode{0x1D, true}));   // right Ctrl
  EXPECT_EQ(scancode_from_x11_keycode(x11(100)), (Scancode{0x38, true}));  // right Alt
}

TEST(ScancodeTest, KeycodesWithoutAScancodeAreNoneNotGarbage) {
  EXPECT_EQ(scancode_from_x11_keycode(0), std::nullopt);  // X never sends 0-7
  // Every value of the X keycode range (8-255) and past it: a scancode is never 0 (the table's
  // "none"), and nothing reads outside WinPR's tables (ASan).
  for (std::uint32_t code = 0; code < 1024; ++code) {
    const auto sc = scancode_from_x11_keycode(code);
    if (sc) {
      EXPECT_NE(sc->code, 0) << "X keycode " << code;
    }
  }
}

}  // namespace
}  // namespace vitrine::rdpmux::host
