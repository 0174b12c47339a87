#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include "geometry.hpp"


namespace vitrine::appserver {
namespace {

TEST(Geometry, IntersectClipsAndEmptiesDisjointRects) {
  EXPECT_EQ((Rect{0, 0, 10, 10}.intersect({5, 5, 10, 10})), (Rect{5, 5, 5, 5}));
  EXPECT_TRUE((Rect{0, 0, 10, 10}.intersect({10, 0, 5, 5})).empty());
}

TEST(Geometry, AlignHorizontallyGrowsToMultiplesOfFourInsideBounds) {
  const Rect screen{0, 0, 1024, 768};
  EXPECT_EQ(align_horizontally({5, 3, 6, 2}, screen, 4), (Rect{4, 3, 8, 2}));
  // At the right edge the rectangle grows leftwards.
  EXPECT_EQ(align_horizontally({1022, 0, 2, 2}, screen, 4), (Rect{1020, 0, 4, 2}));
  EXPECT_EQ(align_horizontally({-10, -10, 5, 5}, screen, 4), Rect{});
}

TEST(Geometry, SplitIntoTilesCoversTheRectangleExactly) {
  const Rect r{3, 7, 130, 65};
  const auto tiles = split_into_tiles(r, 64);
  ASSERT_EQ(tiles.size(), 6u);
  int64_t area = 0;
  for (const Rect& t : tiles) {
    EXPECT_LE(t.width, 64);
    EXPECT_LE(t.height, 64);
    EXPECT_EQ(t.intersect(r), t);
    area += t.area();
  }
  EXPECT_EQ(area, r.area());
}

TEST(DamageRegion, MergesOverlapsAndClipsToBounds) {
  DamageRegion d;
  EXPECT_TRUE(d.empty());
  d.add({0, 0, 10, 10});
  d.add({5, 5, 10, 10});
  d.add({-50, -50, 60, 55});
  const auto rects = d.rects({0, 0, 100, 100}, 64);
  int64_t area = 0;
  for (const Rect& r : rects) area += r.area();
  EXPECT_EQ(area, 100 + 100 - 25);  // the third rect clips to {0,0,10,5}, inside the first
  d.clear();
  EXPECT_TRUE(d.empty());
}

TEST(DamageRegion, FallsBackToBoundingBoxPastTheRectangleCap) {
  DamageRegion d;
  for (int i = 0; i < 100; ++i) d.add({i * 10, i * 10, 2, 2});
  const auto rects = d.rects({0, 0, 2000, 2000}, 16);
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0], (Rect{0, 0, 992, 992}));
}

}  // namespace
}  // namespace vitrine::appserver
