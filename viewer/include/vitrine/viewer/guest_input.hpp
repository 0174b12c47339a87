// GuestInput: where the viewer sends host input (InputForwarder, on the UI thread). RdpClient and
// RemoteSession both fit, through GuestInputOf; tests give their own.
#pragma once

#include "vitrine/rdpmux/host/geometry.hpp"
#include "vitrine/rdpmux/host/input.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"

namespace vitrine::viewer {

// What host input the display forwards to the guest (RdpClient and RemoteSession both fit,
// through GuestInputOf below). Called on the UI thread; must not block.
class GuestInput {
 public:
  virtual ~GuestInput() = default;
  virtual void key(rdpmux::host::Scancode code, bool down) = 0;
  virtual void mouse_move(rdpmux::host::DesktopPoint at) = 0;
  virtual void mouse_button(rdpmux::host::MouseButton button, bool down, rdpmux::host::DesktopPoint at) = 0;
  virtual void wheel(rdpmux::host::WheelAxis axis, int delta, rdpmux::host::DesktopPoint at) = 0;
  virtual void activate(rdpmux::host::WindowId window, bool active) = 0;
  virtual void system_command(rdpmux::host::WindowId window, rdpmux::host::SystemCommand command) = 0;
  virtual void window_move(rdpmux::host::WindowId window, rdpmux::host::DesktopRect frame) = 0;
};

template <typename Client>
class GuestInputOf final : public GuestInput {
 public:
  explicit GuestInputOf(Client& client) : client_(client) {}
  void key(rdpmux::host::Scancode code, bool down) override { client_.key(code, down); }
  void mouse_move(rdpmux::host::DesktopPoint at) override { client_.mouse_move(at); }
  void mouse_button(rdpmux::host::MouseButton b, bool down, rdpmux::host::DesktopPoint at) override {
    client_.mouse_button(b, down, at);
  }
  void wheel(rdpmux::host::WheelAxis axis, int delta, rdpmux::host::DesktopPoint at) override {
    client_.wheel(axis, delta, at);
  }
  void activate(rdpmux::host::WindowId w, bool active) override { client_.activate(w, active); }
  void system_command(rdpmux::host::WindowId w, rdpmux::host::SystemCommand c) override {
    client_.system_command(w, c);
  }
  void window_move(rdpmux::host::WindowId w, rdpmux::host::DesktopRect frame) override {
    client_.window_move(w, frame);
  }

 private:
  Client& client_;
};

}  // namespace vitrine::viewer
