// Threaded stress: the cross-process test's traffic in one process with four threads and two
// attachments of one region, so that ThreadSanitizer checks the ring's memory ordering.
#include <gtest/gtest.h>

#include <thread>

#include "stress_common.hpp"

namespace vitrine::ringbus {
namespace {

using namespace testing;

// Smaller records, fewer of them: TSan is slow.
TEST(StressTest, ThreadedBothDirectionsNoLossNoCorruption) {
  const std::uint64_t count = record_count(10'000'000) / 50;
  auto pair = make_pair(BusConfig::uniform(2, 16, 16));
  Bells bells;
  const PayloadPool pool(1u << 16);
  Channel& h = pair.host.channel(1);
  Channel& g = pair.guest.channel(1);
  std::string errs[4];
  std::thread t0([&] { errs[0] = produce(h.tx(), bells.h2g_space, bells.h2g_data, count, kSeedH2G, 4096, pool); });
  std::thread t1([&] { errs[1] = consume(g.rx(), bells.h2g_data, bells.h2g_space, count, kSeedH2G, 4096); });
  std::thread t2([&] { errs[2] = produce(g.tx(), bells.g2h_space, bells.g2h_data, count, kSeedG2H, 4096, pool); });
  std::thread t3([&] { errs[3] = consume(h.rx(), bells.g2h_data, bells.g2h_space, count, kSeedG2H, 4096); });
  t0.join(), t1.join(), t2.join(), t3.join();
  for (const auto& e : errs) EXPECT_TRUE(e.empty()) << e;
  EXPECT_EQ(g.rx().counters().records.get(), count);
  EXPECT_EQ(h.rx().counters().records.get(), count);
}

}  // namespace
}  // namespace vitrine::ringbus
