#include "vitrine/rdpmux/host/window_model.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace vitrine::rdpmux::host {
namespace {

struct Recorder final : WindowEvents {
  std::vector<std::string> log;
  std::uint32_t last_changed = 0;
  void window_created(const WindowState& s) override { log.push_back("create " + std::to_string(s.id)); }
  void window_changed(const WindowState& s, std::uint32_t what) override {
    last_changed = what;
    log.push_back("change " + std::to_string(s.id));
  }
  void window_deleted(WindowId id) override { log.push_back("delete " + std::to_string(id)); }
  void z_order_changed(std::span<const WindowId> z) override { log.push_back("z " + std::to_string(z.size())); }
  void active_window_changed(WindowId id) override { log.push_back("active " + std::to_string(id)); }
  void notify_icon_changed(const NotifyIconState& s) override { log.push_back("notify " + s.tooltip); }
  void notify_icon_deleted(WindowId, std::uint32_t id) override { log.push_back("notify-del " + std::to_string(id)); }
  void local_move_size(const LocalMoveSize&) override {}
};

WindowOrder basic(WindowId id) {
  WindowOrder o;
  o.id = id;
  o.fields = WindowOrder::kTitle | WindowOrder::kWindowOffset | WindowOrder::kWindowSize | WindowOrder::kShow |
             WindowOrder::kStyle;
  o.title = "Notepad";
  o.window_offset = {10, 20};
  o.window_width = 300;
  o.window_height = 200;
  o.show = 5;
  o.style = style::kCaption;
  return o;
}

TEST(WindowModel, CreateUpdateDeletePublishTypedEvents) {
  Recorder rec;
  WindowModel model(rec);
  ASSERT_TRUE(model.create(basic(7)));
  const WindowState* w = model.find(7);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->title, "Notepad");
  EXPECT_EQ(w->frame, (DesktopRect{10, 20, 300, 200}));
  EXPECT_EQ(w->show, ShowState::kNormal);
  WindowOrder move;
  move.id = 7;
  move.fields = WindowOrder::kWindowOffset;
  move.window_offset = {50, 60};
  ASSERT_TRUE(model.update(move));
  EXPECT_EQ(rec.last_changed, changed::kFramePosition);
  EXPECT_EQ(model.find(7)->frame, (DesktopRect{50, 60, 300, 200}));
  ASSERT_TRUE(model.remove(7));
  EXPECT_EQ(model.find(7), nullptr);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"create 7", "change 7", "delete 7"}));
}

TEST(WindowModel, UnchangedUpdateIsSilent) {
  Recorder rec;
  WindowModel model(rec);
  ASSERT_TRUE(model.create(basic(1)));
  ASSERT_TRUE(model.update(basic(1)));
  EXPECT_EQ(rec.log.size(), 1u);
}

TEST(WindowModel, PopupWithOwnerIsOverrideRedirect) {
  Recorder rec;
  WindowModel model(rec);
  ASSERT_TRUE(model.create(basic(1)));
  auto popup = basic(2);
  popup.fields |= WindowOrder::kOwner;
  popup.owner = 1;
  popup.style = style::kPopup;
  popup.ex_style = ex_style::kToolWindow | ex_style::kTopmost;
  ASSERT_TRUE(model.create(popup));
  const auto* p = model.find(2);
  EXPECT_EQ(p->owner, 1u);
  EXPECT_TRUE(p->popup());
  EXPECT_TRUE(p->tool_window());
  EXPECT_TRUE(p->topmost());
  EXPECT_TRUE(p->override_redirect());
  EXPECT_FALSE(model.find(1)->override_redirect());
}

TEST(WindowModel, RejectsAbsurdSizesWithoutChangingState) {
  Recorder rec;
  WindowModel model(rec);
  auto wide = basic(3);
  wide.window_width = 1'000'000;
  auto r = model.create(wide);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kLimit);
  EXPECT_NE(r.error().message.find("1000000"), std::string::npos);
  EXPECT_EQ(model.size(), 0u);
  EXPECT_TRUE(rec.log.empty());
}

TEST(WindowModel, RejectsBadShowStateSelfOwnerAndUnknownWindows) {
  Recorder rec;
  WindowModel model(rec);
  auto bad = basic(4);
  bad.show = 9;
  EXPECT_EQ(model.create(bad).error().code, Errc::kProtocol);
  auto self = basic(4);
  self.fields |= WindowOrder::kOwner;
  self.owner = 4;
  EXPECT_FALSE(model.create(self));
  EXPECT_FALSE(model.update(basic(99)));
  EXPECT_FALSE(model.remove(99));
  auto zero = basic(0);
  EXPECT_FALSE(model.create(zero));
  auto text = basic(5);
  text.title = std::string("\xC3", 1);
  EXPECT_FALSE(model.create(text));
}

TEST(WindowModel, WindowCountLimit) {
  Recorder rec;
  WindowModelLimits limits;
  limits.max_windows = 100;
  WindowModel model(rec, limits);
  for (WindowId id = 1; id <= 100; ++id) ASSERT_TRUE(model.create(basic(id)));
  auto r = model.create(basic(101));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kLimit);
  EXPECT_EQ(model.size(), 100u);
}

TEST(WindowModel, IconsAndIconCache) {
  Recorder rec;
  WindowModel model(rec);
  ASSERT_TRUE(model.create(basic(1)));
  ASSERT_TRUE(model.create(basic(2)));
  Icon icon{16, 16, std::vector<std::uint8_t>(16 * 16 * 4, 0x80)};
  ASSERT_TRUE(model.set_icon(1, true, icon, {1, 3}));
  ASSERT_TRUE(model.set_cached_icon(2, false, {1, 3}));
  EXPECT_EQ(model.find(2)->small_icon, model.find(1)->big_icon);
  EXPECT_FALSE(model.set_cached_icon(2, false, {0, 0}));   // never filled
  EXPECT_FALSE(model.set_cached_icon(2, false, {5, 0}));   // outside the cache
  Icon huge{4096, 4096, {}};
  EXPECT_EQ(model.set_icon(1, false, huge, {kNoIconCache, 0}).error().code, Errc::kLimit);
}

TEST(WindowModel, ZOrderAndActivation) {
  Recorder rec;
  WindowModel model(rec);
  for (WindowId id : {1u, 2u, 3u}) ASSERT_TRUE(model.create(basic(id)));
  const std::vector<WindowId> z{2, 99, 1, 2};
  ASSERT_TRUE(model.monitored_desktop(2u, std::span<const WindowId>(z)));
  EXPECT_EQ(model.z_order(), (std::vector<WindowId>{2, 1, 3}));
  EXPECT_EQ(model.active(), 2u);
  ASSERT_TRUE(model.monitored_desktop(0xFFFFFFFFu, std::nullopt));
  EXPECT_EQ(model.active(), kNoWindow);
  ASSERT_TRUE(model.remove(2));
  EXPECT_EQ(model.z_order(), (std::vector<WindowId>{1, 3}));
}

TEST(WindowModel, NotifyIcons) {
  Recorder rec;
  WindowModel model(rec);
  NotifyIconOrder n;
  n.window = 1;
  n.icon_id = 4;
  n.has_tooltip = true;
  n.tooltip = "Updates";
  EXPECT_FALSE(model.notify_icon(n, false));  // update before create
  ASSERT_TRUE(model.notify_icon(n, true));
  ASSERT_TRUE(model.notify_icon_delete(1, 4));
  EXPECT_FALSE(model.notify_icon_delete(1, 4));
  EXPECT_EQ(rec.log, (std::vector<std::string>{"notify Updates", "notify-del 4"}));
}

TEST(WindowModel, ClearDeletesEverything) {
  Recorder rec;
  WindowModel model(rec);
  ASSERT_TRUE(model.create(basic(1)));
  ASSERT_TRUE(model.create(basic(2)));
  model.clear();
  EXPECT_EQ(model.size(), 0u);
}

}  // namespace
}  // namespace vitrine::rdpmux::host
