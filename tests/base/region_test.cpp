// base::Region: the pixman region (move-only, clamped, capped), checked against a pixel mask.
#include "vitrine/base/region.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace vitrine::base {
namespace {

struct TestSpace {};
using R = Rect<TestSpace>;
using Reg = Region<TestSpace>;

TEST(Region, addMergesAndBoundsIsTheBoundingBox) {
  Reg r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.bounds(), R{});
  r.add(R{0, 0, 10, 10});
  r.add(R{5, 5, 10, 10});
  r.add(R{100, 100, 0, 5});  // empty: ignored
  EXPECT_EQ(r.bounds(), (R{0, 0, 15, 15}));
  EXPECT_EQ(r.area(), 100 + 100 - 25);
}

TEST(Region, subtractIntersectTranslate) {
  Reg r(R{0, 0, 10, 10});
  r.subtract(R{0, 0, 5, 10});
  EXPECT_EQ(r.rects(), (std::vector<R>{{5, 0, 5, 10}}));
  r.intersect(R{0, 0, 7, 3});
  EXPECT_EQ(r.rects(), (std::vector<R>{{5, 0, 2, 3}}));
  r.translate(10, 20);
  EXPECT_EQ(r.rects(), (std::vector<R>{{15, 20, 2, 3}}));
  r.intersect(R{});
  EXPECT_TRUE(r.empty());
}

TEST(Region, boxesShouldIterateEveryRectangle) {
  Reg r;
  r.add(R{0, 0, 1, 1});
  r.add(R{10, 10, 2, 2});
  std::int64_t area = 0;
  for (const auto& b : r.boxes()) area += std::int64_t{b.x2 - b.x1} * (b.y2 - b.y1);
  EXPECT_EQ(area, 5);
  EXPECT_EQ(r.rect_count(), 2u);
}

TEST(Region, capRectsShouldMergeToTheBoundingBox) {
  Reg r;
  for (int i = 0; i < 10; ++i) r.add(R{i * 10, 0, 1, 1});
  EXPECT_FALSE(r.cap_rects(10));
  EXPECT_TRUE(r.cap_rects(4));
  EXPECT_EQ(r.rects(), (std::vector<R>{{0, 0, 91, 1}}));
}

TEST(Region, hostileCoordinatesShouldBeClampedNotOverflow) {
  // x + width = 3e9 does not fit int32: the right edge is clamped to 2^30 - 1, not wrapped.
  Reg r(R{1'000'000'000, 0, 2'000'000'000, 10});
  EXPECT_EQ(r.bounds(), (R{1'000'000'000, 0, (1 << 30) - 1 - 1'000'000'000, 10}));
  // Entirely past 2^30: nothing pixman could hold, dropped.
  Reg far(R{2'000'000'000, 0, 100, 100});
  EXPECT_TRUE(far.empty());
  r.translate(2'000'000'000, 0);  // everything leaves the range: cut off, no UB
  EXPECT_TRUE(r.empty());
}

TEST(Region, moveAndCopyAreExplicit) {
  static_assert(!std::is_copy_constructible_v<Reg>);
  static_assert(std::is_nothrow_move_constructible_v<Reg>);
  Reg a(R{1, 2, 3, 4});
  Reg b = a.copy();
  Reg c = std::move(a);
  EXPECT_EQ(b, c);
  a.assign(c);
  EXPECT_EQ(a, c);
}

TEST(Region, randomOperationsShouldMatchAPixelMask) {
  constexpr int kW = 64, kH = 48;
  std::mt19937 rng(7);
  Reg r;
  std::vector<int> mask(kW * kH, 0);
  for (int step = 0; step < 300; ++step) {
    const R rect{static_cast<int>(rng() % (kW + 20)) - 10, static_cast<int>(rng() % (kH + 20)) - 10,
                 static_cast<int>(rng() % 30), static_cast<int>(rng() % 30)};
    const bool sub = rng() % 4 == 0;
    if (sub) r.subtract(rect); else r.add(rect);
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x)
        if (rect.contains(Point<TestSpace>{x, y})) mask[y * kW + x] = sub ? 0 : 1;
  }
  r.intersect(R{0, 0, kW, kH});
  std::int64_t pixels = 0;
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      EXPECT_EQ(r.contains(Point<TestSpace>{x, y}), mask[y * kW + x] == 1) << x << "," << y;
      pixels += mask[y * kW + x];
    }
  EXPECT_EQ(r.area(), pixels);
}

}  // namespace
}  // namespace vitrine::base
