// The host's keyboard layout as a Windows KLID (what RDP carries in the client core data's
// keyboardLayout, MS-RDPBCGR 2.2.1.3.2, and the RAIL Language Profile PDU, MS-RDPERP
// 2.2.2.2.3), read from the host X server's XKB rules names.
//
// The guest maps the KLID back to an XKB layout (guest/appserver/src/input/keyboard_layouts.cpp,
// the same rows in the other direction: a row added here belongs there too).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vitrine::rdpmux::host {

inline constexpr std::uint32_t kKlidUsEnglish = 0x00000409;

struct XkbLayoutName {
  std::string layout;   // group 1 only: "us,de" gives "us"
  std::string variant;
};

// _XKB_RULES_NAMES (rules, model, layout, variant, options; NUL-separated) -> group 1's layout
// and variant; empty layout when malformed. Any bytes are accepted.
[[nodiscard]] XkbLayoutName parse_xkb_rules_names(std::string_view property);

// The KLID of an XKB layout/variant: the exact row, else the layout without variant, else 0.
[[nodiscard]] std::uint32_t klid_for_xkb(std::string_view layout, std::string_view variant);

// Reads _XKB_RULES_NAMES of the X server `display` (empty: $DISPLAY) and maps it. An
// unreachable server, a missing property or a layout outside the table give US English
// (0x409), said in one log line. Blocks for one X round trip; any thread.
[[nodiscard]] std::uint32_t detect_host_keyboard_layout(const std::string& display = {});

}  // namespace vitrine::rdpmux::host
