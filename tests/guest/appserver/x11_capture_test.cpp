// The capture side against a real Xvfb: windows, properties, damage, pixels, input, actions.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include "x11/x11_capture.hpp"

#include <X11/Xatom.h>
#include <X11/Xutil.h>

#include <chrono>
#include <functional>
#include <thread>

#include "support/xvfb.hpp"

namespace vitrine::appserver::x11 {
namespace {

using testing::Xvfb;

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xvfb_ = Xvfb::start(640, 480);
    if (!xvfb_) GTEST_SKIP() << "Xvfb not available";
    auto c = X11Capture::open({xvfb_->display(), true});
    ASSERT_TRUE(c) << c.error();
    capture_ = std::move(*c);
    app_ = xvfb_->connection();
  }

  // Pumps the capture until `done` holds or 5 s pass.
  bool pump_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      XSync(app_, False);
      capture_->pump();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  Window make_window(int x, int y, int w, int h, bool override_redirect, unsigned long color) {
    XSetWindowAttributes a{};
    a.override_redirect = override_redirect;
    a.background_pixel = color;
    const Window win = XCreateWindow(app_, DefaultRootWindow(app_), x, y, unsigned(w), unsigned(h), 0, CopyFromParent,
                                     InputOutput, CopyFromParent, CWOverrideRedirect | CWBackPixel, &a);
    return win;
  }

  std::unique_ptr<Xvfb> xvfb_;
  std::unique_ptr<X11Capture> capture_;
  Display* app_ = nullptr;
};

TEST_F(CaptureTest, TracksANewWindowWithTitleGeometryAndType) {
  const Window w = make_window(30, 40, 120, 80, false, 0x336699);
  XStoreName(app_, w, "hello vitrine");
  XMapWindow(app_, w);
  ASSERT_TRUE(pump_until([&] {
    const WindowInfo* i = capture_->windows().find(w);
    return i && i->shown() && i->title == "hello vitrine";
  }));
  const WindowInfo* i = capture_->windows().find(w);
  EXPECT_EQ(i->frame, (Rect{30, 40, 120, 80}));
  EXPECT_EQ(i->kind, WindowKind::kNormal);
  EXPECT_EQ(capture_->windows().stacking().back(), w);

  // Title change through _NET_WM_NAME (UTF-8) wins over WM_NAME.
  const std::string utf8 = "caf\xc3\xa9";
  XChangeProperty(app_, w, XInternAtom(app_, "_NET_WM_NAME", False), XInternAtom(app_, "UTF8_STRING", False), 8,
                  PropModeReplace, reinterpret_cast<const unsigned char*>(utf8.data()), int(utf8.size()));
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w)->title == utf8; }));

  XMoveResizeWindow(app_, w, 50, 60, 100, 70);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w)->frame == Rect{50, 60, 100, 70}; }));
  XDestroyWindow(app_, w);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w) == nullptr; }));
}

TEST_F(CaptureTest, OverrideRedirectWindowsArePopupsAndTransientsHaveOwners) {
  const Window owner = make_window(10, 10, 100, 100, false, 0xffffff);
  const Window menu = make_window(20, 20, 60, 40, true, 0xff0000);
  const Window dialog = make_window(200, 10, 100, 100, false, 0x00ff00);
  XSetTransientForHint(app_, dialog, owner);
  XMapWindow(app_, owner);
  XMapWindow(app_, menu);
  XMapWindow(app_, dialog);
  ASSERT_TRUE(pump_until([&] {
    const WindowInfo* d = capture_->windows().find(dialog);
    const WindowInfo* m = capture_->windows().find(menu);
    return d && m && d->shown() && m->shown() && d->owner == owner;
  }));
  EXPECT_EQ(capture_->windows().find(menu)->kind, WindowKind::kPopup);
  EXPECT_TRUE(capture_->windows().find(menu)->override_redirect);
  EXPECT_EQ(capture_->windows().find(dialog)->kind, WindowKind::kDialog);
  XUnmapWindow(app_, menu);
  ASSERT_TRUE(pump_until([&] { return !capture_->windows().find(menu)->shown(); }));
  EXPECT_EQ(capture_->windows().stacking().size(), 2u);
}

TEST_F(CaptureTest, ReadsTheIconClosestTo32Pixels) {
  const Window w = make_window(0, 0, 50, 50, false, 0);
  std::vector<long> icon;  // format-32 properties are arrays of long
  for (int size : {16, 48}) {
    icon.push_back(size);
    icon.push_back(size);
    for (int k = 0; k < size * size; ++k) icon.push_back(long(0xff000000u | unsigned(size)));
  }
  XChangeProperty(app_, w, XInternAtom(app_, "_NET_WM_ICON", False), XA_CARDINAL, 32, PropModeReplace,
                  reinterpret_cast<unsigned char*>(icon.data()), int(icon.size()));
  XMapWindow(app_, w);
  ASSERT_TRUE(pump_until([&] {
    const WindowInfo* i = capture_->windows().find(w);
    return i && i->icon.has_value();
  }));
  const WindowIcon& ic = *capture_->windows().find(w)->icon;
  // |16-32| == |48-32|: on a tie the smaller (downscaled by nobody) wins.
  EXPECT_EQ(ic.width, 16u);
  EXPECT_EQ(ic.argb.size(), 16u * 16u);
}

TEST_F(CaptureTest, DamageIsReportedInDesktopCoordinatesAndPixelsMatch) {
  const Window w = make_window(100, 50, 200, 100, false, 0x000000);
  XMapWindow(app_, w);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w) && capture_->windows().find(w)->shown(); }));
  capture_->damage().clear();
  GC gc = XCreateGC(app_, w, 0, nullptr);
  XSetForeground(app_, gc, 0x12ab34);
  XFillRectangle(app_, w, gc, 10, 20, 30, 40);
  ASSERT_TRUE(pump_until([&] { return !capture_->damage().empty(); }));
  const auto rects = capture_->damage().rects(capture_->desktop(), 64);
  ASSERT_FALSE(rects.empty());
  Rect box = rects.front();
  EXPECT_EQ(box.intersect({110, 70, 30, 40}), (Rect{110, 70, 30, 40}));
  auto img = capture_->grabber().grab_screen({110, 70, 30, 40});
  ASSERT_TRUE(img) << img.error();
  for (int y = 0; y < 40; ++y) {
    for (int x = 0; x < 30; ++x) {
      const uint8_t* p = img->data + size_t(y) * size_t(img->stride) + size_t(x) * 4;
      ASSERT_EQ(uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16, 0x12abu << 8 | 0x34u);
    }
  }
  XFreeGC(app_, gc);
}

TEST_F(CaptureTest, PerWindowDamageIsInWindowCoordinates) {
  auto c = X11Capture::open({xvfb_->display(), true, true});
  ASSERT_TRUE(c) << c.error();
  capture_ = std::move(*c);
  const Window w = make_window(100, 50, 200, 100, false, 0x000000);
  XMapWindow(app_, w);
  ASSERT_TRUE(pump_until([&] { return capture_->window_damage(w) != nullptr; }));
  capture_->window_damage(w)->clear();
  GC gc = XCreateGC(app_, w, 0, nullptr);
  XFillRectangle(app_, w, gc, 10, 20, 30, 40);
  XFreeGC(app_, gc);
  ASSERT_TRUE(pump_until([&] { return !capture_->window_damage(w)->empty(); }));
  const auto rects = capture_->window_damage(w)->rects({0, 0, 200, 100}, 8);
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0], (Rect{10, 20, 30, 40}));
  XUnmapWindow(app_, w);
  ASSERT_TRUE(pump_until([&] { return capture_->window_damage(w) == nullptr; }));
}

TEST_F(CaptureTest, MovingAWindowUnderAnotherDamagesTheCompositedScreen) {
  const Window below = make_window(0, 0, 100, 100, false, 0x000000);
  const Window above = make_window(150, 150, 100, 100, false, 0xffffff);
  XMapWindow(app_, below);
  XMapWindow(app_, above);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().stacking().size() == 2; }));
  XMoveWindow(app_, below, 120, 120);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(below)->frame.x == 120; }));
  // The overlap shows the window on top, both on the screen and in what a flush would read.
  const auto settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  pump_until([&] { return std::chrono::steady_clock::now() > settle; });  // compositing settles
  auto img = capture_->grabber().grab_screen({160, 160, 4, 4});
  ASSERT_TRUE(img);
  EXPECT_EQ(img->data[0], 0xff);
  bool covered = false;
  for (const Rect& r : capture_->damage().rects(capture_->desktop(), 64))
    covered |= r.intersect({160, 160, 4, 4}) == Rect{160, 160, 4, 4};
  EXPECT_TRUE(covered);
}

TEST_F(CaptureTest, CompositeKeepsOccludedWindowContentReadable) {
  const Window below = make_window(50, 50, 100, 100, false, 0x0000ff);
  const Window above = make_window(50, 50, 100, 100, false, 0xff0000);
  XMapWindow(app_, below);
  XMapWindow(app_, above);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().stacking().size() == 2; }));
  XSync(app_, False);
  auto screen = capture_->grabber().grab_screen({60, 60, 4, 4});
  ASSERT_TRUE(screen);
  EXPECT_EQ(screen->data[2], 0xff);  // red on top
  auto own = capture_->grabber().grab_window(below, {10, 10, 4, 4});
  ASSERT_TRUE(own) << own.error();
  EXPECT_EQ(own->data[0], 0xff);  // blue underneath, still readable
  EXPECT_EQ(own->data[2], 0x00);
}

TEST_F(CaptureTest, MinimizeRestoreAndCloseActAsAWindowManagerWould) {
  const Window w = make_window(10, 10, 80, 60, false, 0x808080);
  Atom wm_delete = XInternAtom(app_, "WM_DELETE_WINDOW", False);
  XSetWMProtocols(app_, w, &wm_delete, 1);
  XMapWindow(app_, w);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w) && capture_->windows().find(w)->shown(); }));
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w)->supports_delete; }));

  ASSERT_TRUE(capture_->actions().minimize(w));
  capture_->flush();
  ASSERT_TRUE(pump_until([&] { return !capture_->windows().find(w)->viewable; }));
  EXPECT_TRUE(capture_->windows().find(w)->minimized);
  EXPECT_TRUE(capture_->windows().find(w)->shown()) << "a minimized window stays known to the client";

  ASSERT_TRUE(capture_->actions().restore(w));
  capture_->flush();
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w)->viewable; }));
  EXPECT_FALSE(capture_->windows().find(w)->minimized);

  ASSERT_TRUE(capture_->actions().maximize(w));
  capture_->flush();
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w)->frame == Rect{0, 0, 640, 480}; }));
  ASSERT_TRUE(capture_->actions().restore(w));
  capture_->flush();
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w)->frame == Rect{10, 10, 80, 60}; }));

  XSelectInput(app_, w, StructureNotifyMask);
  ASSERT_TRUE(capture_->actions().close(w));
  capture_->flush();
  bool got_delete = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!got_delete && std::chrono::steady_clock::now() < deadline) {
    while (XPending(app_)) {
      XEvent ev;
      XNextEvent(app_, &ev);
      if (ev.type == ClientMessage && Atom(ev.xclient.data.l[0]) == wm_delete) got_delete = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(got_delete);
  EXPECT_FALSE(capture_->actions().close(0x7777777)) << "unknown windows are refused";
}

TEST_F(CaptureTest, XTestKeysReachTheFocusedWindow) {
  const Window w = make_window(10, 10, 80, 60, false, 0x808080);
  XSelectInput(app_, w, KeyPressMask | KeyReleaseMask);
  XMapWindow(app_, w);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().find(w) && capture_->windows().find(w)->viewable; }));
  ASSERT_TRUE(capture_->actions().activate(w));
  capture_->input().key(0x1e, false, true);  // 'a'
  capture_->input().key(0x1e, false, false);
  capture_->flush();
  bool got = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!got && std::chrono::steady_clock::now() < deadline) {
    while (XPending(app_)) {
      XEvent ev;
      XNextEvent(app_, &ev);
      if (ev.type == KeyPress && ev.xkey.keycode == 38) got = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(got);
  ASSERT_TRUE(pump_until([&] { return capture_->windows().active() == w; }));
}

TEST_F(CaptureTest, CursorShapeIsAvailable) {
  ASSERT_TRUE(pump_until([&] { return capture_->cursor().current().has_value(); }));
  const CursorImage& c = *capture_->cursor().current();
  EXPECT_GT(c.width, 0u);
  EXPECT_EQ(c.argb.size(), size_t{c.width} * c.height);
}

}  // namespace
}  // namespace vitrine::appserver::x11
