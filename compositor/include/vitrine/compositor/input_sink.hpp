// What the X11 backend reports back to its caller (cli/ adapts it to rdpmux, which turns it
// into RDP input and RAIL client orders). Implemented by the caller; called on the thread
// that calls X11Backend::dispatch_events(), from inside that call.
#pragma once

#include <cstdint>

#include "vitrine/compositor/geometry.hpp"
#include "vitrine/compositor/window.hpp"

namespace vitrine::compositor {

enum class PointerButton : std::uint8_t { kLeft = 1, kMiddle = 2, kRight = 3, kBack = 8, kForward = 9 };

struct KeyEvent {
  WindowId window;
  std::uint32_t x11_keycode;  // X keycode; on Linux evdev code = x11_keycode - 8
  bool pressed;
};

struct PointerEvent {
  WindowId window;
  WindowPoint position;        // in the window's pixels
  DesktopPoint desktop;        // the same point in desktop coordinates (what RDP wants)
};

struct ButtonEvent {
  PointerEvent where;
  PointerButton button;
  bool pressed;
};

struct WheelEvent {
  PointerEvent where;
  std::int32_t dx;  // notches, +right
  std::int32_t dy;  // notches, +down (away from the user)
};

class InputSink {
 public:
  virtual ~InputSink() = default;
  virtual void on_key(const KeyEvent& event) = 0;
  virtual void on_pointer_motion(const PointerEvent& event) = 0;
  virtual void on_button(const ButtonEvent& event) = 0;
  virtual void on_wheel(const WheelEvent& event) = 0;
  virtual void on_focus(WindowId window, bool focused) = 0;
  // The window manager (or the user through it) moved or resized a window. The scene is not
  // changed: the caller forwards it to the guest and applies what the guest answers.
  virtual void on_move_resize(WindowId window, const DesktopRect& rect) = 0;
  virtual void on_close_request(WindowId window) = 0;
  // The window manager changed the state (_NET_WM_STATE / iconify). Same rule as above.
  virtual void on_state_request(WindowId window, WindowState state) = 0;
};

}  // namespace vitrine::compositor
