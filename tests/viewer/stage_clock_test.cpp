// HostReadClock ties a paint to the guest relay's receive time of its first bytes. The stamp of a
// record comes after the record went to FreeRDP's socket, so a fast decode can take the paint
// before its stamp arrives: that late stamp still belongs to that paint, never to the next.
#include <gtest/gtest.h>

#include "stage_clock.hpp"

namespace vitrine::viewer {
namespace {

using Direction = rdpmux::host::BridgeTap::Direction;

void wrote(HostReadClock& clock, std::uint64_t ns) { clock.on_chunk(Direction::kToSocket, 1, ns, {}); }

TEST(HostReadClock, AStampBeforeThePaintGoesToThatPaint) {
  HostReadClock clock;
  wrote(clock, 1'000'000);
  clock.on_guest_stamp(999'000, 500'000);
  const auto t = clock.take();
  EXPECT_EQ(t.read_ns, 1'000'000u);
  EXPECT_EQ(t.guest_receive_ns, 500'000u);
  EXPECT_EQ(clock.take_late(t.read_ns), 0u);
}

TEST(HostReadClock, AStampAfterThePaintTookItsBytesIsTakenLateByThatPaint) {
  HostReadClock clock;
  wrote(clock, 1'000'000);
  const auto t = clock.take();  // FreeRDP painted before the reader handled the stamp
  EXPECT_EQ(t.guest_receive_ns, 0u);
  clock.on_guest_stamp(999'000, 500'000);
  EXPECT_EQ(clock.take_late(t.read_ns), 500'000u);
  EXPECT_EQ(clock.take_late(t.read_ns), 0u) << "taken once";
}

TEST(HostReadClock, ALateStampOfNewBytesGoesToTheNextPaint) {
  HostReadClock clock;
  wrote(clock, 1'000'000);
  const auto first = clock.take();
  wrote(clock, base::monotonic_ns() + 10'000'000);  // bytes read after the paint was taken
  clock.on_guest_stamp(base::monotonic_ns() + 10'000'000, 700'000);
  EXPECT_EQ(clock.take_late(first.read_ns), 0u);
  EXPECT_EQ(clock.take().guest_receive_ns, 700'000u);
}

TEST(HostReadClock, AStampOfBytesAnOlderPaintShowedIsDropped) {
  HostReadClock clock;
  wrote(clock, 10'000'000);
  const auto t = clock.take();
  clock.on_guest_stamp(1'000'000, 400'000);  // read 9 ms before this paint's first bytes
  EXPECT_EQ(clock.take_late(t.read_ns), 0u);
}

TEST(HostReadClock, OnlyTheLastPaintTakenCanTakeALateStamp) {
  HostReadClock clock;
  wrote(clock, 1'000'000);
  const auto a = clock.take();
  wrote(clock, 2'000'000);
  const auto b = clock.take();
  clock.on_guest_stamp(2'000'000, 600'000);
  EXPECT_EQ(clock.take_late(a.read_ns), 0u);
  EXPECT_EQ(clock.take_late(b.read_ns), 600'000u);
}

}  // namespace
}  // namespace vitrine::viewer
