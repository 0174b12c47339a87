#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include "rdp/window_orders.hpp"

#include <freerdp/window.h>

namespace vitrine::appserver::rdp {
namespace {

TEST(Utf16, ConvertsAsciiBmpAndAstralCharacters) {
  EXPECT_EQ(utf8_to_utf16le("Hi", 10), (std::vector<uint8_t>{'H', 0, 'i', 0}));
  EXPECT_EQ(utf8_to_utf16le("\xc3\xa9", 10), (std::vector<uint8_t>{0xe9, 0}));
  // U+1F600 -> D83D DE00
  EXPECT_EQ(utf8_to_utf16le("\xf0\x9f\x98\x80", 10), (std::vector<uint8_t>{0x3d, 0xd8, 0x00, 0xde}));
}

TEST(Utf16, ReplacesMalformedSequencesAndCapsLength) {
  EXPECT_EQ(utf8_to_utf16le("\xff" "a", 10), (std::vector<uint8_t>{0xfd, 0xff, 'a', 0}));
  EXPECT_EQ(utf8_to_utf16le("\xe2\x82", 10), (std::vector<uint8_t>{0xfd, 0xff, 0xfd, 0xff}));
  EXPECT_EQ(utf8_to_utf16le("abcdef", 3).size(), 6u);
  // A surrogate pair never gets split by the cap.
  EXPECT_EQ(utf8_to_utf16le("a\xf0\x9f\x98\x80", 2).size(), 2u);
}

TEST(WindowStyle, PopupsAreToolWindowsSoTheClientMakesThemOverrideRedirect) {
  WindowInfo popup;
  popup.kind = WindowKind::kPopup;
  EXPECT_TRUE(style_for(popup).ex_style & WS_EX_TOOLWINDOW);
  WindowInfo normal;
  EXPECT_FALSE(style_for(normal).ex_style & (WS_EX_TOOLWINDOW | WS_EX_NOACTIVATE));
  EXPECT_TRUE(style_for(normal).ex_style & WS_EX_APPWINDOW);
  WindowInfo dialog;
  dialog.kind = WindowKind::kDialog;
  EXPECT_TRUE(style_for(dialog).style & WS_POPUP);
}

}  // namespace
}  // namespace vitrine::appserver::rdp
