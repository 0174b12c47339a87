// X11 + EGL backend: one override-redirect or managed X window per scene window, one EGL
// window surface each, one GL context for all (OpenGL 3.3 core, libepoxy).
//
// What it maps (EWMH / ICCCM):
//   kind kNormal  -> managed, _NET_WM_WINDOW_TYPE_NORMAL, taskbar entry when it has no owner
//   kind kTool    -> managed, _NET_WM_WINDOW_TYPE_UTILITY, _NET_WM_STATE_SKIP_TASKBAR
//   kind kPopup   -> override-redirect, _NET_WM_WINDOW_TYPE_POPUP_MENU
//   kind kTooltip -> override-redirect, _NET_WM_WINDOW_TYPE_TOOLTIP
//   (placement, size, override-redirect, title and label border: Window::host, the guard's)
//   no decorations (_MOTIF_WM_HINTS): the guest draws its own frame
//   title -> _NET_WM_NAME (UTF8_STRING) + WM_NAME; app_id -> WM_CLASS("vitrine", app_id)
//   icon -> _NET_WM_ICON; owner -> WM_TRANSIENT_FOR; visible region -> SHAPE bounding region
//   state -> _NET_WM_STATE (HIDDEN, MAXIMIZED_VERT/HORZ, FULLSCREEN); minimize = iconify
//   (without a window manager: unmap + _NET_WM_STATE_HIDDEN).
// Both ways: window-manager moves/resizes, state changes and WM_DELETE_WINDOW go to the
// InputSink as requests; the scene changes only when the caller applies them.
//
// Presentation: every surface swaps with interval 0 (with N windows, vsync-blocking swaps would
// serialise N vblanks per frame), except that with `vsync` the last window drawn in a present()
// swaps with interval 1: the loop is paced to the display once per frame, after every window
// was submitted, so no window waits a frame for another. Drivers without vsync (Xvfb) ignore it.
//
// Threading: one thread; dispatch_events() delivers to the sink from inside the call.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "vitrine/compositor/backend.hpp"
#include "vitrine/compositor/input_sink.hpp"

namespace vitrine::compositor {

class X11Monitors;
class X11Window;
struct X11Shared;

struct X11Config {
  std::string display;         // X display name; empty = $DISPLAY
  InputSink* sink = nullptr;   // caller-owned, outlives the backend; nullptr drops input
  bool vsync = true;           // pace present() to the display (see above)
};

class X11Backend final : public Backend {
 public:
  static Result<std::unique_ptr<X11Backend>> create(const X11Config& config);
  ~X11Backend() override;

  [[nodiscard]] std::string_view name() const override { return "x11-egl"; }
  Result<void> make_current() override;
  Result<void> add_window(const Window& window) override;
  void remove_window(WindowId id) override;
  Result<void> update_window(const Window& window, ChangeMask changes) override;
  void restack(std::span<const WindowId> bottom_to_top) override;
  Result<void> begin_frame(const Window& window) override;
  Result<void> end_frame(const Window& window, bool last_in_frame) override;
  void take_exposed(std::vector<WindowId>& out) override;
  Result<void> activate(const Window& window) override;
  Result<void> demand_attention(const Window& window) override;
  // RandR 1.5 monitors when libXrandr is there (dlopen), else the root window; work areas from
  // _NET_WORKAREA. Re-read when the root window, its _NET_WORKAREA or RandR's screen change.
  [[nodiscard]] std::vector<Monitor> monitors() const override;
  bool take_monitors_changed() override;
  [[nodiscard]] bool randr_monitors() const;

  // The X connection's fd: poll it for POLLIN, then call dispatch_events().
  [[nodiscard]] int connection_fd() const;
  // Handles every queued X event; returns how many. Never blocks.
  std::size_t dispatch_events();
  // Waits until the X server processed every request (tests, screenshots).
  void sync();
  // The X window id of a scene window (0 if unknown) and the Display*, for tests and tools.
  [[nodiscard]] unsigned long native_window(WindowId id) const;
  [[nodiscard]] void* native_display() const;
  [[nodiscard]] bool window_manager_running() const;
  // The X screen's size in pixels (all monitors together): "the host desktop".
  [[nodiscard]] HostRect screen() const;
  // X protocol errors seen on this connection (each one also logged to stderr once).
  [[nodiscard]] std::uint64_t x_errors() const;

 private:
  X11Backend() = default;
  X11Window* find(WindowId id);
  WindowId id_of(unsigned long xid) const;
  void handle_event(void* xevent);

  std::unique_ptr<X11Shared> x_;
  InputSink* sink_ = nullptr;
  bool vsync_ = true;
  std::unordered_map<WindowId, std::unique_ptr<X11Window>> windows_;
  std::unordered_map<unsigned long, WindowId> by_xid_;
  std::vector<WindowId> exposed_;
  std::unique_ptr<X11Monitors> monitors_;  // after x_: goes first
  bool monitors_changed_ = false;
};

}  // namespace vitrine::compositor
