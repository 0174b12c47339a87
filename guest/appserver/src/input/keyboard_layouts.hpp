// Windows keyboard layout identifiers (KLIDs, as RDP carries them: MS-RDPBCGR 2.2.1.3.2
// keyboardLayout, MS-RDPERP 2.2.2.2.3 KeyboardLayout) <-> XKB layout names. A KLID's low word is
// the language id, its high word picks a variant (0x00010409 US Dvorak, 0xE0010411 an IME).
// Pure functions and one constant table: unit-tested without an X server.
//
// The host has the inverse lookup (rdpmux/host/src/keyboard_layout_detect.cpp); both follow the
// same rows, and a row added here belongs there too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vitrine::appserver::input {

struct XkbLayout {
  std::string layout;   // "de"
  std::string variant;  // "" or "nodeadkeys"
  friend bool operator==(const XkbLayout&, const XkbLayout&) = default;
};

// The XKB layout for `klid`: an exact row, else the row of its language (low word), else
// nothing (`known` false, layout "us").
struct KlidLookup {
  XkbLayout xkb;
  bool known = false;
};
[[nodiscard]] KlidLookup klid_to_xkb(uint32_t klid);

// The KLID for an XKB layout and variant: the exact row, else the layout's row without variant,
// else 0.
[[nodiscard]] uint32_t xkb_to_klid(std::string_view layout, std::string_view variant);

// The _XKB_RULES_NAMES root property (five NUL-separated strings: rules, model, layout,
// variant, options) -> the first group's layout and variant ("us,de" -> "us"). Empty layout when
// the property is malformed. The bytes come from an X server: any content is accepted.
[[nodiscard]] XkbLayout parse_xkb_rules_names(std::string_view property);

}  // namespace vitrine::appserver::input
