#include "vitrine/compositor/scene.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace vitrine::compositor {
namespace {

WindowDesc desc(DesktopRect r) {
  WindowDesc d;
  d.rect = r;
  return d;
}

TEST(Scene, RefusesBadSizesPositionsAndIdsWithACounter) {
  Scene s;
  EXPECT_EQ(s.create(1, desc({0, 0, 0, 10})).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.create(1, desc({0, 0, -5, 10})).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.create(1, desc({0, 0, 10, Scene::kMaxWindowSize + 1})).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.create(1, desc({std::numeric_limits<int>::min(), 0, 10, 10})).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.create(kNoWindow, desc({0, 0, 10, 10})).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.refused(), 5u);
  ASSERT_TRUE(s.create(1, desc({-5000, -5000, 10, 10})));  // far off screen is fine
  EXPECT_EQ(s.create(1, desc({0, 0, 10, 10})).error().code, Errc::kAlreadyExists);
  EXPECT_EQ(s.set_rect(2, {0, 0, 5, 5}).error().code, Errc::kNotFound);
  EXPECT_EQ(s.set_rect(1, {0, 0, 5, 0}).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.find(1)->desc.rect, (DesktopRect{-5000, -5000, 10, 10}));
}

TEST(Scene, CapsTheWindowCount) {
  Scene s;
  std::size_t refused = 0;
  for (WindowId id = 1; id <= 10'000; ++id) {
    if (!s.create(id, desc({static_cast<int>(id % 100), 0, 4, 4}))) ++refused;
  }
  EXPECT_EQ(s.size(), Scene::kMaxWindows);
  EXPECT_EQ(refused, 10'000 - Scene::kMaxWindows);
  EXPECT_EQ(s.refused(), refused);
}

TEST(Scene, ZOrderTopFirstKeepsUnlistedBelow) {
  Scene s;
  for (WindowId id = 1; id <= 4; ++id) ASSERT_TRUE(s.create(id, desc({0, 0, 10, 10})));
  const std::vector<WindowId> order{2, 99, 1};  // 2 on top, then 1; 99 unknown
  s.set_z_order(order);
  EXPECT_EQ(std::vector<WindowId>(s.stacking().begin(), s.stacking().end()), (std::vector<WindowId>{3, 4, 1, 2}));
  EXPECT_EQ(s.refused(), 1u);
  ASSERT_TRUE(s.raise(3));
  EXPECT_EQ(s.stacking().back(), 3u);
  ASSERT_TRUE(s.destroy(3));
  EXPECT_EQ(std::vector<WindowId>(s.stacking().begin(), s.stacking().end()), (std::vector<WindowId>{4, 1, 2}));
}

TEST(Scene, OwnerCyclesAreRefusedAndDestroyedOwnersReleased) {
  Scene s;
  for (WindowId id = 1; id <= 3; ++id) ASSERT_TRUE(s.create(id, desc({0, 0, 10, 10})));
  ASSERT_TRUE(s.set_owner(2, 1));
  ASSERT_TRUE(s.set_owner(3, 2));
  EXPECT_EQ(s.set_owner(1, 3).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.set_owner(1, 1).error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(s.find(2)->top_level());
  ASSERT_TRUE(s.destroy(2));
  EXPECT_EQ(s.find(3)->desc.owner, kNoWindow);
}

TEST(Scene, IconsAndTitlesAreValidated) {
  Scene s;
  ASSERT_TRUE(s.create(1, desc({0, 0, 10, 10})));
  Icon bad{16, 16, std::vector<std::uint32_t>(10)};
  EXPECT_FALSE(s.set_icon(1, bad));
  Icon huge{4096, 1, std::vector<std::uint32_t>(4096)};
  EXPECT_FALSE(s.set_icon(1, huge));
  Icon good{2, 2, {0xff0000ff, 0xff00ff00, 0xffff0000, 0}};
  EXPECT_TRUE(s.set_icon(1, good));
  EXPECT_TRUE(s.set_icon(1, Icon{}));  // clearing the icon
  std::string title(5000, 'a');
  title[Scene::kMaxTitleBytes - 1] = '\xc3';  // a two-byte character straddling the cut
  title[Scene::kMaxTitleBytes] = '\xa9';
  ASSERT_TRUE(s.set_title(1, title));
  EXPECT_EQ(s.find(1)->desc.title.size(), Scene::kMaxTitleBytes - 1);
}

TEST(Scene, VisibleRegionFollowsResize) {
  Scene s;
  ASSERT_TRUE(s.create(1, desc({0, 0, 10, 10})));
  ASSERT_TRUE(s.set_rect(1, {5, 5, 20, 30}));
  EXPECT_EQ(s.find(1)->visible_region, WindowRegion(WindowRect{0, 0, 20, 30}));
  ASSERT_TRUE(s.set_visible_region(1, WindowRegion(WindowRect{-5, -5, 15, 100})));
  EXPECT_EQ(s.find(1)->visible_region, WindowRegion(WindowRect{0, 0, 10, 30}));
  ASSERT_TRUE(s.set_rect(1, {5, 5, 8, 8}));
  EXPECT_EQ(s.find(1)->visible_region, WindowRegion(WindowRect{0, 0, 8, 8}));
}

}  // namespace
}  // namespace vitrine::compositor
