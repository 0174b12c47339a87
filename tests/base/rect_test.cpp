// base::Rect: half-open rectangles with 64-bit edge arithmetic.
#include "vitrine/base/rect.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace vitrine::base {
namespace {

struct TestSpace {};
using R = Rect<TestSpace>;
using P = Point<TestSpace>;
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();

TEST(Rect, emptyAndArea) {
  EXPECT_TRUE((R{0, 0, 0, 5}).empty());
  EXPECT_TRUE((R{0, 0, 5, -1}).empty());
  EXPECT_EQ((R{0, 0, -3, -3}).area(), 0);
  EXPECT_EQ((R{0, 0, kMax, kMax}).area(), std::int64_t{kMax} * kMax);  // no int32 overflow
}

TEST(Rect, containsShouldBeHalfOpen) {
  const R r{10, 20, 5, 5};
  EXPECT_TRUE(r.contains(P{10, 20}));
  EXPECT_TRUE(r.contains(P{14, 24}));
  EXPECT_FALSE(r.contains(P{15, 24}));
  EXPECT_FALSE(r.contains(P{14, 25}));
  EXPECT_FALSE((R{0, 0, 0, 0}).contains(P{0, 0}));
  EXPECT_TRUE(r.contains_rect(R{11, 21, 4, 4}));
  EXPECT_FALSE(r.contains_rect(R{11, 21, 5, 4}));
  EXPECT_TRUE(r.contains_rect(R{}));
}

TEST(Rect, intersectAndClip) {
  EXPECT_EQ((R{0, 0, 10, 10}).intersect(R{5, 5, 10, 10}), (R{5, 5, 5, 5}));
  EXPECT_EQ((R{0, 0, 10, 10}).intersect(R{10, 0, 5, 5}), R{});
  EXPECT_EQ((R{-5, -5, 10, 10}).clip(R{0, 0, 100, 100}), (R{0, 0, 5, 5}));
  EXPECT_TRUE((R{0, 0, 10, 10}).intersects(R{9, 9, 1, 1}));
  EXPECT_FALSE((R{0, 0, 10, 10}).intersects(R{10, 10, 1, 1}));
}

TEST(Rect, hostileValuesShouldNotOverflow) {
  // x + width past INT32_MAX: computed in 64 bits, the result is the true overlap.
  const R far{kMax - 10, kMax - 10, kMax, kMax};
  EXPECT_EQ(far.intersect(R{kMax - 5, kMax - 5, 100, 100}), (R{kMax - 5, kMax - 5, 100, 100}));
  EXPECT_EQ((R{kMin, kMin, kMax, kMax}).intersect(R{0, 0, 10, 10}), R{});
  EXPECT_EQ((R{kMin, 0, kMax, 1}).right(), -1);
}

TEST(Rect, uniteShouldBeTheBoundingBoxIgnoringEmpty) {
  EXPECT_EQ((R{0, 0, 2, 2}).unite(R{10, 10, 2, 2}), (R{0, 0, 12, 12}));
  EXPECT_EQ((R{}).unite(R{3, 3, 1, 1}), (R{3, 3, 1, 1}));
  EXPECT_EQ((R{3, 3, 1, 1}).unite(R{100, 100, 0, 0}), (R{3, 3, 1, 1}));
  // The box of two far rectangles is clamped to what int32 holds.
  const R u = (R{kMin, 0, 1, 1}).unite(R{kMax - 1, 0, 1, 1});
  EXPECT_EQ(u.x, kMin);
  EXPECT_EQ(u.width, kMax);
}

}  // namespace
}  // namespace vitrine::base
