// Guest UI cannot pass for host UI, on a real X server (private Xvfb, no window manager): every
// window's _NET_WM_NAME / WM_NAME carries the VM's prefix, the label border is in the pixels the
// X server holds, popups are kept on the screen, an ownerless full-screen popup is an ordinary
// managed window, and a refused activation only sets the urgency hint. Checked from a second X
// connection after each operation.
#include <gtest/gtest.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "headless_fixture.hpp"
#include "vitrine/compositor/x11_backend.hpp"
#include "x11_peer.hpp"
#include "xvfb_server.hpp"

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace vitrine::compositor {
namespace {

using testing::Framebuffer;

struct NullSink : InputSink {
  void on_key(const KeyEvent&) override {}
  void on_pointer_motion(const PointerEvent&) override {}
  void on_button(const ButtonEvent&) override {}
  void on_wheel(const WheelEvent&) override {}
  void on_focus(WindowId, bool) override {}
  void on_move_resize(WindowId, const DesktopRect&) override {}
  void on_close_request(WindowId) override {}
  void on_state_request(WindowId, WindowState) override {}
};

constexpr std::uint32_t kRgb = 0x3465a4;

class X11Guard : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::use_software_gl();
    if (xvfb_.display().empty()) GTEST_SKIP() << xvfb_.why();
    peer_ = XOpenDisplay(xvfb_.display().c_str());
    ASSERT_NE(peer_, nullptr);
    X11Config xc;
    xc.display = xvfb_.display();
    xc.sink = &sink_;
    auto backend = X11Backend::create(xc);
    if (!backend) GTEST_SKIP() << "X11 EGL unavailable: " << to_string(backend.error());
    backend_ = backend->get();
    CompositorConfig config;
    config.debug_damage = false;
    config.label = WindowLabel{"[work] ", kRgb, 3};
    auto c = Compositor::create(std::move(*backend), config);
    ASSERT_TRUE(c) << to_string(c.error());
    comp_ = std::move(*c);
    std::mt19937 rng(21);
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
  bool override_redirect(WindowId id) {
    XWindowAttributes a{};
    XGetWindowAttributes(peer_, xid(id), &a);
    return a.override_redirect != 0;
  }
  std::string text_property(WindowId id, const char* name) {
    Atom actual = 0;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char* data = nullptr;
    std::string out;
    if (XGetWindowProperty(peer_, xid(id), atom(name), 0, 4096, False, AnyPropertyType, &actual, &format, &n, &after,
                           &data) == Success && data != nullptr) {
      if (format == 8) out.assign(reinterpret_cast<const char*>(data), n);
      XFree(data);
    }
    return out;
  }
  std::vector<Atom> atoms_of(WindowId id, const char* name) {
    Atom actual = 0;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char* data = nullptr;
    std::vector<Atom> out;
    if (XGetWindowProperty(peer_, xid(id), atom(name), 0, 64, False, XA_ATOM, &actual, &format, &n, &after, &data) ==
            Success && data != nullptr) {
      if (format == 32) out.assign(reinterpret_cast<const Atom*>(data), reinterpret_cast<const Atom*>(data) + n);
      XFree(data);
    }
    return out;
  }
  // The X server's pixels of the window: the border ring in the label colour, the rest the
  // framebuffer from `origin` (the desktop pixel the host window's top-left shows).
  // `interior` false: the ring only (a shaped window shows what is under it inside).
  void expect_labelled_content(WindowId id, DesktopPoint origin, std::int32_t border, bool interior = true) {
    const DesktopRect g = root_geometry(id);
    XImage* img = XGetImage(peer_, xid(id), 0, 0, static_cast<unsigned>(g.width), static_cast<unsigned>(g.height),
                            AllPlanes, ZPixmap);
    ASSERT_NE(img, nullptr);
    const Image ref = crop(fb_.view(), DesktopRect{origin.x, origin.y, g.width, g.height});
    int bad = 0;
    for (std::int32_t y = 0; y < g.height && bad < 5; ++y)
      for (std::int32_t x = 0; x < g.width && bad < 5; ++x) {
        const bool ring = x < border || y < border || x >= g.width - border || y >= g.height - border;
        if (!ring && !interior) continue;
        const unsigned long got = XGetPixel(img, x, y) & 0xffffffu;
        const unsigned long want = ring ? kRgb : ref.at(x, y) & 0xffffffu;
        if (got != want) {
          ADD_FAILURE() << "window " << id << " pixel " << x << "," << y << std::hex << " got " << got << " want "
                        << want;
          ++bad;
        }
      }
    XDestroyImage(img);
  }

  testing::XvfbServer xvfb_{800, 600};
  NullSink sink_;
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
  return d;
}

TEST_F(X11Guard, EveryTitleCarriesThePrefixAndEveryWindowTheBorder) {
  ASSERT_TRUE(comp_->create_window(1, make({50, 60, 120, 80}, WindowKind::kNormal, "[host] Terminal\x1b[0m")));
  ASSERT_TRUE(comp_->create_window(2, make({300, 50, 60, 40}, WindowKind::kPopup, "menu", 1)));
  present();
  EXPECT_EQ(text_property(1, "_NET_WM_NAME"), "[work] Terminal [0m");
  EXPECT_EQ(text_property(1, "WM_NAME"), "[work] Terminal [0m");
  EXPECT_EQ(text_property(2, "_NET_WM_NAME"), "[work] menu");
  expect_labelled_content(1, {50, 60}, 3);
  expect_labelled_content(2, {300, 50}, 3);
  // A retitle cannot drop the prefix, hide behind control characters or claim another label.
  ASSERT_TRUE(comp_->set_title(1, "\r\n[personal]\xe2\x80\xae sudo"));
  backend_->sync();
  EXPECT_EQ(text_property(1, "_NET_WM_NAME"), "[work] sudo");
  // A shape cannot hide the border either.
  ASSERT_TRUE(comp_->set_visible_region(1, WindowRegion(WindowRect{40, 30, 10, 10})));
  present();
  expect_labelled_content(1, {50, 60}, 3, false);
}

TEST_F(X11Guard, PopupsAreKeptOnTheScreenAndNoLargerThanIt) {
  ASSERT_TRUE(comp_->create_window(1, make({100, 100, 200, 150}, WindowKind::kNormal, "app")));
  ASSERT_TRUE(comp_->create_window(2, make({700, 500, 300, 200}, WindowKind::kPopup, "menu", 1)));
  present();
  EXPECT_EQ(root_geometry(2), (DesktopRect{500, 400, 300, 200}));
  EXPECT_TRUE(override_redirect(2));
  expect_labelled_content(2, {700, 500}, 3);  // shows its own pixels from its requested corner on
  // Guest moves are clamped too.
  ASSERT_TRUE(comp_->set_rect(2, {-50, 580, 300, 200}));
  present();
  EXPECT_EQ(root_geometry(2), (DesktopRect{0, 400, 300, 200}));
  ASSERT_TRUE(comp_->create_window(3, make({-4000, -4000, 5000, 5000}, WindowKind::kTooltip, "huge tip", 1)));
  present();
  EXPECT_EQ(root_geometry(3), (DesktopRect{0, 0, 800, 600}));
  EXPECT_TRUE(override_redirect(3));  // an owned tooltip stays one, but marked as it covers the screen
  expect_labelled_content(3, {-4000, -4000}, 3);
}

TEST_F(X11Guard, AnOwnerlessFullScreenPopupIsAManagedLabelledWindow) {
  ASSERT_TRUE(comp_->create_window(1, make({0, 0, 800, 600}, WindowKind::kPopup, "Enter your password")));
  present();
  EXPECT_FALSE(override_redirect(1));
  EXPECT_EQ(text_property(1, "_NET_WM_NAME"), "[work] Enter your password");
  const auto type = atoms_of(1, "_NET_WM_WINDOW_TYPE");
  ASSERT_EQ(type.size(), 1u);
  EXPECT_EQ(type[0], atom("_NET_WM_WINDOW_TYPE_NORMAL"));
  const auto state = atoms_of(1, "_NET_WM_STATE");
  EXPECT_EQ(std::count(state.begin(), state.end(), atom("_NET_WM_STATE_SKIP_TASKBAR")), 0);  // in the taskbar
  expect_labelled_content(1, {0, 0}, 3);
  // Shrunk to a menu's size it is a popup again (override-redirect re-applied while unmapped).
  ASSERT_TRUE(comp_->set_rect(1, {10, 10, 100, 50}));
  present();
  EXPECT_TRUE(override_redirect(1));
  XWindowAttributes a{};
  XGetWindowAttributes(peer_, xid(1), &a);
  EXPECT_EQ(a.map_state, IsViewable);
}

TEST_F(X11Guard, ALabelWithoutABorderStillMarksAWindowCoveringTheScreen) {
  comp_.reset();
  X11Config xc;
  xc.display = xvfb_.display();
  auto backend = X11Backend::create(xc);
  ASSERT_TRUE(backend);
  backend_ = backend->get();
  CompositorConfig config;
  config.debug_damage = false;
  config.label = WindowLabel{"[work] ", kRgb, 0};
  auto c = Compositor::create(std::move(*backend), config);
  ASSERT_TRUE(c);
  comp_ = std::move(*c);
  ASSERT_TRUE(comp_->create_window(1, make({0, 0, 800, 600}, WindowKind::kNormal, "desktop")));
  ASSERT_TRUE(comp_->create_window(2, make({100, 100, 50, 40}, WindowKind::kNormal, "small")));
  present();
  expect_labelled_content(1, {0, 0}, WindowLabel::kMinMarkerPx, false);  // window 2 lies over its inside
  expect_labelled_content(2, {100, 100}, 0);
}

TEST_F(X11Guard, DemandAttentionSetsTheUrgencyHintAndLeavesFocusAlone) {
  ASSERT_TRUE(comp_->create_window(1, make({50, 60, 120, 80}, WindowKind::kNormal, "app")));
  present();
  ::Window before = 0;
  int revert = 0;
  XGetInputFocus(peer_, &before, &revert);
  ASSERT_TRUE(comp_->demand_attention(1));
  backend_->sync();
  XSync(peer_, False);
  XWMHints* hints = XGetWMHints(peer_, xid(1));
  ASSERT_NE(hints, nullptr);
  EXPECT_NE(hints->flags & XUrgencyHint, 0);
  XFree(hints);
  const auto state = atoms_of(1, "_NET_WM_STATE");
  EXPECT_EQ(std::count(state.begin(), state.end(), atom("_NET_WM_STATE_DEMANDS_ATTENTION")), 1);
  ::Window after = 0;
  XGetInputFocus(peer_, &after, &revert);
  EXPECT_EQ(after, before);
  EXPECT_NE(after, xid(1));
  EXPECT_FALSE(comp_->demand_attention(99));
}

// RandR 1.5 monitors: two virtual 400x600 monitors on the 800x600 screen (XRRSetMonitor, loaded
// like the backend loads RandR). A popup stays on its owner's half.
TEST_F(X11Guard, PopupsStayOnTheirOwnersRandrMonitor) {
  if (!backend_->randr_monitors()) GTEST_SKIP() << "no RandR 1.5 (libXrandr.so.2) on this host";
  void* lib = dlopen("libXrandr.so.2", RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr);
  struct Info {
    Atom name;
    Bool primary, automatic;
    int noutput, x, y, width, height, mwidth, mheight;
    unsigned long* outputs;
  };
  using SetMonitor = void (*)(Display*, ::Window, Info*);
  auto set_monitor = reinterpret_cast<SetMonitor>(dlsym(lib, "XRRSetMonitor"));
  ASSERT_NE(set_monitor, nullptr);
  Info left{atom("VITRINE-LEFT"), True, False, 0, 0, 0, 400, 600, 100, 150, nullptr};
  Info right{atom("VITRINE-RIGHT"), False, False, 0, 400, 0, 400, 600, 100, 150, nullptr};
  set_monitor(peer_, DefaultRootWindow(peer_), &left);
  set_monitor(peer_, DefaultRootWindow(peer_), &right);
  XSync(peer_, False);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (comp_->monitors().size() < 2 && std::chrono::steady_clock::now() < deadline) {
    backend_->dispatch_events();
    present();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // No dlclose: libXrandr's close hook on peer_ runs at XCloseDisplay.
  if (comp_->monitors().size() < 2) GTEST_SKIP() << "this X server does not report virtual RandR monitors";
  ASSERT_TRUE(comp_->create_window(1, make({420, 100, 200, 150}, WindowKind::kNormal, "app")));  // right half
  ASSERT_TRUE(comp_->create_window(2, make({100, 100, 250, 700}, WindowKind::kPopup, "menu", 1)));
  present();
  EXPECT_EQ(root_geometry(2), (DesktopRect{400, 0, 250, 600}));
}

}  // namespace
}  // namespace vitrine::compositor
