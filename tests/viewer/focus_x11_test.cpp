// The guest takes host focus only in answer to host input: RemoteDisplay on a private Xvfb (no
// window manager), RAIL activations from a fake session, a real click through XTest. Focus and
// the urgency hint are read from a second X connection (XGetInputFocus, WM_HINTS).
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <thread>
#include <vector>

#include "headless_fixture.hpp"
#include "vitrine/viewer/remote_display.hpp"
#include "xvfb_server.hpp"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>

namespace vitrine::viewer {
namespace {

using namespace std::chrono_literals;
namespace rh = rdpmux::host;

struct Recorder final : GuestInput {
  std::vector<std::pair<rh::MouseButton, bool>> buttons;
  void key(rh::Scancode, bool) override {}
  void mouse_move(rh::DesktopPoint) override {}
  void mouse_button(rh::MouseButton b, bool down, rh::DesktopPoint) override { buttons.emplace_back(b, down); }
  void wheel(rh::WheelAxis, int, rh::DesktopPoint) override {}
  void activate(rh::WindowId, bool) override {}
  void system_command(rh::WindowId, rh::SystemCommand) override {}
  void window_move(rh::WindowId, rh::DesktopRect) override {}
};

class GuestFocus : public ::testing::Test {
 protected:
  void SetUp() override {
    compositor::testing::use_software_gl();
    if (xvfb_.display().empty()) GTEST_SKIP() << xvfb_.why();
    peer_ = XOpenDisplay(xvfb_.display().c_str());
    ASSERT_NE(peer_, nullptr);
    int event = 0, error = 0, major = 0, minor = 0;
    if (!XTestQueryExtension(peer_, &event, &error, &major, &minor)) GTEST_SKIP() << "no XTEST on the X server";
    RemoteDisplayOptions o;
    o.x_display = xvfb_.display();
    o.focus_grace = 1000ms;
    o.label.title_prefix = "[work] ";
    auto d = RemoteDisplay::create(o);
    if (!d) GTEST_SKIP() << "X11 EGL unavailable: " << d.error();
    display_ = std::move(*d);
    display_->set_guest_input(&input_);
  }
  void TearDown() override {
    display_.reset();
    if (peer_ != nullptr) XCloseDisplay(peer_);
  }

  // Dispatches the display until `done()` or 5 s.
  template <typename F>
  bool pump_until(F done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    auto fds = display_->wake_fds();
    std::vector<pollfd> p;
    for (int fd : fds) p.push_back({fd, POLLIN, 0});
    while (std::chrono::steady_clock::now() < deadline) {
      display_->dispatch();
      XSync(peer_, False);
      if (done()) return true;
      (void)::poll(p.data(), p.size(), 20);
    }
    return done();
  }
  ::Window xid(rh::WindowId id) {
    for (const auto& w : display_->windows())
      if (w.id == id) return static_cast<::Window>(w.x11_window);
    return 0;
  }
  bool viewable(rh::WindowId id) {
    const ::Window w = xid(id);
    if (w == 0) return false;
    XWindowAttributes a{};
    return XGetWindowAttributes(peer_, w, &a) != 0 && a.map_state == IsViewable;
  }
  ::Window focus() {
    ::Window f = 0;
    int revert = 0;
    XGetInputFocus(peer_, &f, &revert);
    return f;
  }
  bool urgent(rh::WindowId id) {
    XWMHints* h = XGetWMHints(peer_, xid(id));
    if (h == nullptr) return false;
    const bool u = (h->flags & XUrgencyHint) != 0;
    XFree(h);
    return u;
  }
  static rh::WindowState window(rh::WindowId id, rh::DesktopRect frame) {
    rh::WindowState s;
    s.id = id;
    s.title = "w" + std::to_string(id);
    s.frame = frame;
    s.show = rh::ShowState::kNormal;
    s.style = rh::style::kCaption;
    return s;
  }
  void click(int x, int y) {
    XTestFakeMotionEvent(peer_, DefaultScreen(peer_), x, y, CurrentTime);
    XTestFakeButtonEvent(peer_, 1, True, CurrentTime);
    XTestFakeButtonEvent(peer_, 1, False, CurrentTime);
    XSync(peer_, False);
  }

  compositor::testing::XvfbServer xvfb_{800, 600};
  Display* peer_ = nullptr;
  Recorder input_;
  std::unique_ptr<RemoteDisplay> display_;
};

TEST_F(GuestFocus, AnActivationWithoutHostInputOnlyAsksForAttention) {
  display_->window_created(window(1, {50, 50, 200, 150}));
  display_->window_created(window(2, {400, 50, 200, 150}));
  ASSERT_TRUE(pump_until([&] { return viewable(1) && viewable(2); }));
  XSetInputFocus(peer_, PointerRoot, RevertToPointerRoot, CurrentTime);
  XSync(peer_, False);
  const ::Window before = focus();

  display_->active_window_changed(2);  // the guest, on its own
  ASSERT_TRUE(pump_until([&] { return display_->stats().activations_refused == 1; }));
  EXPECT_EQ(focus(), before);
  EXPECT_NE(focus(), xid(2));
  EXPECT_TRUE(urgent(2));
  EXPECT_EQ(display_->stats().activations, 0u);

  // The user clicks into window 1; the guest answers with an activation of window 2 (a dialog
  // the click opened): that one may take focus.
  click(100, 100);
  ASSERT_TRUE(pump_until([&] { return input_.buttons.size() >= 2; }));
  display_->active_window_changed(2);
  ASSERT_TRUE(pump_until([&] { return focus() == xid(2); }));
  EXPECT_EQ(display_->stats().activations, 1u);
  ASSERT_TRUE(pump_until([&] { return !urgent(2); }));  // focus clears the urgency

  // Long after the click the guest tries again: refused, focus stays.
  std::this_thread::sleep_for(1100ms);
  display_->active_window_changed(1);
  ASSERT_TRUE(pump_until([&] { return display_->stats().activations_refused == 2; }));
  EXPECT_EQ(focus(), xid(2));
  EXPECT_TRUE(urgent(1));
}

TEST_F(GuestFocus, HostWindowsCarryTheVmLabel) {
  rh::WindowState s = window(1, {50, 50, 200, 150});
  s.title = "[host] \x1b]2;root";
  display_->window_created(s);
  ASSERT_TRUE(pump_until([&] { return viewable(1); }));
  char* name = nullptr;
  ASSERT_TRUE(XFetchName(peer_, xid(1), &name));
  EXPECT_STREQ(name, "[work] ]2;root");
  XFree(name);
}

}  // namespace
}  // namespace vitrine::viewer
