// InputForwarder: host input -> the guest. It is the X11 backend's compositor::InputSink (called
// on the UI thread from X11Backend::dispatch_events) and turns each event into RDP terms: X
// keycodes into scancodes (rdpmux/host/scancode.hpp), pointer and wheel events into desktop
// coordinates, window manager requests into RAIL orders (activate, move, system commands).
// Key and button presses it forwards are the host input that FocusPolicy lets the guest answer
// with an activation.
// GuestInput implementations only queue, so nothing here blocks the UI thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "vitrine/compositor/input_sink.hpp"
#include "vitrine/viewer/guest_input.hpp"

namespace vitrine::viewer {

class FocusPolicy;

class InputForwarder final : public compositor::InputSink {
 public:
  // `focus` (may be nullptr) hears of every key and button press forwarded: the host input that
  // lets the guest focus its windows for a moment (focus_policy.hpp).
  explicit InputForwarder(FocusPolicy* focus = nullptr) : focus_(focus) {}
  // Where host input goes (nullptr: dropped). UI thread.
  void set_guest_input(GuestInput* input) { input_ = input; }
  // Key presses and mouse buttons forwarded so far. Any thread.
  std::uint64_t input_events() const { return input_events_.load(std::memory_order_relaxed); }

  // compositor::InputSink (UI thread).
  void on_key(const compositor::KeyEvent& event) override;
  void on_pointer_motion(const compositor::PointerEvent& event) override;
  void on_button(const compositor::ButtonEvent& event) override;
  void on_wheel(const compositor::WheelEvent& event) override;
  void on_focus(compositor::WindowId window, bool focused) override;
  void on_move_resize(compositor::WindowId window, const compositor::DesktopRect& rect) override;
  void on_close_request(compositor::WindowId window) override;
  void on_state_request(compositor::WindowId window, compositor::WindowState state) override;

 private:
  void note_press(bool pressed);

  FocusPolicy* focus_ = nullptr;
  GuestInput* input_ = nullptr;
  // A counter only (stats() reads it from any thread): relaxed is enough.
  std::atomic<std::uint64_t> input_events_{0};
};

}  // namespace vitrine::viewer
