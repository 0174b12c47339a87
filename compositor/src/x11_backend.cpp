#include "vitrine/compositor/x11_backend.hpp"

#include <X11/Xlib.h>
#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <X11/extensions/shape.h>
#include <epoxy/gl.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vitrine/base/log.hpp"
#include "x11_monitors.hpp"
#include "x11_window.hpp"

namespace vitrine::compositor {
namespace {

// Xlib's default error handler exits the process; ours counts and logs instead. Xlib has one
// handler per process, so the counter is process-wide too.
std::atomic<std::uint64_t> g_x_errors{0};

int on_x_error(Display* d, XErrorEvent* e) {
  const std::uint64_t n = g_x_errors.fetch_add(1, std::memory_order_relaxed);
  if (n < 16) {
    char text[256] = {};
    XGetErrorText(d, e->error_code, text, sizeof text);
    base::log_warn("compositor: X error {} (request {}.{}, resource {:#x})", text, e->request_code,
                   e->minor_code, e->resourceid);
  }
  return 0;
}

// X wheel buttons (core protocol convention): 4 up, 5 down, 6 left, 7 right.
bool wheel_of(unsigned button, std::int32_t& dx, std::int32_t& dy) {
  dx = 0;
  dy = 0;
  switch (button) {
    case 4: dy = -1; return true;
    case 5: dy = 1; return true;
    case 6: dx = -1; return true;
    case 7: dx = 1; return true;
    default: return false;
  }
}

// Whether the root's _NET_SUPPORTED (EWMH: the hints the window manager implements) lists `hint`.
bool supports(Display* d, Atom net_supported, Atom hint) {
  Atom type = 0;
  int format = 0;
  unsigned long n = 0, after = 0;
  unsigned char* data = nullptr;
  bool found = false;
  if (XGetWindowProperty(d, DefaultRootWindow(d), net_supported, 0, 4096, False, XA_ATOM, &type, &format, &n, &after,
                         &data) == Success && data != nullptr) {
    const auto* atoms = reinterpret_cast<const Atom*>(data);  // format 32: C longs in Xlib
    found = format == 32 && std::find(atoms, atoms + n, hint) != atoms + n;
    XFree(data);
  }
  return found;
}

// The host's stacking order, bottom to top: the scene's order, except that every window sits
// directly above the window it is transient for, with its own transients above it. Window
// managers keep a transient above its owner (ICCCM WM_TRANSIENT_FOR, EWMH "stacking order"):
// a request for an owner above its dialog is ignored (openbox) or undone by dropping the owner
// below everything else (metacity), and without a window manager the guest's dialog would end
// up behind the window it blocks. `owner[i]` is the index in `order` of window i's owner, or
// order.size() for none. O(n) for n windows.
std::vector<::Window> owners_below_owned(const std::vector<::Window>& order, const std::vector<std::size_t>& owner) {
  const std::size_t n = order.size();
  std::vector<std::vector<std::size_t>> owned(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (owner[i] < n) owned[owner[i]].push_back(i);
  }
  std::vector<::Window> out;
  out.reserve(n);
  std::vector<bool> placed(n, false);
  std::vector<std::size_t> pending;
  auto place_tree = [&](std::size_t root) {
    pending.assign(1, root);
    while (!pending.empty()) {
      const std::size_t i = pending.back();
      pending.pop_back();
      if (placed[i]) continue;
      placed[i] = true;
      out.push_back(order[i]);
      // Reversed onto the stack so that owned windows keep their relative (scene) order.
      for (auto it = owned[i].rbegin(); it != owned[i].rend(); ++it) pending.push_back(*it);
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (owner[i] >= n) place_tree(i);
  }
  // Owner cycles (the scene refuses them) have no unowned root: keep the scene's order.
  for (std::size_t i = 0; i < n; ++i) {
    if (!placed[i]) place_tree(i);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<X11Backend>> X11Backend::create(const X11Config& config) {
  std::unique_ptr<X11Backend> b(new X11Backend());
  b->sink_ = config.sink;
  b->vsync_ = config.vsync;
  b->x_ = std::make_unique<X11Shared>();
  X11Shared& x = *b->x_;
  x.previous_handler = XSetErrorHandler(&on_x_error);
  x.display = XOpenDisplay(config.display.empty() ? nullptr : config.display.c_str());
  if (x.display == nullptr) {
    return fail(Errc::kX11, "cannot open X display '" + (config.display.empty() ? std::string("$DISPLAY") : config.display) + "'");
  }
  Display* d = x.display;
  x.atoms = std::make_unique<X11Atoms>(d);
  {
    // EWMH "_NET_SUPPORTING_WM_CHECK": the root property names a window whose own property
    // names itself. Checking both ignores a stale root property left by a window manager that
    // has exited.
    auto check_window = [&](::Window w) -> ::Window {
      Atom type = 0;
      int format = 0;
      unsigned long n = 0, after = 0;
      unsigned char* data = nullptr;
      ::Window out = 0;
      if (XGetWindowProperty(d, w, x.atoms->net_supporting_wm_check, 0, 1, False, XA_WINDOW, &type, &format, &n,
                             &after, &data) == Success && data != nullptr) {
        if (format == 32 && n == 1) out = static_cast<::Window>(*reinterpret_cast<unsigned long*>(data));
        XFree(data);
      }
      return out;
    };
    const std::uint64_t errors_before = g_x_errors.load(std::memory_order_relaxed);
    const ::Window w = check_window(DefaultRootWindow(d));
    x.has_wm = w != 0 && check_window(w) == w;
    XSync(d, False);
    // A dead check window answers BadWindow: expected here, not a fault of ours.
    g_x_errors.store(errors_before, std::memory_order_relaxed);
    x.has_net_restack = x.has_wm && supports(d, x.atoms->net_supported, x.atoms->net_restack_window);
  }
  int shape_event = 0, shape_error = 0;
  x.has_shape = XShapeQueryExtension(d, &shape_event, &shape_error) != 0;

  auto egl = EglContext::create(EGL_PLATFORM_X11_KHR, d, true);
  if (!egl) return std::unexpected(egl.error());
  x.egl = std::make_unique<EglContext>(std::move(*egl));
  if (!x.egl->has_extension("EGL_KHR_surfaceless_context")) {
    return fail(Errc::kEgl, "EGL_KHR_surfaceless_context missing: uploads need a context without a window");
  }
  EGLint visual_id = 0;
  if (!eglGetConfigAttrib(x.egl->display(), x.egl->config(), EGL_NATIVE_VISUAL_ID, &visual_id)) {
    return egl_fail("eglGetConfigAttrib(EGL_NATIVE_VISUAL_ID)");
  }
  XVisualInfo tmpl{};
  tmpl.visualid = static_cast<VisualID>(visual_id);
  int count = 0;
  XVisualInfo* info = XGetVisualInfo(d, VisualIDMask, &tmpl, &count);
  if (info == nullptr || count < 1) return fail(Errc::kX11, "no X visual for EGL visual id " + std::to_string(visual_id));
  x.visual = info->visual;
  x.depth = info->depth;
  XFree(info);
  x.colormap = XCreateColormap(d, DefaultRootWindow(d), x.visual, AllocNone);
  // Monitors and work areas: the root's size (ConfigureNotify), the window manager's
  // _NET_WORKAREA (PropertyNotify) and RandR's screen changes tell when they change.
  XSelectInput(d, DefaultRootWindow(d), StructureNotifyMask | PropertyChangeMask);
  b->monitors_ = std::make_unique<X11Monitors>(d, x.atoms->net_workarea);
  if (auto ok = b->make_current(); !ok) return std::unexpected(ok.error());
  return b;
}

X11Backend::~X11Backend() {
  monitors_.reset();
  if (!x_) return;
  if (x_->egl) (void)x_->egl->make_current(EGL_NO_SURFACE);
  windows_.clear();
  if (x_->display != nullptr) XSync(x_->display, False);
}

Result<void> X11Backend::make_current() { return x_->egl->make_current(EGL_NO_SURFACE); }

void* X11Backend::native_display() const { return x_->display; }
bool X11Backend::window_manager_running() const { return x_->has_wm; }
HostRect X11Backend::screen() const {
  const int screen = DefaultScreen(x_->display);
  return {0, 0, DisplayWidth(x_->display, screen), DisplayHeight(x_->display, screen)};
}
std::vector<Monitor> X11Backend::monitors() const { return monitors_->monitors(); }
bool X11Backend::take_monitors_changed() { return std::exchange(monitors_changed_, false); }
bool X11Backend::randr_monitors() const { return monitors_->randr(); }
int X11Backend::connection_fd() const { return ConnectionNumber(x_->display); }
std::uint64_t X11Backend::x_errors() const { return g_x_errors.load(std::memory_order_relaxed); }
void X11Backend::sync() { XSync(x_->display, False); }

X11Window* X11Backend::find(WindowId id) {
  auto it = windows_.find(id);
  return it == windows_.end() ? nullptr : it->second.get();
}

WindowId X11Backend::id_of(unsigned long xid) const {
  auto it = by_xid_.find(xid);
  return it == by_xid_.end() ? kNoWindow : it->second;
}

unsigned long X11Backend::native_window(WindowId id) const {
  auto it = windows_.find(id);
  return it == windows_.end() ? 0 : it->second->xid();
}

Result<void> X11Backend::add_window(const Window& window) {
  auto w = X11Window::create(*x_, window);
  if (!w) return std::unexpected(w.error());
  X11Window* raw = w->get();
  by_xid_[raw->xid()] = window.id;
  windows_[window.id] = std::move(*w);
  raw->apply(window, kChangeTitle | kChangeIcon | kChangeOwner | kChangeShape | kChangeState | kChangeVisible,
             window.desc.owner == kNoWindow ? nullptr : find(window.desc.owner));
  XFlush(x_->display);
  return {};
}

void X11Backend::remove_window(WindowId id) {
  auto it = windows_.find(id);
  if (it == windows_.end()) return;
  by_xid_.erase(it->second->xid());
  windows_.erase(it);
  std::erase(exposed_, id);
  XFlush(x_->display);
}

Result<void> X11Backend::update_window(const Window& window, ChangeMask changes) {
  X11Window* w = find(window.id);
  if (w == nullptr) return fail(Errc::kNotFound, "no X window for " + std::to_string(window.id));
  w->apply(window, changes, window.desc.owner == kNoWindow ? nullptr : find(window.desc.owner));
  XFlush(x_->display);
  return {};
}

void X11Backend::restack(std::span<const WindowId> bottom_to_top) {
  std::vector<const X11Window*> shown;
  shown.reserve(bottom_to_top.size());
  for (WindowId id : bottom_to_top) {
    if (const X11Window* w = find(id)) shown.push_back(w);
  }
  if (shown.size() < 2) return;
  std::vector<::Window> bottom_first;
  std::unordered_map<::Window, std::size_t> index;
  for (const X11Window* w : shown) {
    index[w->xid()] = bottom_first.size();
    bottom_first.push_back(w->xid());
  }
  std::vector<std::size_t> owner(shown.size(), shown.size());
  for (std::size_t i = 0; i < shown.size(); ++i) {
    if (auto it = index.find(shown[i]->owner()); it != index.end()) owner[i] = it->second;
  }
  const std::vector<::Window> order = owners_below_owned(bottom_first, owner);
  std::vector<::Window> top_first(order.rbegin(), order.rend());  // XRestackWindows takes it non-const
  if (!x_->has_wm) {
    XRestackWindows(x_->display, top_first.data(), static_cast<int>(top_first.size()));
  } else if (x_->has_net_restack) {
    // EWMH _NET_RESTACK_WINDOW. Preferred to the ICCCM request below because metacity ignores
    // the sibling of a (synthetic) ConfigureRequest: it only raises or lowers the window to the
    // top or bottom of the whole stack. Each window goes above the one below it, from the
    // bottom up, so that no request puts a transient below its owner: metacity answers that by
    // lifting the transient back and the rest of the order never changes. Source 2 ("pager"):
    // the order is the guest's, which the user set there.
    for (std::size_t i = 1; i < order.size(); ++i) {
      XEvent e{};
      e.xclient.type = ClientMessage;
      e.xclient.window = order[i];
      e.xclient.message_type = x_->atoms->net_restack_window;
      e.xclient.format = 32;
      e.xclient.data.l[0] = 2;
      e.xclient.data.l[1] = static_cast<long>(order[i - 1]);
      e.xclient.data.l[2] = Above;
      XSendEvent(x_->display, DefaultRootWindow(x_->display), False,
                 SubstructureRedirectMask | SubstructureNotifyMask, &e);
    }
  } else {
    // A reparenting window manager put each window in its own frame: they are no longer
    // siblings, and XRestackWindows fails with BadMatch. XReconfigureWMWindow (ICCCM 4.1.5)
    // asks the manager instead when the direct request cannot work, each window below the one
    // above it.
    for (std::size_t i = 1; i < top_first.size(); ++i) {
      XWindowChanges below{};
      below.sibling = top_first[i - 1];
      below.stack_mode = Below;
      XReconfigureWMWindow(x_->display, top_first[i], DefaultScreen(x_->display), CWSibling | CWStackMode, &below);
    }
  }
  XFlush(x_->display);
}

Result<void> X11Backend::begin_frame(const Window& window) {
  X11Window* w = find(window.id);
  if (w == nullptr) return fail(Errc::kNotFound, "no X window for " + std::to_string(window.id));
  if (auto ok = w->make_current(); !ok) return ok;
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  return {};
}

Result<void> X11Backend::end_frame(const Window& window, bool last_in_frame) {
  X11Window* w = find(window.id);
  if (w == nullptr) return fail(Errc::kNotFound, "no X window for " + std::to_string(window.id));
  auto ok = w->swap(vsync_ && last_in_frame);
  (void)make_current();
  return ok;
}

Result<void> X11Backend::activate(const Window& window) {
  X11Window* w = find(window.id);
  if (w == nullptr) return fail(Errc::kNotFound, "no X window for " + std::to_string(window.id));
  if (!w->mapped() || window.desc.kind == WindowKind::kTooltip) return {};  // focus needs a viewable window
  if (x_->has_wm) {
    // EWMH _NET_ACTIVE_WINDOW: source 1 = application, timestamp CurrentTime.
    XEvent e{};
    e.xclient.type = ClientMessage;
    e.xclient.window = w->xid();
    e.xclient.message_type = x_->atoms->net_active_window;
    e.xclient.format = 32;
    e.xclient.data.l[0] = 1;
    e.xclient.data.l[1] = CurrentTime;
    XSendEvent(x_->display, DefaultRootWindow(x_->display), False, SubstructureRedirectMask | SubstructureNotifyMask,
               &e);
  } else {
    XSetInputFocus(x_->display, w->xid(), RevertToParent, CurrentTime);
  }
  XFlush(x_->display);
  return {};
}

Result<void> X11Backend::demand_attention(const Window& window) {
  X11Window* w = find(window.id);
  if (w == nullptr) return fail(Errc::kNotFound, "no X window for " + std::to_string(window.id));
  w->set_urgent(true);
  XFlush(x_->display);
  return {};
}

void X11Backend::take_exposed(std::vector<WindowId>& out) {
  out.insert(out.end(), exposed_.begin(), exposed_.end());
  exposed_.clear();
}

std::size_t X11Backend::dispatch_events() {
  std::size_t n = 0;
  while (XPending(x_->display) > 0) {
    XEvent e;
    XNextEvent(x_->display, &e);
    handle_event(&e);
    ++n;
  }
  return n;
}

void X11Backend::handle_event(void* raw) {
  XEvent& e = *static_cast<XEvent*>(raw);
  const X11Atoms& a = *x_->atoms;
  if (monitors_->is_change_event(e.type) ||
      (e.xany.window == DefaultRootWindow(x_->display) &&
       (e.type == ConfigureNotify || (e.type == PropertyNotify && e.xproperty.atom == a.net_workarea)))) {
    monitors_->refresh();
    monitors_changed_ = true;
    return;
  }
  const WindowId id = id_of(e.xany.window);
  if (id == kNoWindow) return;
  X11Window* w = find(id);
  auto pointer = [&](int px, int py) {
    // The host window shows desktop pixels from desktop_origin() on (it may have been moved).
    const WindowPoint p{px, py};
    const DesktopPoint o = w->desktop_origin();
    return PointerEvent{id, p, DesktopPoint{p.x + o.x, p.y + o.y}};
  };
  switch (e.type) {
    case Expose:
      if (e.xexpose.count == 0 && std::find(exposed_.begin(), exposed_.end(), id) == exposed_.end()) {
        exposed_.push_back(id);
      }
      break;
    case KeyPress:
    case KeyRelease:
      if (sink_) sink_->on_key({id, e.xkey.keycode, e.type == KeyPress});
      break;
    case ButtonPress:
    case ButtonRelease: {
      if (!sink_) break;
      std::int32_t dx = 0, dy = 0;
      if (wheel_of(e.xbutton.button, dx, dy)) {
        // Each notch arrives as press + release; count it once.
        if (e.type == ButtonPress) sink_->on_wheel({pointer(e.xbutton.x, e.xbutton.y), dx, dy});
        break;
      }
      if (e.xbutton.button > 9) break;
      sink_->on_button({pointer(e.xbutton.x, e.xbutton.y), static_cast<PointerButton>(e.xbutton.button),
                        e.type == ButtonPress});
      break;
    }
    case MotionNotify:
      if (sink_) sink_->on_pointer_motion(pointer(e.xmotion.x, e.xmotion.y));
      break;
    case FocusIn:
    case FocusOut:
      // Pointer-root and inferior focus changes are not focus changes of this window.
      if (e.xfocus.detail == NotifyPointer || e.xfocus.detail == NotifyInferior) break;
      if (e.xfocus.mode == NotifyGrab || e.xfocus.mode == NotifyUngrab) break;
      if (e.type == FocusIn) w->set_urgent(false);  // ICCCM: the client clears its urgency
      if (sink_) sink_->on_focus(id, e.type == FocusIn);
      break;
    case ConfigureNotify: {
      // Synthetic events (from a reparenting WM) carry root coordinates; real ones are
      // relative to the parent, so ask the server where the window is on the root.
      int rx = e.xconfigure.x, ry = e.xconfigure.y;
      if (!e.xconfigure.send_event) {
        ::Window child = 0;
        XTranslateCoordinates(x_->display, w->xid(), DefaultRootWindow(x_->display), 0, 0, &rx, &ry, &child);
      }
      const HostRect r{rx, ry, e.xconfigure.width, e.xconfigure.height};
      if (w->consume_requested(r) || r == w->rect()) break;
      if (sink_) sink_->on_move_resize(id, to_desktop(r));
      break;
    }
    case MapNotify:
      w->set_mapped(true);
      break;
    case UnmapNotify:
      w->set_mapped(false);
      break;
    case PropertyNotify:
      if (e.xproperty.atom == a.net_wm_state || e.xproperty.atom == a.wm_state) {
        const WindowState s = w->read_state();
        if (w->is_foreign_state(s) && sink_) sink_->on_state_request(id, s);
      }
      break;
    case ClientMessage:
      if (e.xclient.message_type == a.wm_protocols &&
          static_cast<Atom>(e.xclient.data.l[0]) == a.wm_delete_window && sink_) {
        sink_->on_close_request(id);
      }
      break;
    default:
      break;
  }
}

}  // namespace vitrine::compositor
