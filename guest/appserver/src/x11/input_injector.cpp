#include "input_injector.hpp"

#include <X11/extensions/XTest.h>

#include <algorithm>

#include "scancode_map.hpp"

namespace vitrine::appserver::x11 {

void InputInjector::key(uint16_t scancode, bool extended, bool down) {
  const uint8_t keycode = scancode_to_x_keycode(scancode, extended);
  if (keycode == 0) {
    ++dropped_;
    return;
  }
  // Auto-repeat from the client arrives as repeated downs; X expects the same.
  XTestFakeKeyEvent(display_.get(), keycode, down ? True : False, CurrentTime);
  keys_down_.set(keycode, down);
}

bool InputInjector::unicode(uint32_t code_point, bool down) {
  // Latin-1 keysyms equal their code points; the rest of Unicode maps to 0x01000000 + cp.
  const KeySym sym = code_point < 0x100 ? code_point : 0x01000000UL + code_point;
  const KeyCode keycode = XKeysymToKeycode(display_.get(), sym);
  if (keycode == 0) {
    ++dropped_;
    return false;
  }
  XTestFakeKeyEvent(display_.get(), keycode, down ? True : False, CurrentTime);
  keys_down_.set(keycode, down);
  return true;
}

void InputInjector::motion(int32_t x, int32_t y) {
  x = std::clamp(x, 0, std::max(0, display_.screen_width() - 1));
  y = std::clamp(y, 0, std::max(0, display_.screen_height() - 1));
  XTestFakeMotionEvent(display_.get(), DefaultScreen(display_.get()), x, y, CurrentTime);
}

void InputInjector::button(unsigned button, bool down) {
  if (button == 0 || button >= buttons_down_.size()) {
    ++dropped_;
    return;
  }
  XTestFakeButtonEvent(display_.get(), button, down ? True : False, CurrentTime);
  buttons_down_.set(button, down);
}

void InputInjector::wheel(int clicks_up, bool horizontal) {
  const unsigned b = horizontal ? (clicks_up > 0 ? 6 : 7) : (clicks_up > 0 ? 4 : 5);
  // Bound a hostile rotation value: RDP carries at most 255 units, 120 per notch.
  const int n = std::min(std::abs(clicks_up), 8);
  for (int i = 0; i < n; ++i) {
    XTestFakeButtonEvent(display_.get(), b, True, CurrentTime);
    XTestFakeButtonEvent(display_.get(), b, False, CurrentTime);
  }
}

void InputInjector::release_all() {
  Display* dpy = display_.get();
  for (size_t k = 0; k < keys_down_.size(); ++k) {
    if (keys_down_.test(k)) XTestFakeKeyEvent(dpy, static_cast<unsigned>(k), False, CurrentTime);
  }
  for (size_t b = 0; b < buttons_down_.size(); ++b) {
    if (buttons_down_.test(b)) XTestFakeButtonEvent(dpy, static_cast<unsigned>(b), False, CurrentTime);
  }
  keys_down_.reset();
  buttons_down_.reset();
  XFlush(dpy);
}

}  // namespace vitrine::appserver::x11
