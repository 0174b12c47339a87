#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include "x11/scancode_map.hpp"


namespace vitrine::appserver {
namespace {

// Keycodes of Xvfb's default (evdev) keymap, as `xmodmap -pk` lists them.
TEST(ScancodeMap, PlainKeysAreLinuxCodesPlusEight) {
  EXPECT_EQ(scancode_to_x_keycode(0x1e, false), 38);  // a
  EXPECT_EQ(scancode_to_x_keycode(0x1c, false), 36);  // Return
  EXPECT_EQ(scancode_to_x_keycode(0x39, false), 65);  // space
  EXPECT_EQ(scancode_to_x_keycode(0x2a, false), 50);  // Shift_L
}

TEST(ScancodeMap, ExtendedKeysUseTheirOwnCodes) {
  EXPECT_EQ(scancode_to_x_keycode(0x48, true), 111);  // Up
  EXPECT_EQ(scancode_to_x_keycode(0x1c, true), 104);  // KP_Enter
  EXPECT_EQ(scancode_to_x_keycode(0x38, true), 108);  // Alt_R
  EXPECT_EQ(scancode_to_x_keycode(0x53, true), 119);  // Delete
}

TEST(ScancodeMap, UnknownCodesMapToNothing) {
  EXPECT_EQ(scancode_to_x_keycode(0, false), 0);
  EXPECT_EQ(scancode_to_x_keycode(0x80, false), 0);
  EXPECT_EQ(scancode_to_x_keycode(0xffff, true), 0);
  EXPECT_EQ(scancode_to_x_keycode(0x10, true), 0);
}

}  // namespace
}  // namespace vitrine::appserver
