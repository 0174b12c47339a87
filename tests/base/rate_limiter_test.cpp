// RateLimiter: a burst passes, then per_second, and the next line says how many were dropped.
#include "vitrine/base/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace vitrine::base {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

TEST(RateLimiter, shouldPassABurstThenSuppress) {
  RateLimiter limit(2, 3);
  const std::uint64_t t0 = 10 * kSecond;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limit.admit(t0)) << i;
  EXPECT_FALSE(limit.admit(t0));
  EXPECT_FALSE(limit.admit(t0 + 1));
  EXPECT_EQ(limit.suppressed(), 2u);
}

TEST(RateLimiter, shouldReportSuppressedLinesWhenItLetsOneThroughAgain) {
  RateLimiter limit(2, 1);
  const std::uint64_t t0 = 5 * kSecond;
  EXPECT_TRUE(limit.admit(t0));
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(limit.admit(t0 + 1000 * static_cast<std::uint64_t>(i)));
  const auto a = limit.admit(t0 + kSecond / 2);  // one token after 0.5 s at 2/s
  ASSERT_TRUE(a);
  EXPECT_EQ(a.suppressed, 7u);
  EXPECT_EQ(a.suffix(), " (7 lines suppressed)");
  EXPECT_EQ(limit.suppressed(), 0u);
  const auto none = RateLimiter::Admission{true, 0};
  EXPECT_EQ(none.suffix(), "");
}

TEST(RateLimiter, shouldRefillNoMoreThanTheBurstAfterALongQuietSpell) {
  RateLimiter limit(1'000'000, 4);
  const std::uint64_t t0 = kSecond;
  EXPECT_TRUE(limit.admit(t0));
  const std::uint64_t later = t0 + 1'000'000 * kSecond;  // no overflow, bucket capped at 4
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limit.admit(later)) << i;
  EXPECT_FALSE(limit.admit(later));
}

TEST(RateLimiter, aClockThatGoesBackShouldNotRefill) {
  RateLimiter limit(1, 1);
  EXPECT_TRUE(limit.admit(10 * kSecond));
  EXPECT_FALSE(limit.admit(5 * kSecond));
}

}  // namespace
}  // namespace vitrine::base
