// LaunchClock: a launch request is matched with the next application window the guest creates;
// launches without a window expire; the cold time is the instance's start to its first window.
#include <gtest/gtest.h>

#include "launch_clock.hpp"

namespace vitrine::cli {
namespace {

using namespace std::chrono_literals;
using Clock = LaunchClock::Clock;

TEST(LaunchClock, EachLaunchTakesTheNextApplicationWindowInOrder) {
  const auto t0 = Clock::now();
  LaunchClock clock(t0);
  EXPECT_EQ(clock.warm_summary(), "none yet");
  EXPECT_EQ(clock.cold_summary(), "no window yet");
  clock.windows_created(2, t0 + 1500ms);  // the start apps: no launch waits for them
  EXPECT_EQ(clock.cold_summary(), "1500 ms");
  EXPECT_EQ(clock.warm().count(), 0u);

  clock.launch_requested(t0 + 2s);
  clock.launch_requested(t0 + 2s + 50ms);
  clock.windows_created(2, t0 + 2s + 100ms);  // no new window: nothing taken
  EXPECT_EQ(clock.warm().count(), 0u);
  clock.windows_created(3, t0 + 2s + 200ms);  // the first launch's window: 200 ms
  clock.windows_created(4, t0 + 2s + 350ms);  // the second's: 300 ms
  ASSERT_EQ(clock.warm().count(), 2u);
  EXPECT_NEAR(double(clock.warm().max()), 300e6, 300e6 * 0.07);
  EXPECT_EQ(clock.cold_summary(), "1500 ms") << "the cold time is taken once";
  EXPECT_NE(clock.warm_summary().find("(2 launches)"), std::string::npos) << clock.warm_summary();
}

TEST(LaunchClock, ALaunchWithoutAWindowExpiresAndDoesNotTakeALaterOne) {
  const auto t0 = Clock::now();
  LaunchClock clock(t0);
  clock.launch_requested(t0);                                  // never gets a window
  clock.windows_created(1, t0 + LaunchClock::kGiveUp + 10s);   // a window 70 s later
  EXPECT_EQ(clock.warm().count(), 0u);
  EXPECT_NE(clock.warm_summary().find("1 without a window"), std::string::npos) << clock.warm_summary();
}

TEST(LaunchClock, PendingLaunchesAreBounded) {
  const auto t0 = Clock::now();
  LaunchClock clock(t0);
  for (std::size_t i = 0; i < LaunchClock::kMaxPending + 10; ++i) clock.launch_requested(t0 + std::chrono::milliseconds(i));
  clock.windows_created(1000, t0 + 1s);
  EXPECT_EQ(clock.warm().count(), LaunchClock::kMaxPending);
  EXPECT_NE(clock.warm_summary().find("10 without a window"), std::string::npos) << clock.warm_summary();
}

}  // namespace
}  // namespace vitrine::cli
