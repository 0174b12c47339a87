// Makes the guest X server's keyboard layout follow the RDP client's (its KLID, sent in the
// client core data at connect, MS-RDPBCGR 2.2.1.3.2, and in the RAIL Language Profile
// Information PDU when the host switches layouts, MS-RDPERP 2.2.2.2.3).
//
// RDP key events carry positions (set-1 scancodes), which the appserver turns into evdev
// keycodes (x11/scancode_map.hpp) whatever the layout: the guest's XKB keymap decides which
// keysym a position gives, so it must be the host's layout for AltGr, dead keys and national
// characters to come out as the user typed them. The keymap is set with `setxkbmap` (package
// x11-xkb-utils), which compiles the XKB rules' keymap with xkbcomp and loads it into the server;
// every X client of the guest sees the change (MappingNotify).
//
// Single-threaded: the session thread. apply() blocks while setxkbmap runs (tens of ms; bounded).
#pragma once

#include <X11/Xlib.h>

#include <cstdint>
#include <expected>
#include <string>

#include "keyboard_layouts.hpp"

namespace vitrine::appserver::input {

// What apply() did.
enum class LayoutChange {
  kUnchanged,  // the guest already had that layout (or the KLID was 0: the client did not say)
  kApplied,
};

class KeyboardLayoutApplier {
 public:
  // `dpy`: the appserver's connection to the guest X server (its name is given to setxkbmap).
  explicit KeyboardLayoutApplier(Display* dpy) : dpy_(dpy) {}

  // Sets the guest keymap to the XKB layout for `klid` (keyboard_layouts.hpp; unknown KLIDs
  // give "us" and say so in the log). Error: setxkbmap is missing, failed or hung; the keymap is
  // then whatever it was.
  std::expected<LayoutChange, std::string> apply(uint32_t klid);

  // The guest X server's current layout and variant (its _XKB_RULES_NAMES, first group).
  [[nodiscard]] XkbLayout current() const;

 private:
  Display* dpy_;
};

}  // namespace vitrine::appserver::input
