// Guest UI cannot pass for host UI: the guard's placement of popups (owner's monitor, work
// area, size), its demotion of ownerless full-screen popups, the forced marker on windows that
// cover a monitor, title sanitising, and the border as drawn (headless read-back).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "headless_fixture.hpp"
#include "vitrine/compositor/window_guard.hpp"
#include "vitrine/compositor/window_label.hpp"

namespace vitrine::compositor {
namespace {

// Two 1000x800 monitors side by side; the left one has a 40 px panel at its top.
const std::vector<Monitor> kMonitors = {
    {{0, 0, 1000, 800}, {0, 40, 1000, 760}},
    {{1000, 0, 1000, 800}, {1000, 0, 1000, 800}},
};

Window window(WindowKind kind, DesktopRect r, WindowId owner = kNoWindow) {
  Window w;
  w.id = 7;
  w.desc.kind = kind;
  w.desc.rect = r;
  w.desc.owner = owner;
  w.desc.title = "Doc";
  return w;
}

Window placed_owner(HostRect r) {
  Window o = window(WindowKind::kNormal, to_desktop(r));
  o.id = 1;
  o.host.rect = r;
  return o;
}

const WindowLabel kLabel{"[work] ", 0x3465a4, 3};

TEST(WindowLabelTest, TitlesLoseControlsFormatCharactersAndLeadingTags) {
  EXPECT_EQ(host_title_part("Notepad"), "Notepad");
  EXPECT_EQ(host_title_part("Hello w\xc3\xb6rld"), "Hello w\xc3\xb6rld");
  EXPECT_EQ(host_title_part("a\tb\nc\x1b[31md\x7f"), "a b c [31md");
  EXPECT_EQ(host_title_part("a\xc2\x85z"), "a z");                      // C1 NEL
  EXPECT_EQ(host_title_part("evil\xe2\x80\xaetxt.exe"), "evil txt.exe");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(host_title_part("zero\xe2\x80\x8bwidth"), "zero width");
  EXPECT_EQ(host_title_part("bad \xff\xfe utf8 \xc0\xaf"), "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(host_title_part("cut \xe2\x82"), "cut \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(host_title_part("[host] Terminal"), "Terminal");
  EXPECT_EQ(host_title_part("  [a] (b) <c> \xef\xbc\xbbhost\xef\xbc\xbd  \xe3\x80\x90x\xe3\x80\x91 sudo  "), "sudo");
  EXPECT_EQ(host_title_part("\x01[host]\x02 x"), "x");
  EXPECT_EQ(host_title_part("[unclosed tag"), "[unclosed tag");
  EXPECT_EQ(host_title_part("[" + std::string(80, 'x') + "] long"), "[" + std::string(80, 'x') + "] long");
  EXPECT_EQ(host_title_part("Report [draft]"), "Report [draft]");
  EXPECT_EQ(host_title_part("a     b"), "a b");
  EXPECT_EQ(host_title_part(""), "");
  EXPECT_EQ(labelled_title(kLabel, "[personal] Mail"), "[work] Mail");
}

TEST(WindowLabelTest, RandomBytesAlwaysGiveCleanUtf8) {
  std::mt19937 rng(11);
  for (int round = 0; round < 2000; ++round) {
    std::string in(rng() % 64, '\0');
    for (char& c : in) c = static_cast<char>(rng());
    const std::string out = host_title_part(in);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto c = static_cast<unsigned char>(out[i]);
      ASSERT_FALSE(c < 0x20 || c == 0x7f) << "round " << round;
      ASSERT_FALSE(c == 0xc2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) < 0xa0) << round;
    }
    ASSERT_EQ(host_title_part(out), out) << "not idempotent, round " << round;
  }
}

TEST(WindowGuardTest, APopupStaysInsideItsOwnersMonitorsWorkArea) {
  const Window owner = placed_owner({100, 100, 400, 300});  // on the left monitor
  // Asks for a place on the right monitor, partly off it, and over the panel.
  HostFrame f = guard_window(window(WindowKind::kPopup, {1500, -20, 300, 200}, 1), &owner, kMonitors, kLabel);
  EXPECT_TRUE(f.override_redirect);
  EXPECT_EQ(f.rect, (HostRect{700, 40, 300, 200}));
  // Larger than the work area: shrunk to it.
  f = guard_window(window(WindowKind::kPopup, {50, 50, 5000, 4000}, 1), &owner, kMonitors, kLabel);
  EXPECT_EQ(f.rect, (HostRect{0, 40, 1000, 760}));
  EXPECT_TRUE(f.override_redirect);  // an owned menu stays a menu ...
  EXPECT_TRUE(f.covers_monitor);     // ... but covers the monitor: the marker is on
  EXPECT_EQ(f.border_px, 3);
  // Inside: untouched.
  f = guard_window(window(WindowKind::kTooltip, {120, 420, 80, 20}, 1), &owner, kMonitors, kLabel);
  EXPECT_EQ(f.rect, (HostRect{120, 420, 80, 20}));
  EXPECT_FALSE(f.covers_monitor);
}

TEST(WindowGuardTest, AnOwnerlessPopupGoesToTheMonitorUnderItsCorner) {
  HostFrame f = guard_window(window(WindowKind::kPopup, {1900, 700, 300, 200}), nullptr, kMonitors, kLabel);
  EXPECT_EQ(f.rect, (HostRect{1700, 600, 300, 200}));
  f = guard_window(window(WindowKind::kPopup, {-500, -500, 300, 200}), nullptr, kMonitors, kLabel);
  EXPECT_EQ(f.rect, (HostRect{0, 40, 300, 200}));  // on no monitor: the first (primary)
}

TEST(WindowGuardTest, AnOwnerlessFullScreenPopupBecomesAManagedLabelledWindow) {
  WindowLabel no_border = kLabel;
  no_border.border_px = 0;
  for (DesktopRect r : {DesktopRect{1000, 0, 1000, 800}, DesktopRect{1010, 10, 980, 780}, DesktopRect{900, -50, 1200, 900}}) {
    const HostFrame f = guard_window(window(WindowKind::kPopup, r), nullptr, kMonitors, no_border);
    EXPECT_FALSE(f.override_redirect) << r.x << "," << r.y;
    EXPECT_TRUE(f.covers_monitor);
    EXPECT_EQ(f.border_px, WindowLabel::kMinMarkerPx);  // forced although the label says 0
    EXPECT_EQ(f.title, "[work] Doc");
  }
}

TEST(WindowGuardTest, BigMaximizedAndFullscreenWindowsAlwaysCarryTheMarker) {
  WindowLabel no_border = kLabel;
  no_border.border_px = 0;
  EXPECT_EQ(guard_window(window(WindowKind::kNormal, {10, 10, 300, 200}), nullptr, kMonitors, no_border).border_px, 0);
  EXPECT_EQ(guard_window(window(WindowKind::kNormal, {0, 0, 1000, 760}), nullptr, kMonitors, no_border).border_px, 2);
  Window max = window(WindowKind::kNormal, {10, 10, 300, 200});
  max.desc.state = WindowState::kMaximized;
  EXPECT_EQ(guard_window(max, nullptr, {}, no_border).border_px, 2);
  max.desc.state = WindowState::kFullscreen;
  EXPECT_EQ(guard_window(max, nullptr, {}, no_border).border_px, 2);
  WindowLabel thick = kLabel;
  thick.border_px = 1000;
  EXPECT_EQ(guard_window(max, nullptr, {}, thick).border_px, WindowLabel::kMaxBorderPx);
  // Unlabelled (plain compositor use): nothing added, the title as it is.
  const HostFrame plain = guard_window(max, nullptr, kMonitors, std::nullopt);
  EXPECT_EQ(plain.border_px, 0);
  EXPECT_EQ(plain.title, "Doc");
  // Managed windows are the window manager's to place: never moved.
  EXPECT_EQ(guard_window(window(WindowKind::kNormal, {-300, 5000, 100, 100}), nullptr, kMonitors, kLabel).rect,
            (HostRect{-300, 5000, 100, 100}));
}

// Headless: the border is drawn over the guest's outermost pixels; a popup shrunk by the guard
// shows the top-left part of its desktop rectangle; popups follow their owner's monitor.
class GuardHeadless : public ::testing::Test {
 protected:
  void SetUp() override {
    CompositorConfig config;
    config.debug_damage = false;
    config.label = WindowLabel{"[t] ", 0x10c080, 2};
    std::string why;
    h_ = testing::make_headless(config, why);
    if (h_.compositor == nullptr) GTEST_SKIP() << "no off-screen GL: " << why;
    h_.backend->set_monitors({{{0, 0, 300, 200}, {0, 0, 300, 200}}, {{300, 0, 300, 200}, {300, 0, 300, 200}}});
    std::mt19937 rng(9);
    fb_.randomize(rng);
  }
  Image shot(WindowId id) {
    auto r = h_.compositor->present(fb_.view());
    EXPECT_TRUE(r) << to_string(r.error());
    auto img = h_.backend->read_back(id);
    EXPECT_TRUE(img) << to_string(img.error());
    return img ? std::move(*img) : Image{};
  }
  testing::Headless h_;
  testing::Framebuffer fb_{600, 200};
};

TEST_F(GuardHeadless, TheBorderIsDrawnOverTheGuestPixelsAndTheRestIsExact) {
  (void)h_.compositor->present(fb_.view());  // the monitors are read at a present
  WindowDesc d;
  d.rect = {20, 30, 100, 60};
  d.title = "\x1b[host]\x07 root";
  ASSERT_TRUE(h_.compositor->create_window(1, d));
  EXPECT_EQ(h_.compositor->scene().find(1)->host.title, "[t] root");
  const Image img = shot(1);
  const Image ref = crop(fb_.view(), d.rect);
  ASSERT_EQ(img.width, 100);
  for (std::int32_t y = 0; y < 60; ++y)
    for (std::int32_t x = 0; x < 100; ++x) {
      const bool border = x < 2 || y < 2 || x >= 98 || y >= 58;
      ASSERT_EQ(img.at(x, y) & 0xffffffu, border ? 0x10c080u : ref.at(x, y) & 0xffffffu) << x << "," << y;
    }
  // A shape cannot hide it: the border is drawn over a window shaped down to one pixel.
  ASSERT_TRUE(h_.compositor->set_visible_region(1, WindowRegion(WindowRect{50, 30, 1, 1})));
  const Image shaped = shot(1);
  EXPECT_EQ(shaped.at(0, 0) & 0xffffffu, 0x10c080u);
  EXPECT_EQ(shaped.at(99, 59) & 0xffffffu, 0x10c080u);
}

TEST_F(GuardHeadless, PopupsAreShrunkAndFollowTheirOwnersMonitor) {
  (void)h_.compositor->present(fb_.view());
  WindowDesc owner;
  owner.rect = {10, 10, 100, 100};
  ASSERT_TRUE(h_.compositor->create_window(1, owner));
  WindowDesc menu;
  menu.kind = WindowKind::kPopup;
  menu.owner = 1;
  menu.rect = {250, 150, 400, 120};  // wider than a monitor and hanging off its bottom
  ASSERT_TRUE(h_.compositor->create_window(2, menu));
  const Window* w = h_.compositor->scene().find(2);
  EXPECT_EQ(w->host.rect, (HostRect{0, 80, 300, 120}));
  const Image img = shot(2);
  ASSERT_EQ(img.width, 300);
  ASSERT_EQ(img.height, 120);
  const Image ref = crop(fb_.view(), menu.rect);  // the popup's own top-left part, not another's
  EXPECT_EQ(img.at(150, 20) & 0xffffffu, ref.at(150, 20) & 0xffffffu);
  // The owner moves to the right monitor: its popup follows.
  ASSERT_TRUE(h_.compositor->set_rect(1, {350, 10, 100, 100}));
  EXPECT_EQ(w->host.rect, (HostRect{300, 80, 300, 120}));
  // Monitors change (a backend event): everything is placed again.
  h_.backend->set_monitors({{{0, 0, 600, 200}, {0, 0, 600, 200}}});
  (void)shot(2);
  EXPECT_EQ(w->host.rect, (HostRect{200, 80, 400, 120}));
}

}  // namespace
}  // namespace vitrine::compositor
