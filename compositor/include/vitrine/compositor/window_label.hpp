// WindowLabel: how the host marks every window of one VM so that a user can always tell it from
// a host window (Qubes' idea): a coloured border the compositor draws over the window's outermost
// pixels, and a title prefix. The guest cannot remove either: the border is drawn after the
// guest's pixels and survives its shape, and the title the host shows is always
// prefix + host_title_part(guest title).
//
// Pure functions (no X, no GL) so that tests and a fuzzer can reach them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vitrine::compositor {

struct WindowLabel {
  std::string title_prefix;        // e.g. "[work] "; shown before every title (may be empty)
  std::uint32_t rgb = 0xcc0000u;   // border colour, 0xRRGGBB
  std::int32_t border_px = 2;      // border on every window; 0: only on windows that cover a monitor
  // A window that covers (nearly) a whole monitor, or is maximized or fullscreen, always gets at
  // least this border, whatever border_px says: it could otherwise pass for the host's screen.
  static constexpr std::int32_t kMinMarkerPx = 2;
  static constexpr std::int32_t kMaxBorderPx = 32;
  static constexpr std::size_t kMaxPrefixBytes = 64;
};

// The guest's part of a host title: valid UTF-8 (invalid bytes become U+FFFD), without C0/C1
// control characters, DEL, or Unicode format characters that reorder or hide text (bidi
// overrides and isolates, zero-width and line/paragraph separators): each becomes a space;
// runs of spaces collapse to one. Leading spaces and leading bracketed tags ("[...]", "<...>",
// "(...)" of up to 64 bytes) are removed, so a guest cannot show another VM's (or the host's)
// label after ours: "[vm] [host] Terminal" cannot happen. Trailing spaces go too.
std::string host_title_part(std::string_view guest_title);

// prefix + host_title_part(guest_title): what _NET_WM_NAME / WM_NAME say.
std::string labelled_title(const WindowLabel& label, std::string_view guest_title);

}  // namespace vitrine::compositor
