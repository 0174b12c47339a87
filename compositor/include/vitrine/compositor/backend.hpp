// A window system the compositor draws into. Two implementations: X11Backend (real desktops,
// Xvfb in tests) and HeadlessBackend (off-screen, read-back). A backend owns the one GL
// context (OpenGL 3.3 core through EGL) and one drawable per shown window. A window's host
// placement, size, title, border and override-redirect come from Window::host (the compositor's
// WindowGuard), never straight from the guest's description.
//
// Called only by Compositor, on its thread, with the GL context current (make_current()).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/window.hpp"
#include "vitrine/compositor/window_guard.hpp"

namespace vitrine::compositor {

class Backend {
 public:
  virtual ~Backend() = default;
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  [[nodiscard]] virtual std::string_view name() const = 0;
  // Makes the GL context current on the calling thread with no window drawable bound.
  virtual Result<void> make_current() = 0;

  virtual Result<void> add_window(const Window& window) = 0;
  virtual void remove_window(WindowId id) = 0;
  virtual Result<void> update_window(const Window& window, ChangeMask changes) = 0;
  // Full stacking order, bottom to top. It may name windows that were never added (parked by the
  // compositor's pixel budget): skip them.
  virtual void restack(std::span<const WindowId> bottom_to_top) = 0;

  // Binds the window's drawable as GL_DRAW_FRAMEBUFFER (size = the window's size) ...
  virtual Result<void> begin_frame(const Window& window) = 0;
  // ... and shows what was drawn (eglSwapBuffers, or nothing off-screen). `last_in_frame`:
  // no other window follows in this present(); a backend that paces to the display waits here.
  virtual Result<void> end_frame(const Window& window, bool last_in_frame) = 0;

  // Gives the window keyboard focus (the scene already raised it). Off-screen: nothing.
  virtual Result<void> activate(const Window& window) {
    (void)window;
    return {};
  }

  // Asks for the user's attention without focusing (X11: urgency hint). Off-screen: nothing.
  virtual Result<void> demand_attention(const Window& window) {
    (void)window;
    return {};
  }

  // The host's monitors with their work areas (window_guard.hpp); empty when unknown.
  [[nodiscard]] virtual std::vector<Monitor> monitors() const { return {}; }
  // True once after the monitors or work areas changed (the compositor then re-reads them).
  virtual bool take_monitors_changed() { return false; }

  // Windows whose pixels the window system lost since the last call (X11 Expose).
  virtual void take_exposed(std::vector<WindowId>& out) { (void)out; }
};

}  // namespace vitrine::compositor
