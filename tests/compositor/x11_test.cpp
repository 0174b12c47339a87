// X11 backend under a private Xvfb with Mesa llvmpipe: windows, properties, content and
// input, checked through a second, independent X connection (what any other client sees).
// gtest before Xlib: Xlib's None/Bool/Status macros break gtest's headers.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <vector>

#include "headless_fixture.hpp"
#include "vitrine/compositor/x11_backend.hpp"
#include "x11_peer.hpp"
#include "xvfb_server.hpp"

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>

namespace vitrine::compositor {
namespace {

using testing::Framebuffer;

struct Recorder : InputSink {
  std::vector<KeyEvent> keys;
  std::vector<PointerEvent> motions;
  std::vector<ButtonEvent> buttons;
  std::vector<WheelEvent> wheels;
  std::vector<std::pair<WindowId, bool>> focus;
  std::vector<std::pair<WindowId, DesktopRect>> moves;
  std::vector<WindowId> closes;
  std::vector<std::pair<WindowId, WindowState>> states;
  void on_key(const KeyEvent& e) override { keys.push_back(e); }
  void on_pointer_motion(const PointerEvent& e) override { motions.push_back(e); }
  void on_button(const ButtonEvent& e) override { buttons.push_back(e); }
  void on_wheel(const WheelEvent& e) override { wheels.push_back(e); }
  void on_focus(WindowId w, bool f) override { focus.emplace_back(w, f); }
  void on_move_resize(WindowId w, const DesktopRect& r) override { moves.emplace_back(w, r); }
  void on_close_request(WindowId w) override { closes.push_back(w); }
  void on_state_request(WindowId w, WindowState s) override { states.emplace_back(w, s); }
};

class X11Compositor : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::use_software_gl();
    if (xvfb_.display().empty()) GTEST_SKIP() << xvfb_.why();
    X11Config xc;
    xc.display = xvfb_.display();
    xc.sink = &sink_;
    auto backend = X11Backend::create(xc);
    if (!backend) GTEST_SKIP() << "X11 EGL unavailable: " << to_string(backend.error());
    backend_ = backend->get();
    CompositorConfig config;
    config.debug_damage = false;
    auto c = Compositor::create(std::move(*backend), config);
    ASSERT_TRUE(c) << to_string(c.error());
    comp_ = std::move(*c);
    peer_ = XOpenDisplay(xvfb_.display().c_str());
    ASSERT_NE(peer_, nullptr);
    std::mt19937 rng(5);
    fb_.randomize(rng);
  }
  void TearDown() override {
    if (comp_) {
      EXPECT_EQ(backend_->x_errors(), 0u);
    }
    comp_.reset();
    if (peer_ != nullptr) XCloseDisplay(peer_);
  }

  void present() { testing::present_and_sync(*comp_, *backend_, peer_, fb_.view()); }
  ::Window xid(WindowId id) { return backend_->native_window(id); }
  Atom atom(const char* name) { return XInternAtom(peer_, name, False); }

  DesktopRect root_geometry(WindowId id) { return testing::root_geometry(peer_, xid(id)); }

  std::vector<unsigned long> property(WindowId id, const char* name, Atom type) {
    Atom actual = 0;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char* data = nullptr;
    std::vector<unsigned long> out;
    if (XGetWindowProperty(peer_, xid(id), atom(name), 0, 1 << 16, False, type, &actual, &format, &n, &after,
                           &data) == Success && data != nullptr) {
      if (format == 32) {
        // Xlib hands format-32 items out as longs, sign-extended: keep the 32 wire bits.
        for (unsigned long i = 0; i < n; ++i) out.push_back(reinterpret_cast<unsigned long*>(data)[i] & 0xffffffffUL);
      } else if (format == 8) {
        for (unsigned long i = 0; i < n; ++i) out.push_back(data[i]);
      }
      XFree(data);
    }
    return out;
  }
  std::string string_property(WindowId id, const char* name, Atom type) {
    std::string s;
    for (unsigned long c : property(id, name, type)) s.push_back(static_cast<char>(c));
    return s;
  }
  bool has_state(WindowId id, const char* state) {
    auto atoms = property(id, "_NET_WM_STATE", XA_ATOM);
    return std::find(atoms.begin(), atoms.end(), atom(state)) != atoms.end();
  }
  int map_state(WindowId id) {
    XWindowAttributes a{};
    XGetWindowAttributes(peer_, xid(id), &a);
    return a.map_state;
  }

  // Pixel-exact: what the X server holds for the window equals the framebuffer's rectangle.
  void expect_content(WindowId id) {
    const Window* w = comp_->scene().find(id);
    ASSERT_NE(w, nullptr);
    const DesktopRect r = w->desc.rect;
    XImage* img = XGetImage(peer_, xid(id), 0, 0, static_cast<unsigned>(r.width), static_cast<unsigned>(r.height),
                            AllPlanes, ZPixmap);
    ASSERT_NE(img, nullptr);
    const Image ref = crop(fb_.view(), r);
    int bad = 0;
    for (std::int32_t y = 0; y < r.height && bad < 5; ++y) {
      for (std::int32_t x = 0; x < r.width && bad < 5; ++x) {
        const unsigned long got = XGetPixel(img, x, y) & 0xffffffu;
        const unsigned long want = ref.at(x, y) & 0xffffffu;
        if (got != want) {
          ADD_FAILURE() << "window " << id << " pixel " << x << "," << y << " got " << std::hex << got << " want "
                        << want;
          ++bad;
        }
      }
    }
    XDestroyImage(img);
  }

  // Dispatches events until `done()` or the timeout.
  template <typename F>
  bool pump_until(F done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      backend_->dispatch_events();
      if (done()) return true;
      pollfd p{backend_->connection_fd(), POLLIN, 0};
      poll(&p, 1, 50);
    }
    backend_->dispatch_events();
    return done();
  }

  testing::XvfbServer xvfb_{800, 600};
  Recorder sink_;
  X11Backend* backend_ = nullptr;
  std::unique_ptr<Compositor> comp_;
  Display* peer_ = nullptr;
  Framebuffer fb_{800, 600};
};

WindowDesc make(DesktopRect r, WindowKind kind, std::string title, WindowId owner = kNoWindow) {
  WindowDesc d;
  d.rect = r;
  d.kind = kind;
  d.title = std::move(title);
  d.owner = owner;
  d.app_id = "notepad";
  return d;
}

TEST_F(X11Compositor, WindowsCarryGeometryPropertiesAndExactContent) {
  ASSERT_TRUE(comp_->create_window(1, make({50, 60, 120, 80}, WindowKind::kNormal, "Hello w\xc3\xb6rld")));
  ASSERT_TRUE(comp_->create_window(2, make({300, 50, 60, 40}, WindowKind::kPopup, "menu", 1)));
  ASSERT_TRUE(comp_->create_window(3, make({50, 300, 100, 50}, WindowKind::kTool, "tools")));
  ASSERT_TRUE(comp_->set_icon(1, Icon{2, 1, {0xffff0000u, 0x8000ff00u}}));
  present();

  EXPECT_EQ(root_geometry(1), (DesktopRect{50, 60, 120, 80}));
  EXPECT_EQ(root_geometry(2), (DesktopRect{300, 50, 60, 40}));
  XWindowAttributes a{};
  XGetWindowAttributes(peer_, xid(2), &a);
  EXPECT_TRUE(a.override_redirect);
  XGetWindowAttributes(peer_, xid(1), &a);
  EXPECT_FALSE(a.override_redirect);
  EXPECT_EQ(a.map_state, IsViewable);

  XClassHint hint{};
  ASSERT_TRUE(XGetClassHint(peer_, xid(1), &hint));
  EXPECT_STREQ(hint.res_name, "vitrine");
  EXPECT_STREQ(hint.res_class, "notepad");
  XFree(hint.res_name);
  XFree(hint.res_class);
  EXPECT_EQ(string_property(1, "_NET_WM_NAME", atom("UTF8_STRING")), "Hello w\xc3\xb6rld");
  EXPECT_EQ(property(1, "_NET_WM_ICON", XA_CARDINAL), (std::vector<unsigned long>{2, 1, 0xffff0000u, 0x8000ff00u}));
  ::Window owner = 0;
  ASSERT_TRUE(XGetTransientForHint(peer_, xid(2), &owner));
  EXPECT_EQ(owner, xid(1));
  EXPECT_FALSE(has_state(1, "_NET_WM_STATE_SKIP_TASKBAR"));  // top-level: taskbar entry
  EXPECT_TRUE(has_state(3, "_NET_WM_STATE_SKIP_TASKBAR"));   // tool window: none
  EXPECT_EQ(property(2, "_NET_WM_WINDOW_TYPE", XA_ATOM), (std::vector<unsigned long>{atom("_NET_WM_WINDOW_TYPE_POPUP_MENU")}));
  expect_content(1);
  expect_content(2);
  expect_content(3);

  // Move + resize, retitle.
  ASSERT_TRUE(comp_->set_rect(1, {400, 300, 150, 100}));
  ASSERT_TRUE(comp_->set_title(1, "second"));
  present();
  EXPECT_EQ(root_geometry(1), (DesktopRect{400, 300, 150, 100}));
  EXPECT_EQ(string_property(1, "_NET_WM_NAME", atom("UTF8_STRING")), "second");
  expect_content(1);

  // New pixels arrive through damage only.
  std::mt19937 rng(11);
  fb_.paint({410, 310, 30, 20}, rng);
  comp_->damage(DesktopRect{410, 310, 30, 20});
  present();
  expect_content(1);

  // Restack: 3 above 1 (top first).
  const std::vector<WindowId> order{3, 1};
  comp_->set_z_order(order);
  backend_->sync();
  ::Window root = 0, parent = 0, *children = nullptr;
  unsigned n = 0;
  ASSERT_TRUE(XQueryTree(peer_, DefaultRootWindow(peer_), &root, &parent, &children, &n));
  std::vector<::Window> stack(children, children + n);  // bottom to top
  XFree(children);
  auto pos = [&](WindowId id) { return std::find(stack.begin(), stack.end(), xid(id)) - stack.begin(); };
  EXPECT_LT(pos(1), pos(3));

  // Activation raises and focuses (no window manager: XSetInputFocus).
  ASSERT_TRUE(comp_->activate(1));
  backend_->sync();
  ::Window focus = 0;
  int revert = 0;
  XGetInputFocus(peer_, &focus, &revert);
  EXPECT_EQ(focus, xid(1));
  ASSERT_TRUE(XQueryTree(peer_, DefaultRootWindow(peer_), &root, &parent, &children, &n));
  stack.assign(children, children + n);
  XFree(children);
  EXPECT_GT(pos(1), pos(3));
  EXPECT_FALSE(comp_->activate(99));

  // Minimize and restore (no window manager here: unmap + _NET_WM_STATE_HIDDEN).
  ASSERT_TRUE(comp_->set_state(1, WindowState::kMinimized));
  backend_->sync();
  EXPECT_EQ(map_state(1), IsUnmapped);
  EXPECT_TRUE(has_state(1, "_NET_WM_STATE_HIDDEN"));
  ASSERT_TRUE(comp_->set_state(1, WindowState::kNormal));
  present();
  EXPECT_EQ(map_state(1), IsViewable);
  EXPECT_FALSE(has_state(1, "_NET_WM_STATE_HIDDEN"));
  expect_content(1);
  ASSERT_TRUE(comp_->set_state(3, WindowState::kMaximized));
  backend_->sync();
  EXPECT_TRUE(has_state(3, "_NET_WM_STATE_MAXIMIZED_VERT"));
  EXPECT_TRUE(has_state(3, "_NET_WM_STATE_MAXIMIZED_HORZ"));

  // Destroy.
  const ::Window gone = xid(2);
  ASSERT_TRUE(comp_->destroy_window(2));
  backend_->sync();
  ASSERT_TRUE(XQueryTree(peer_, DefaultRootWindow(peer_), &root, &parent, &children, &n));
  stack.assign(children, children + n);
  XFree(children);
  EXPECT_EQ(std::find(stack.begin(), stack.end(), gone), stack.end());
  EXPECT_EQ(backend_->native_window(2), 0u);
}

TEST_F(X11Compositor, InputFromXTestArrivesInWindowCoordinates) {
  if (std::system("command -v xdotool >/dev/null 2>&1") != 0) GTEST_SKIP() << "xdotool not installed";
  ASSERT_TRUE(comp_->create_window(7, make({100, 100, 200, 150}, WindowKind::kNormal, "input")));
  present();
  const std::string env = "DISPLAY=" + xvfb_.display() + " xdotool ";
  ASSERT_EQ(std::system((env + "mousemove 130 140").c_str()), 0);
  ASSERT_TRUE(pump_until([&] {
    return !sink_.motions.empty() && sink_.motions.back().position == WindowPoint{30, 40};
  }));
  EXPECT_EQ(sink_.motions.back().window, 7u);
  EXPECT_EQ(sink_.motions.back().desktop, (DesktopPoint{130, 140}));

  ASSERT_EQ(std::system((env + "click 3").c_str()), 0);
  ASSERT_TRUE(pump_until([&] { return sink_.buttons.size() >= 2; }));
  EXPECT_EQ(sink_.buttons[0].button, PointerButton::kRight);
  EXPECT_TRUE(sink_.buttons[0].pressed);
  EXPECT_FALSE(sink_.buttons[1].pressed);
  EXPECT_EQ(sink_.buttons[0].where.position, (WindowPoint{30, 40}));

  ASSERT_EQ(std::system((env + "click 5").c_str()), 0);
  ASSERT_TRUE(pump_until([&] { return !sink_.wheels.empty(); }));
  EXPECT_EQ(sink_.wheels.size(), 1u);
  EXPECT_EQ(sink_.wheels[0].dy, 1);

  // Xvfb starts with PointerRoot focus: keys go to the window under the pointer.
  ASSERT_EQ(std::system((env + "key a").c_str()), 0);
  ASSERT_TRUE(pump_until([&] { return sink_.keys.size() >= 2; }));
  EXPECT_EQ(sink_.keys[0].x11_keycode, XKeysymToKeycode(peer_, XK_a));
  EXPECT_TRUE(sink_.keys[0].pressed);
  EXPECT_FALSE(sink_.keys[1].pressed);
  EXPECT_EQ(sink_.keys[0].window, 7u);
}

TEST_F(X11Compositor, WindowManagerRequestsGoToTheSinkNotTheScene) {
  ASSERT_TRUE(comp_->create_window(1, make({40, 40, 100, 80}, WindowKind::kNormal, "wm")));
  present();
  // What a window manager does: move the window, change _NET_WM_STATE, send WM_DELETE_WINDOW.
  XMoveResizeWindow(peer_, xid(1), 70, 90, 110, 85);
  const Atom states[] = {atom("_NET_WM_STATE_MAXIMIZED_VERT"), atom("_NET_WM_STATE_MAXIMIZED_HORZ")};
  XChangeProperty(peer_, xid(1), atom("_NET_WM_STATE"), XA_ATOM, 32, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(states), 2);
  XEvent e{};
  e.xclient.type = ClientMessage;
  e.xclient.window = xid(1);
  e.xclient.message_type = atom("WM_PROTOCOLS");
  e.xclient.format = 32;
  e.xclient.data.l[0] = static_cast<long>(atom("WM_DELETE_WINDOW"));
  XSendEvent(peer_, xid(1), False, NoEventMask, &e);
  XSync(peer_, False);
  ASSERT_TRUE(pump_until([&] { return !sink_.moves.empty() && !sink_.states.empty() && !sink_.closes.empty(); }));
  EXPECT_EQ(sink_.moves.back().second, (DesktopRect{70, 90, 110, 85}));
  EXPECT_EQ(sink_.states.back().second, WindowState::kMaximized);
  EXPECT_EQ(sink_.closes.back(), 1u);
  EXPECT_EQ(comp_->scene().find(1)->desc.rect, (DesktopRect{40, 40, 100, 80}));  // the guest decides
  // Our own move is no request.
  sink_.moves.clear();
  ASSERT_TRUE(comp_->set_rect(1, {200, 200, 100, 80}));
  present();
  pump_until([] { return false; }, std::chrono::milliseconds(300));
  EXPECT_TRUE(sink_.moves.empty());
}

TEST_F(X11Compositor, OffscreenAndShapedWindowsDoNotBreakAnything) {
  ASSERT_TRUE(comp_->create_window(1, make({-5000, -5000, 64, 64}, WindowKind::kNormal, "far")));
  ASSERT_TRUE(comp_->create_window(2, make({10, 10, 64, 64}, WindowKind::kTooltip, "tip")));
  ASSERT_TRUE(comp_->set_visible_region(2, WindowRegion(WindowRect{0, 0, 32, 64})));
  for (WindowId id = 10; id < 60; ++id) {
    ASSERT_TRUE(comp_->create_window(id, make({static_cast<std::int32_t>(id) * 10, 400, 8, 8}, WindowKind::kPopup, "p")));
  }
  present();
  comp_->damage(DesktopRect{-100000, -100000, 200000, 200000});
  present();
  for (WindowId id = 10; id < 60; ++id) ASSERT_TRUE(comp_->destroy_window(id));
  present();
  EXPECT_EQ(comp_->stats().backend_errors, 0u);
}

// The window pixel budget on X11: a parked window has no X window at all; closing a drawn one
// creates it, with what the scene kept meanwhile (title, being another window's owner).
TEST_F(X11Compositor, WindowsPastThePixelBudgetHaveNoXWindowUntilPixelsAreFreed) {
  XWindowAttributes root{};
  XGetWindowAttributes(peer_, DefaultRootWindow(peer_), &root);
  EXPECT_EQ(backend_->screen(), (HostRect{0, 0, root.width, root.height}));

  comp_->set_window_pixel_budget(2 * 100 * 100 + 10 * 10);
  WindowDesc d;
  d.rect = {0, 0, 100, 100};
  ASSERT_TRUE(comp_->create_window(1, d));
  ASSERT_TRUE(comp_->create_window(2, d));
  d.title = "waiting";
  ASSERT_TRUE(comp_->create_window(3, d));
  EXPECT_TRUE(comp_->parked(3));
  EXPECT_EQ(xid(3), 0u);
  WindowDesc owned;
  owned.rect = {5, 5, 10, 10};
  owned.owner = 3;
  ASSERT_TRUE(comp_->create_window(4, owned));
  ASSERT_NE(xid(4), 0u);
  ASSERT_TRUE(comp_->activate(3));  // raised in the scene; nothing to focus yet
  const WindowId top_first[] = {3, 4, 2, 1};
  comp_->set_z_order(top_first);
  present();

  ASSERT_TRUE(comp_->destroy_window(1));
  // Window 1's X window and EGL surface count until the driver let them go (RetiringPixels):
  // the UI loop's next turn after that admits window 3.
  comp_->finish();
  EXPECT_TRUE(comp_->retire_freed());
  ASSERT_NE(xid(3), 0u);
  EXPECT_FALSE(comp_->over_budget(3));
  present();
  EXPECT_EQ(string_property(3, "_NET_WM_NAME", atom("UTF8_STRING")), "waiting");
  ::Window owner = 0;
  ASSERT_TRUE(XGetTransientForHint(peer_, xid(4), &owner));
  EXPECT_EQ(owner, xid(3));
  EXPECT_EQ(root_geometry(3), (DesktopRect{0, 0, 100, 100}));
  EXPECT_EQ(comp_->stats().backend_errors, 0u);
}

// A window painted from its own surface goes through the same X window + EGL swap: what the X
// server holds is the surface, and a present() without any framebuffer is enough to show it.
TEST_F(X11Compositor, SurfaceWindowShowsItsOwnPixelsWithoutAFramebuffer) {
  ASSERT_TRUE(comp_->create_window(1, make({40, 30, 90, 70}, WindowKind::kNormal, "surface")));
  Framebuffer surface(90, 70, 24);
  std::mt19937 rng(77);
  surface.randomize(rng);
  ASSERT_TRUE(comp_->attach_surface(1, 90, 70));
  const WindowRect all{0, 0, 90, 70};
  ASSERT_TRUE(comp_->upload_surface(1, surface.view(), std::span(&all, 1)));
  auto r = comp_->present();
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->windows_presented, 1u);
  comp_->finish();
  backend_->sync();
  XSync(peer_, False);
  XImage* img = XGetImage(peer_, xid(1), 0, 0, 90, 70, AllPlanes, ZPixmap);
  ASSERT_NE(img, nullptr);
  const Image ref = crop(surface.view(), DesktopRect{0, 0, 90, 70});
  int bad = 0;
  for (std::int32_t y = 0; y < 70 && bad < 5; ++y) {
    for (std::int32_t x = 0; x < 90 && bad < 5; ++x) {
      if ((XGetPixel(img, x, y) & 0xffffffu) != (ref.at(x, y) & 0xffffffu)) {
        ADD_FAILURE() << "surface pixel " << x << "," << y;
        ++bad;
      }
    }
  }
  XDestroyImage(img);
  EXPECT_EQ(comp_->stats().backend_errors, 0u);
}

}  // namespace
}  // namespace vitrine::compositor
