#include "input_forwarder.hpp"

#include "focus_policy.hpp"
#include "geometry.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/rdpmux/host/scancode.hpp"

namespace vitrine::viewer {

namespace rh = rdpmux::host;
namespace comp = compositor;

void InputForwarder::note_press(bool pressed) {
  if (pressed && focus_ != nullptr) focus_->note_input(base::monotonic_ns());
}

void InputForwarder::on_key(const comp::KeyEvent& event) {
  if (input_ == nullptr) return;
  const auto code = rh::scancode_from_x11_keycode(event.x11_keycode);
  if (!code) {
    base::log_debug("display: X keycode {} has no RDP scancode; dropped", event.x11_keycode);
    return;
  }
  input_->key(*code, event.pressed);
  input_events_.fetch_add(1, std::memory_order_relaxed);
  note_press(event.pressed);
}

void InputForwarder::on_pointer_motion(const comp::PointerEvent& event) {
  if (input_ == nullptr) return;
  input_->mouse_move({event.desktop.x, event.desktop.y});
}

void InputForwarder::on_button(const comp::ButtonEvent& event) {
  if (input_ == nullptr) return;
  rh::MouseButton button;
  switch (event.button) {
    case comp::PointerButton::kLeft: button = rh::MouseButton::kLeft; break;
    case comp::PointerButton::kMiddle: button = rh::MouseButton::kMiddle; break;
    case comp::PointerButton::kRight: button = rh::MouseButton::kRight; break;
    case comp::PointerButton::kBack: button = rh::MouseButton::kX1; break;
    case comp::PointerButton::kForward: button = rh::MouseButton::kX2; break;
    default: return;
  }
  input_->mouse_button(button, event.pressed, {event.where.desktop.x, event.where.desktop.y});
  input_events_.fetch_add(1, std::memory_order_relaxed);
  note_press(event.pressed);
}

void InputForwarder::on_wheel(const comp::WheelEvent& event) {
  if (input_ == nullptr) return;
  const rh::DesktopPoint at{event.where.desktop.x, event.where.desktop.y};
  // X: dy > 0 is down (towards the user); RDP: positive is away from the user. 120 per notch.
  if (event.dy != 0) input_->wheel(rh::WheelAxis::kVertical, -event.dy * 120, at);
  if (event.dx != 0) input_->wheel(rh::WheelAxis::kHorizontal, event.dx * 120, at);
}

void InputForwarder::on_focus(comp::WindowId window, bool focused) {
  if (input_ != nullptr) input_->activate(static_cast<rh::WindowId>(window), focused);
}

void InputForwarder::on_move_resize(comp::WindowId window, const comp::DesktopRect& rect) {
  if (input_ != nullptr) input_->window_move(static_cast<rh::WindowId>(window), to_rdp(rect));
}

void InputForwarder::on_close_request(comp::WindowId window) {
  if (input_ != nullptr) input_->system_command(static_cast<rh::WindowId>(window), rh::SystemCommand::kClose);
}

void InputForwarder::on_state_request(comp::WindowId window, comp::WindowState state) {
  if (input_ == nullptr) return;
  rh::SystemCommand command = rh::SystemCommand::kRestore;
  if (state == comp::WindowState::kMinimized) command = rh::SystemCommand::kMinimize;
  else if (state == comp::WindowState::kMaximized || state == comp::WindowState::kFullscreen)
    command = rh::SystemCommand::kMaximize;
  input_->system_command(static_cast<rh::WindowId>(window), command);
}

}  // namespace vitrine::viewer
