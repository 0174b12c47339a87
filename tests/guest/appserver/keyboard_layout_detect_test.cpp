// The host's keyboard layout detection (rdpmux/host/src/keyboard_layout_detect.hpp) and that the
// guest maps what the host sends back to the same XKB layout.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include <cstdlib>
#include <string>

#include "input/keyboard_layouts.hpp"
#include "keyboard_layout_detect.hpp"
#include "support/child_process.hpp"
#include "support/xvfb.hpp"

namespace vitrine::appserver::testing {
namespace {

using namespace std::string_literals;
namespace host = rdpmux::host;

TEST(KeyboardLayoutDetect, TheLayoutsTheIssueNamesHaveAKlid) {
  EXPECT_EQ(host::klid_for_xkb("us", ""), 0x409u);
  EXPECT_EQ(host::klid_for_xkb("gb", ""), 0x809u);
  EXPECT_EQ(host::klid_for_xkb("de", ""), 0x407u);
  EXPECT_EQ(host::klid_for_xkb("de", "nodeadkeys"), 0x407u);
  EXPECT_EQ(host::klid_for_xkb("fr", ""), 0x40cu);
  EXPECT_EQ(host::klid_for_xkb("ch", ""), 0x807u);
  EXPECT_EQ(host::klid_for_xkb("ch", "fr"), 0x100cu);
  EXPECT_EQ(host::klid_for_xkb("us", "intl"), 0x20409u);
  EXPECT_EQ(host::klid_for_xkb("jp", ""), 0x411u);
  EXPECT_EQ(host::klid_for_xkb("xx", ""), 0u);
}

TEST(KeyboardLayoutDetect, RulesNamesGiveGroupOne) {
  const auto n = host::parse_xkb_rules_names("evdev\0pc105\0de,us\0nodeadkeys,\0\0"s);
  EXPECT_EQ(n.layout, "de");
  EXPECT_EQ(n.variant, "nodeadkeys");
  EXPECT_TRUE(host::parse_xkb_rules_names("evdev"s).layout.empty());
}

// What the host sends for a layout, the guest turns back into that layout: the two tables
// (one per side) agree.
TEST(KeyboardLayoutDetect, TheGuestMapsEveryHostKlidBackToItsLayout) {
  for (const char* layout : {"us", "gb", "de", "fr", "es", "it", "ch", "se", "no", "dk", "fi", "pt", "br", "be", "nl",
                             "pl", "cz", "ru", "jp", "at", "ca", "latam", "hu", "sk", "tr", "gr", "ua", "kr"}) {
    const uint32_t klid = host::klid_for_xkb(layout, "");
    ASSERT_NE(klid, 0u) << layout;
    const auto back = input::klid_to_xkb(klid);
    EXPECT_TRUE(back.known) << layout;
    EXPECT_EQ(back.xkb.layout, layout) << std::hex << klid;
    EXPECT_EQ(input::xkb_to_klid(layout, ""), klid) << layout;
  }
  for (const auto& [layout, variant] : {std::pair{"us", "intl"}, {"us", "dvorak"}, {"ch", "fr"}, {"cz", "qwerty"}}) {
    const auto back = input::klid_to_xkb(host::klid_for_xkb(layout, variant));
    EXPECT_EQ(back.xkb, (input::XkbLayout{layout, variant}));
  }
}

TEST(KeyboardLayoutDetect, NoXServerMeansUsEnglish) {
  EXPECT_EQ(host::detect_host_keyboard_layout(":65000"), 0x409u);
}

TEST(KeyboardLayoutDetect, ReadsTheLayoutOfARealXServer) {
  for (const char* p : {"Xvfb", "setxkbmap"})
    if (!have_program(p)) GTEST_SKIP() << p << " not installed (scripts/deps/appserver.txt)";
  auto x = Xvfb::start(320, 240);  // its own connection keeps the server from resetting the keymap
  if (!x) GTEST_SKIP() << "Xvfb did not start";
  EXPECT_EQ(host::detect_host_keyboard_layout(x->display()), 0x409u);  // Xvfb's default: us
  const auto set = [&](const std::string& layout, const std::string& variant) {
    const std::string cmd = "setxkbmap -display '" + x->display() + "' -layout '" + layout + "' -variant '" +
                            variant + "' 2>/dev/null";
    return std::system(cmd.c_str());
  };
  ASSERT_EQ(set("de", "nodeadkeys"), 0);
  EXPECT_EQ(host::detect_host_keyboard_layout(x->display()), 0x407u);
  ASSERT_EQ(set("fr", ""), 0);
  EXPECT_EQ(host::detect_host_keyboard_layout(x->display()), 0x40cu);
  ASSERT_EQ(set("ch", "fr"), 0);
  EXPECT_EQ(host::detect_host_keyboard_layout(x->display()), 0x100cu);
  ASSERT_EQ(set("ir", ""), 0);  // Persian: not in the table
  EXPECT_EQ(host::detect_host_keyboard_layout(x->display()), 0x409u);
}

}  // namespace
}  // namespace vitrine::appserver::testing
