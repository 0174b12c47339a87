// Clock and Deadline: saturation, expiry, poll() timeouts rounded up.
#include "vitrine/base/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace vitrine::base {
namespace {

using namespace std::chrono_literals;

TEST(Clock, monotonicNsShouldNotGoBack) {
  const auto a = monotonic_ns();
  const auto b = monotonic_ns();
  EXPECT_LE(a, b);
  EXPECT_GT(a, 0u);
}

TEST(Clock, deadlineAfterShouldSaturateInsteadOfOverflowing) {
  EXPECT_EQ(deadline_after(std::chrono::nanoseconds::max()), Clock::time_point::max());
  const auto now = Clock::now();
  EXPECT_EQ(deadline_after(5ms, now), now + 5ms);
}

TEST(Deadline, shouldExpireAtItsTime) {
  const auto now = Clock::now();
  const auto d = Deadline::at(now + 10ms);
  EXPECT_FALSE(d.expired(now));
  EXPECT_FALSE(d.expired(now + 9ms));
  EXPECT_TRUE(d.expired(now + 10ms));
  EXPECT_EQ(d.remaining(now + 4ms), 6ms);
  EXPECT_EQ(d.remaining(now + 20ms), 0ns);
}

TEST(Deadline, remainingMsShouldRoundUpForPoll) {
  const auto now = Clock::now();
  const auto d = Deadline::at(now + 2500us);
  EXPECT_EQ(d.remaining_ms(now), 3);           // 2.5 ms: wake after, not before
  EXPECT_EQ(d.remaining_ms(now + 2ms), 1);     // 0.5 ms left is still 1, not a 0 busy poll
  EXPECT_EQ(d.remaining_ms(now + 2500us), 0);  // expired
  EXPECT_EQ(Deadline::at(now + 24h * 365 * 100).remaining_ms(now), 0x7fffffff);
}

TEST(Deadline, neverShouldNeverExpireAndPollForever) {
  const auto d = Deadline::never();
  EXPECT_TRUE(d.is_never());
  EXPECT_FALSE(d.expired());
  EXPECT_EQ(d.remaining_ms(), -1);
  EXPECT_EQ(d.remaining(), std::chrono::nanoseconds::max());
  EXPECT_TRUE(Deadline::after(std::chrono::nanoseconds::max()).is_never());
}

TEST(Deadline, aNegativeTimeoutShouldBeExpiredAtOnce) {
  EXPECT_TRUE(Deadline::after(-1ms).expired());
  EXPECT_EQ(Deadline::after(-1ms).remaining_ms(), 0);
}

}  // namespace
}  // namespace vitrine::base
