// KeyboardLayoutWatch: tells when the host's keyboard layout changes (setxkbmap, a desktop's
// layout switcher), so that `vitrine run` can send the new layout to the guest
// (RemoteSession::keyboard_layout_changed, a RAIL Language Profile PDU).
//
// XKB tools and desktops rewrite the root window's _XKB_RULES_NAMES property when they switch
// layouts; this watches it with PropertyNotify on its own X connection, whose fd the UI loop polls:
// nothing is polled on a timer.
#pragma once

#include <memory>
#include <string>

namespace vitrine::cli {

class KeyboardLayoutWatch {
 public:
  // nullptr when `display` cannot be opened (headless: nothing to watch).
  static std::unique_ptr<KeyboardLayoutWatch> open(const std::string& display);
  ~KeyboardLayoutWatch();
  KeyboardLayoutWatch(const KeyboardLayoutWatch&) = delete;
  KeyboardLayoutWatch& operator=(const KeyboardLayoutWatch&) = delete;

  [[nodiscard]] int fd() const;
  // Reads what the X server sent; true when the layout property changed since the last call.
  bool changed();

 private:
  KeyboardLayoutWatch() = default;
  struct X;
  std::unique_ptr<X> x_;
};

}  // namespace vitrine::cli
