// Injects the client's keyboard and mouse input into the guest X server through XTest.
// Coordinates are desktop coordinates. Remembers what it pressed so that a client that
// disconnects with a key or button held never leaves it stuck for the next client.
#pragma once

#include <X11/Xlib.h>

#include <bitset>
#include <cstdint>

#include "x_display.hpp"

namespace vitrine::appserver::x11 {

class InputInjector {
 public:
  explicit InputInjector(XDisplay& display) : display_(display) {}
  ~InputInjector() { release_all(); }
  InputInjector(const InputInjector&) = delete;
  InputInjector& operator=(const InputInjector&) = delete;

  void key(uint16_t scancode, bool extended, bool down);
  // A Unicode code point (RDP unicode keyboard event): pressed via its keysym when the keymap
  // has it; returns false otherwise.
  bool unicode(uint32_t code_point, bool down);
  void motion(int32_t x, int32_t y);
  // X button number: 1 left, 2 middle, 3 right, 4/5 wheel, 6/7 horizontal wheel, 8/9 extra.
  void button(unsigned button, bool down);
  void wheel(int clicks_up, bool horizontal);
  // Releases every key and button this injector holds down.
  void release_all();
  [[nodiscard]] uint64_t dropped() const { return dropped_; }

 private:
  XDisplay& display_;
  std::bitset<256> keys_down_;
  std::bitset<16> buttons_down_;
  uint64_t dropped_ = 0;  // events with no X equivalent
};

}  // namespace vitrine::appserver::x11
