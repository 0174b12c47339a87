// WindowOrderSender against a real window tracker (Xvfb), with FreeRDP's window-order
// callbacks replaced by recorders: what a client would receive, order by order.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include <freerdp/freerdp.h>
#include <freerdp/update.h>
#include <freerdp/window.h>

#include <X11/Xatom.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "rdp/window_orders.hpp"
#include "support/xvfb.hpp"
#include "x11/x11_capture.hpp"

namespace vitrine::appserver::rdp {
namespace {

struct Recorded {
  enum Kind { kCreate, kUpdate, kIcon, kDelete, kDesktop } kind;
  uint32_t window = 0;
  uint32_t fields = 0;
  uint32_t owner = 0;
  int32_t x = 0, y = 0;
  uint32_t w = 0, h = 0;
  std::vector<uint32_t> zorder;
  uint32_t active = 0;
};

std::vector<Recorded>* g_log = nullptr;

BOOL rec_window(rdpContext*, const WINDOW_ORDER_INFO* o, const WINDOW_STATE_ORDER* s, Recorded::Kind k) {
  g_log->push_back({k, o->windowId, o->fieldFlags, s->ownerWindowId, s->windowOffsetX, s->windowOffsetY,
                    s->windowWidth, s->windowHeight, {}, 0});
  return TRUE;
}
BOOL rec_create(rdpContext* c, const WINDOW_ORDER_INFO* o, const WINDOW_STATE_ORDER* s) {
  return rec_window(c, o, s, Recorded::kCreate);
}
BOOL rec_update(rdpContext* c, const WINDOW_ORDER_INFO* o, const WINDOW_STATE_ORDER* s) {
  return rec_window(c, o, s, Recorded::kUpdate);
}
BOOL rec_icon(rdpContext*, const WINDOW_ORDER_INFO* o, const WINDOW_ICON_ORDER* i) {
  g_log->push_back({Recorded::kIcon, o->windowId, o->fieldFlags, 0, 0, 0, i->iconInfo->width, i->iconInfo->height, {}, 0});
  return TRUE;
}
BOOL rec_delete(rdpContext*, const WINDOW_ORDER_INFO* o) {
  g_log->push_back({Recorded::kDelete, o->windowId, o->fieldFlags, 0, 0, 0, 0, 0, {}, 0});
  return TRUE;
}
BOOL rec_desktop(rdpContext*, const WINDOW_ORDER_INFO* o, const MONITORED_DESKTOP_ORDER* d) {
  Recorded r{Recorded::kDesktop, 0, o->fieldFlags, 0, 0, 0, 0, 0, {}, d->activeWindowId};
  r.zorder.assign(d->windowIds, d->windowIds + d->numWindowIds);
  g_log->push_back(r);
  return TRUE;
}

class WindowOrderSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xvfb_ = testing::Xvfb::start(640, 480);
    if (!xvfb_) GTEST_SKIP() << "Xvfb not available";
    auto c = x11::X11Capture::open({xvfb_->display(), true});
    ASSERT_TRUE(c) << c.error();
    capture_ = std::move(*c);
    app_ = xvfb_->connection();
    window_.WindowCreate = rec_create;
    window_.WindowUpdate = rec_update;
    window_.WindowIcon = rec_icon;
    window_.WindowDelete = rec_delete;
    window_.MonitoredDesktop = rec_desktop;
    update_.window = &window_;
    context_.update = &update_;
    g_log = &log_;
  }
  void TearDown() override { g_log = nullptr; }

  bool settle(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      XSync(app_, False);
      capture_->pump();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  Window make(int x, int y, int w, int h) {
    return XCreateSimpleWindow(app_, DefaultRootWindow(app_), x, y, unsigned(w), unsigned(h), 0, 0, 0xffffff);
  }
  std::vector<Recorded> sync() {
    log_.clear();
    EXPECT_TRUE(sender_.sync(&context_, capture_->windows()));
    return log_;
  }

  std::unique_ptr<testing::Xvfb> xvfb_;
  std::unique_ptr<x11::X11Capture> capture_;
  Display* app_ = nullptr;
  rdpWindowUpdate window_{};
  rdpUpdate update_{};
  rdpContext context_{};
  std::vector<Recorded> log_;
  WindowOrderSender sender_;
};

TEST_F(WindowOrderSenderTest, SendsCreatesUpdatesDeletesAndZOrderAsDiffs) {
  const Window a = make(10, 20, 100, 50);
  const Window owned = make(200, 20, 80, 40);
  XSetTransientForHint(app_, owned, a);
  XMapWindow(app_, owned);
  XMapWindow(app_, a);  // stacking is creation order: `owned` is on top
  ASSERT_TRUE(settle([&] { return capture_->windows().stacking().size() == 2; }));

  auto first = sync();
  // Arc began, creates (owner before owned), then z-order with arc completed.
  ASSERT_GE(first.size(), 4u);
  EXPECT_EQ(first.front().kind, Recorded::kDesktop);
  EXPECT_TRUE(first.front().fields & WINDOW_ORDER_FIELD_DESKTOP_ARC_BEGAN);
  std::vector<uint32_t> created;
  for (const Recorded& r : first) {
    if (r.kind == Recorded::kCreate) {
      created.push_back(r.window);
      EXPECT_TRUE(r.fields & WINDOW_ORDER_STATE_NEW);
    }
  }
  EXPECT_EQ(created, (std::vector<uint32_t>{uint32_t(a), uint32_t(owned)}));
  const Recorded& z = first.back();
  ASSERT_EQ(z.kind, Recorded::kDesktop);
  EXPECT_TRUE(z.fields & WINDOW_ORDER_FIELD_DESKTOP_ARC_COMPLETED);
  EXPECT_EQ(z.zorder, (std::vector<uint32_t>{uint32_t(owned), uint32_t(a)}));  // topmost first
  for (const Recorded& r : first) {
    if (r.window == owned && r.kind == Recorded::kCreate) {
      EXPECT_EQ(r.owner, uint32_t(a));
    }
  }

  EXPECT_TRUE(sync().empty()) << "nothing changed, nothing sent";

  XMoveWindow(app_, a, 30, 40);
  ASSERT_TRUE(settle([&] { return capture_->windows().find(a)->frame.x == 30; }));
  auto moved = sync();
  ASSERT_FALSE(moved.empty());
  EXPECT_EQ(moved.front().kind, Recorded::kUpdate);
  EXPECT_EQ(moved.front().window, uint32_t(a));
  EXPECT_TRUE(moved.front().fields & WINDOW_ORDER_FIELD_WND_OFFSET);
  EXPECT_FALSE(moved.front().fields & WINDOW_ORDER_FIELD_TITLE);
  EXPECT_EQ(moved.front().x, 30);

  XRaiseWindow(app_, owned);
  XDestroyWindow(app_, a);
  ASSERT_TRUE(settle([&] { return capture_->windows().find(a) == nullptr; }));
  auto gone = sync();
  ASSERT_FALSE(gone.empty());
  EXPECT_EQ(gone.front().kind, Recorded::kDelete);
  EXPECT_EQ(gone.front().window, uint32_t(a));
  EXPECT_EQ(gone.back().kind, Recorded::kDesktop);
  EXPECT_EQ(gone.back().zorder, (std::vector<uint32_t>{uint32_t(owned)}));
}

TEST_F(WindowOrderSenderTest, SendsIconsOnceAndAgainWhenTheyChange) {
  const Window w = make(0, 0, 50, 50);
  std::vector<long> icon = {16, 16};
  for (int i = 0; i < 256; ++i) icon.push_back(long(0xff00ff00u));
  const Atom net_wm_icon = XInternAtom(app_, "_NET_WM_ICON", False);
  XChangeProperty(app_, w, net_wm_icon, XA_CARDINAL, 32, PropModeReplace, reinterpret_cast<unsigned char*>(icon.data()),
                  int(icon.size()));
  XMapWindow(app_, w);
  ASSERT_TRUE(settle([&] { return capture_->windows().find(w) && capture_->windows().find(w)->icon; }));
  auto first = sync();
  EXPECT_EQ(std::count_if(first.begin(), first.end(), [](const Recorded& r) { return r.kind == Recorded::kIcon; }), 1);
  EXPECT_TRUE(sync().empty());
  icon[0] = icon[1] = 8;
  icon.resize(2 + 64);
  XChangeProperty(app_, w, net_wm_icon, XA_CARDINAL, 32, PropModeReplace, reinterpret_cast<unsigned char*>(icon.data()),
                  int(icon.size()));
  ASSERT_TRUE(settle([&] { return capture_->windows().find(w)->icon->width == 8; }));
  auto changed = sync();
  ASSERT_EQ(std::count_if(changed.begin(), changed.end(), [](const Recorded& r) { return r.kind == Recorded::kIcon; }), 1);
}

}  // namespace
}  // namespace vitrine::appserver::rdp
