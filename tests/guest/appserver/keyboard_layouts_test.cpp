// The guest's KLID <-> XKB layout table (guest/appserver/src/input/keyboard_layouts.hpp).
#include <gtest/gtest.h>

#include <string>

#include "input/keyboard_layouts.hpp"

namespace vitrine::appserver::input {
namespace {

using namespace std::string_literals;

TEST(KeyboardLayouts, TheLayoutsTheIssueNamesMapBothWays) {
  struct Case {
    uint32_t klid;
    const char* layout;
  };
  for (const Case c : {Case{0x409, "us"}, {0x809, "gb"}, {0x407, "de"}, {0x40c, "fr"}, {0x40a, "es"}, {0x410, "it"},
                       {0x807, "ch"}, {0x41d, "se"}, {0x414, "no"}, {0x406, "dk"}, {0x40b, "fi"}, {0x816, "pt"},
                       {0x416, "br"}, {0x80c, "be"}, {0x413, "nl"}, {0x415, "pl"}, {0x405, "cz"}, {0x419, "ru"},
                       {0x411, "jp"}}) {
    const KlidLookup x = klid_to_xkb(c.klid);
    EXPECT_TRUE(x.known) << std::hex << c.klid;
    EXPECT_EQ(x.xkb, (XkbLayout{c.layout, ""})) << std::hex << c.klid;
    EXPECT_EQ(xkb_to_klid(c.layout, ""), c.klid) << c.layout;
  }
}

TEST(KeyboardLayouts, VariantsWithTheirOwnWindowsLayoutKeepTheirVariant) {
  EXPECT_EQ(klid_to_xkb(0x00020409).xkb, (XkbLayout{"us", "intl"}));
  EXPECT_EQ(klid_to_xkb(0x00010409).xkb, (XkbLayout{"us", "dvorak"}));
  EXPECT_EQ(klid_to_xkb(0x0000100c).xkb, (XkbLayout{"ch", "fr"}));
  EXPECT_EQ(xkb_to_klid("us", "intl"), 0x00020409u);
  EXPECT_EQ(xkb_to_klid("ch", "fr"), 0x0000100cu);
}

TEST(KeyboardLayouts, UnknownVariantsFallBackToTheirLayout) {
  EXPECT_EQ(xkb_to_klid("de", "nodeadkeys"), 0x407u);
  EXPECT_EQ(xkb_to_klid("fr", "oss"), 0x40cu);
  EXPECT_EQ(xkb_to_klid("xx", ""), 0u);
  EXPECT_EQ(xkb_to_klid("", ""), 0u);
}

TEST(KeyboardLayouts, OtherLayoutsOfAKnownLanguageUseTheLanguagesRow) {
  EXPECT_EQ(klid_to_xkb(0x00010407).xkb.layout, "de");  // German (IBM)
  EXPECT_EQ(klid_to_xkb(0xe0010411).xkb.layout, "jp");  // Japanese IME
  EXPECT_EQ(klid_to_xkb(0x00010416).xkb.layout, "br");  // ABNT2
}

TEST(KeyboardLayouts, AnUnknownKlidGivesUsAndSaysSo) {
  const KlidLookup x = klid_to_xkb(0x0000047e);  // Breton: not in the table
  EXPECT_FALSE(x.known);
  EXPECT_EQ(x.xkb, (XkbLayout{"us", ""}));
}

TEST(KeyboardLayouts, RulesNamesPropertyGivesGroupOnesLayoutAndVariant) {
  EXPECT_EQ(parse_xkb_rules_names("evdev\0pc105\0de\0nodeadkeys\0\0"s), (XkbLayout{"de", "nodeadkeys"}));
  EXPECT_EQ(parse_xkb_rules_names("evdev\0pc105\0us,de\0,nodeadkeys\0grp:alt_shift_toggle\0"s), (XkbLayout{"us", ""}));
  EXPECT_EQ(parse_xkb_rules_names("evdev\0pc105\0fr"s), (XkbLayout{"fr", ""}));
}

TEST(KeyboardLayouts, MalformedRulesNamesGiveNoLayout) {
  EXPECT_EQ(parse_xkb_rules_names(""), XkbLayout{});
  EXPECT_EQ(parse_xkb_rules_names("evdev\0pc105"s), XkbLayout{});
  EXPECT_EQ(parse_xkb_rules_names(std::string(5000, '\0')), XkbLayout{});
}

}  // namespace
}  // namespace vitrine::appserver::input
