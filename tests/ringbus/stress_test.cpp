// Stress: records of random sizes (1 B .. 64 KiB, log-uniform) in both directions at once,
// each checked by sequence number and xxh3: no loss, duplication, reordering or corruption.
// Host and guest are two processes (fork) sharing the memfd and eventfds.
// Record count: 10 million each way in the cross-process test (VITRINE_STRESS_RECORDS
// overrides, e.g. for a quick local run).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "stress_common.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::ringbus {
namespace {

using namespace std::chrono_literals;
using namespace testing;

TEST(StressTest, CrossProcessBothDirectionsNoLossNoCorruption) {
  const std::uint64_t count = record_count(10'000'000);
  auto host = Bus::create(BusConfig::uniform(2, 20, 20));
  ASSERT_TRUE(host);
  Bells bells;
  const PayloadPool pool;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Guest process: its own attachment of the same memfd.
    auto guest = Bus::attach_fd(UniqueFd(::dup(host->fd())), Side::kGuest);
    if (!guest) ::_exit(10);
    Channel& ch = guest->channel(1);
    std::string tx_err, rx_err;
    std::thread tx([&] { tx_err = produce(ch.tx(), bells.g2h_space, bells.g2h_data, count, kSeedG2H, 65536, pool); });
    rx_err = consume(ch.rx(), bells.h2g_data, bells.h2g_space, count, kSeedH2G, 65536);
    tx.join();
    if (!tx_err.empty() || !rx_err.empty()) {
      std::fprintf(stderr, "guest: %s | %s\n", tx_err.c_str(), rx_err.c_str());
      ::_exit(11);
    }
    ::_exit(0);
  }
  Channel& ch = host->channel(1);
  std::string tx_err, rx_err;
  std::thread tx([&] { tx_err = produce(ch.tx(), bells.h2g_space, bells.h2g_data, count, kSeedH2G, 65536, pool); });
  rx_err = consume(ch.rx(), bells.g2h_data, bells.g2h_space, count, kSeedG2H, 65536);
  tx.join();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(tx_err.empty()) << tx_err;
  EXPECT_TRUE(rx_err.empty()) << rx_err;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "guest process reported a failure";
  EXPECT_EQ(ch.tx().counters().records.get(), count);
  EXPECT_EQ(ch.rx().counters().records.get(), count);
  EXPECT_EQ(ch.rx().counters().protocol_errors.get(), 0u);
  std::printf("records each way: %llu; host doorbells rung %llu, suppressed %llu; times full %llu\n",
              static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(ch.tx().counters().doorbells_rung.get() + ch.rx().counters().doorbells_rung.get()),
              static_cast<unsigned long long>(ch.tx().counters().doorbells_suppressed.get() + ch.rx().counters().doorbells_suppressed.get()),
              static_cast<unsigned long long>(ch.tx().counters().times_full.get()));
}

}  // namespace
}  // namespace vitrine::ringbus
