#include "vitrine/compositor/damage_region.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

namespace vitrine::compositor {
namespace {

TEST(DamageRegion, EmptyRectanglesAreIgnored) {
  DamageRegion r;
  r.add(DesktopRect{10, 10, 0, 5});
  r.add(DesktopRect{10, 10, 5, -3});
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.area(), 0);
  EXPECT_EQ(r.rect_count(), 0u);
}

TEST(DamageRegion, UnionOfOverlappingRectsCountsEachPixelOnce) {
  DamageRegion r;
  r.add(DesktopRect{0, 0, 10, 10});
  r.add(DesktopRect{5, 5, 10, 10});
  EXPECT_EQ(r.area(), 100 + 100 - 25);
  EXPECT_EQ(r.bounds(), (DesktopRect{0, 0, 15, 15}));
  EXPECT_TRUE(r.contains({14, 14}));
  EXPECT_FALSE(r.contains({14, 0}));
}

TEST(DamageRegion, SubtractAndIntersect) {
  DamageRegion r(DesktopRect{0, 0, 100, 100});
  r.subtract(DesktopRect{25, 25, 50, 50});
  EXPECT_EQ(r.area(), 10000 - 2500);
  EXPECT_FALSE(r.intersects(DesktopRect{30, 30, 10, 10}));
  EXPECT_TRUE(r.intersects(DesktopRect{20, 20, 10, 10}));
  r.intersect(DesktopRect{0, 0, 50, 50});
  EXPECT_EQ(r.area(), 2500 - 625);
  r.intersect(DesktopRect{0, 0, 0, 0});
  EXPECT_TRUE(r.empty());
}

TEST(DamageRegion, MatchesAPixelMaskOnRandomOperations) {
  std::mt19937 rng(7);
  constexpr int kW = 64, kH = 48;
  for (int round = 0; round < 50; ++round) {
    DamageRegion r;
    std::vector<std::uint8_t> mask(kW * kH, 0);
    for (int op = 0; op < 20; ++op) {
      DesktopRect rect{static_cast<int>(rng() % (kW + 20)) - 10, static_cast<int>(rng() % (kH + 20)) - 10,
                       static_cast<int>(rng() % 30), static_cast<int>(rng() % 30)};
      const bool sub = rng() % 4 == 0;
      if (sub) r.subtract(rect); else r.add(rect);
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x)
          if (rect.contains({x, y})) mask[y * kW + x] = sub ? 0 : 1;
    }
    r.intersect(DesktopRect{0, 0, kW, kH});
    std::int64_t count = 0;
    for (int y = 0; y < kH; ++y) {
      for (int x = 0; x < kW; ++x) {
        ASSERT_EQ(r.contains({x, y}), mask[y * kW + x] == 1) << "round " << round << " at " << x << "," << y;
        count += mask[y * kW + x];
      }
    }
    EXPECT_EQ(r.area(), count);
  }
}

TEST(DamageRegion, CapMergesToBoundingBoxOnlyPastTheCap) {
  DamageRegion r;
  for (int i = 0; i < 10; ++i) r.add(DesktopRect{i * 20, i * 20, 10, 10});
  EXPECT_EQ(r.rect_count(), 10u);
  EXPECT_FALSE(r.cap_rects(10));
  EXPECT_EQ(r.rect_count(), 10u);
  EXPECT_TRUE(r.cap_rects(9));
  EXPECT_EQ(r.rect_count(), 1u);
  EXPECT_EQ(r.bounds(), (DesktopRect{0, 0, 190, 190}));
  EXPECT_EQ(r.area(), 190 * 190);
}

TEST(DamageRegion, HugeCoordinatesAreClampedNotOverflowed) {
  constexpr auto kMax = std::numeric_limits<std::int32_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int32_t>::min();
  DamageRegion r;
  r.add(DesktopRect{kMax - 5, kMax - 5, kMax, kMax});
  r.add(DesktopRect{kMin, kMin, kMax, kMax});
  r.intersect(DesktopRect{0, 0, 100, 100});
  EXPECT_TRUE(r.empty());
  DamageRegion big(DesktopRect{kMin, kMin, kMax, kMax});
  big.translate(kMax, kMax);  // must not wrap around
  big.translate(kMin, kMin);
  SUCCEED();
}

TEST(DamageRegion, WindowTranslationRoundTrips) {
  DamageRegion d;
  d.add(DesktopRect{100, 200, 30, 40});
  const DesktopRect window{90, 150, 500, 500};
  WindowRegion w = to_window(d, window);
  EXPECT_EQ(w.bounds(), (WindowRect{10, 50, 30, 40}));
  EXPECT_EQ(to_desktop(w, window), d);
}

TEST(DamageRegion, CopyAndMoveKeepContents) {
  DamageRegion a(DesktopRect{1, 2, 3, 4});
  DamageRegion b = a.copy();
  DamageRegion c = std::move(a);
  EXPECT_EQ(b, c);
  a.assign(c);  // moved-from object is valid and assignable
  EXPECT_EQ(a, c);
}

}  // namespace
}  // namespace vitrine::compositor
