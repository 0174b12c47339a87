#include "terminal_text.hpp"

#include <gtest/gtest.h>

namespace vitrine::cli {
namespace {

TEST(TerminalText, ControlSequencesFromTheGuestBecomeVisibleText) {
  // ESC [ 2 J clears the screen; OSC 0 retitles the terminal; U+009B is the one-byte CSI.
  EXPECT_EQ(escape_for_terminal("\x1b[2Jname"), "\\x1b[2Jname");
  EXPECT_EQ(escape_for_terminal("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
  EXPECT_EQ(escape_for_terminal("a\xc2\x9b" "31mred"), "a\\xc2\\x9b31mred");
  EXPECT_EQ(escape_for_terminal("two\nlines\ttab\r"), "two\\x0alines\\x09tab\\x0d");
  EXPECT_EQ(escape_for_terminal("del\x7f"), "del\\x7f");
}

TEST(TerminalText, TextStaysAsItIsAndBadUtf8IsShownByteByByte) {
  EXPECT_EQ(escape_for_terminal("Éditeur de texte – ✓ 日本"), "Éditeur de texte – ✓ 日本");
  EXPECT_EQ(escape_for_terminal("lone\xa0" "byte"), "lone\\xa0byte");  // a continuation byte alone
  EXPECT_EQ(escape_for_terminal("\xc0\xaf"), "\\xc0\\xaf");                  // overlong '/'
  EXPECT_EQ(escape_for_terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");         // a surrogate
  EXPECT_EQ(escape_for_terminal("cut\xe2\x9c"), "cut\\xe2\\x9c");            // truncated sequence
  EXPECT_EQ(escape_for_terminal("back\\slash"), "back\\\\slash");            // unambiguous
}

}  // namespace
}  // namespace vitrine::cli
