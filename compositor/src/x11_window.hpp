// Private: one X window + its EGL surface, and the connection-wide state they share.
#pragma once

#include <X11/Xlib.h>
#include <epoxy/egl.h>

#include <deque>
#include <memory>
#include <optional>

#include "egl_context.hpp"
#include "vitrine/compositor/window.hpp"
#include "x11_atoms.hpp"

namespace vitrine::compositor {

struct X11Shared {
  Display* display = nullptr;
  std::unique_ptr<EglContext> egl;
  std::unique_ptr<X11Atoms> atoms;
  Visual* visual = nullptr;
  int depth = 0;
  Colormap colormap = 0;
  bool has_wm = false;
  bool has_net_restack = false;  // the window manager lists _NET_RESTACK_WINDOW in _NET_SUPPORTED
  bool has_shape = false;
  XErrorHandler previous_handler = nullptr;
  ~X11Shared();
};

class X11Window {
 public:
  static Result<std::unique_ptr<X11Window>> create(X11Shared& x, const Window& window);
  ~X11Window();
  X11Window(const X11Window&) = delete;
  X11Window& operator=(const X11Window&) = delete;

  void apply(const Window& window, ChangeMask changes, const X11Window* owner);
  Result<void> make_current();
  Result<void> swap(bool vsync);

  [[nodiscard]] ::Window xid() const { return xid_; }
  [[nodiscard]] bool mapped() const { return mapped_; }
  // The X window this one is transient for (WM_TRANSIENT_FOR), 0 if none.
  [[nodiscard]] ::Window owner() const { return owner_; }
  void set_mapped(bool mapped) { mapped_ = mapped; }
  // A ConfigureNotify matching a rectangle we asked for is our own echo, not a WM request.
  bool consume_requested(const HostRect& rect);
  // The state the _NET_WM_STATE / WM_STATE properties on the window describe now.
  [[nodiscard]] WindowState read_state() const;
  [[nodiscard]] WindowState applied_state() const { return applied_state_; }
  // Classifies a state read from the window's properties: true when it is the window
  // manager's own change (report it), false when it is the applied state (converged) or a
  // stale echo of a transition we requested ourselves (the WM is still catching up).
  bool is_foreign_state(WindowState seen);
  // The rectangle last asked of the X server (host coordinates: Window::host.rect).
  [[nodiscard]] const HostRect& rect() const { return rect_; }
  // The desktop pixel the host window's top-left shows (Window::desc.rect's origin): pointer
  // positions in the window map to desktop coordinates through it.
  [[nodiscard]] DesktopPoint desktop_origin() const { return origin_; }
  // Urgency (ICCCM XUrgencyHint + EWMH _NET_WM_STATE_DEMANDS_ATTENTION): set by a refused
  // activation, cleared when the window gets focus.
  void set_urgent(bool urgent);
  [[nodiscard]] bool urgent() const { return urgent_; }

 private:
  explicit X11Window(X11Shared& x) : x_(x) {}
  void set_title(const std::string& title);
  void set_icon(const Icon& icon);
  void set_owner(const X11Window* owner);
  void set_shape(const Window& window);
  void set_state(const Window& window);
  void set_net_wm_state(const Window& window);
  // One EWMH _NET_WM_STATE request to the window manager (add or remove one or two states).
  void ask_net_wm_state(bool add, Atom first, Atom second);
  void set_type(const Window& window);
  void set_override_redirect(const Window& window);
  void set_hints(int initial_state);
  // A taskbar entry: an unowned top-level window, or a popup the guard made a managed window.
  static bool in_taskbar(const Window& window);

  X11Shared& x_;
  ::Window xid_ = 0;
  EGLSurface surface_ = EGL_NO_SURFACE;
  bool mapped_ = false;     // X map state (MapNotify / UnmapNotify): false while iconic too
  ::Window owner_ = 0;
  bool withdrawn_ = true;   // ICCCM withdrawn: never mapped by us, or withdrawn since
  EGLint swap_interval_ = -1;  // what eglSwapInterval last set on this surface
  WindowState applied_state_ = WindowState::kNormal;
  std::optional<WindowState> reported_state_;  // last is_foreign_state() true, until set_state()
  bool override_redirect_ = false;
  bool urgent_ = false;
  bool input_hint_ = true;
  HostRect rect_;
  DesktopPoint origin_;
  std::deque<HostRect> requested_;
  std::deque<WindowState> requested_states_;  // since the properties last matched
};

}  // namespace vitrine::compositor
