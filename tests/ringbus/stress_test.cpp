// Stress: records of random sizes (1 B .. 64 KiB, log-uniform) in both directions at once,
// each checked by sequence number and xxh3: no loss, duplication, reordering or corruption.
//   CrossProcess: host and guest are two processes (fork) sharing the memfd and eventfds.
//   Threaded:     the same in one process with four threads (the TSan variant).
// Record count: 10 million each way in the cross-process test (VITRINE_STRESS_RECORDS
// overrides, e.g. for a quick local run).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "test_bus.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::ringbus {
namespace {

using namespace std::chrono_literals;
using testing::PayloadPool;

std::uint64_t record_count(std::uint64_t fallback) {
  if (const char* env = std::getenv("VITRINE_STRESS_RECORDS")) return std::strtoull(env, nullptr, 10);
  return fallback;
}

// Produces `count` records; sleeps on `mine` when full; rings `peer` when the consumer sleeps.
// Value: empty string on success, else what went wrong.
std::string produce(Ring& ring, Doorbell& mine, Doorbell& peer, std::uint64_t count, std::uint64_t seed,
                    std::uint32_t max_size, const PayloadPool& pool) {
  std::mt19937_64 rng(seed);
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    const std::uint32_t size = testing::random_size(rng, max_size);
    for (;;) {
      auto claim = ring.try_claim(size);
      if (!claim) return "claim: " + to_string(claim.error());
      if (*claim) {
        testing::fill_payload(claim->data, size, seq, pool);
        ring.commit(size, 1, static_cast<std::uint16_t>(seq));
        ring.notify_consumer(peer);
        break;
      }
      auto w = ring.wait_writable(size, mine, WaitPolicy::adaptive(), 30s);
      if (!w) return "wait_writable: " + to_string(w.error());
      if (!*w) return "producer stalled 30 s at record " + std::to_string(seq);
    }
  }
  return {};
}

std::string consume(Ring& ring, Doorbell& mine, Doorbell& peer, std::uint64_t count, std::uint64_t seed,
                    std::uint32_t max_size) {
  std::mt19937_64 rng(seed);
  std::uint64_t seq = 0;
  std::string failure;
  while (seq < count && failure.empty()) {
    auto n = ring.read(
        [&](const RecordView& v) {
          if (!failure.empty()) return;
          const std::uint32_t size = testing::random_size(rng, max_size);
          if (v.type != 1 || v.flags != static_cast<std::uint16_t>(seq) || v.payload.size() != size ||
              !testing::check_payload(v.payload, seq))
            failure = "record " + std::to_string(seq) + " corrupt, lost or out of order (size " +
                      std::to_string(v.payload.size()) + ", expected " + std::to_string(size) + ")";
          ++seq;
        },
        256);
    if (!n) return "read: " + to_string(n.error());
    if (*n > 0) {
      ring.notify_producer(peer);
      continue;
    }
    auto r = ring.wait_readable(mine, WaitPolicy::adaptive(), 30s);
    if (!r) return "wait_readable: " + to_string(r.error());
    if (!*r) return "consumer stalled 30 s at record " + std::to_string(seq);
  }
  if (failure.empty() && ring.peek().value())
    failure = "more records than were sent";
  return failure;
}

struct Bells {
  EventfdDoorbell h2g_data = EventfdDoorbell::create().value();   // guest consumer sleeps here
  EventfdDoorbell h2g_space = EventfdDoorbell::create().value();  // host producer sleeps here
  EventfdDoorbell g2h_data = EventfdDoorbell::create().value();   // host consumer
  EventfdDoorbell g2h_space = EventfdDoorbell::create().value();  // guest producer
};

constexpr std::uint64_t kSeedH2G = 1001, kSeedG2H = 2002;

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

// Four threads, two attachments: the TSan variant (smaller records, fewer of them: TSan is slow).
TEST(StressTest, ThreadedBothDirectionsNoLossNoCorruption) {
  const std::uint64_t count = record_count(10'000'000) / 50;
  auto pair = testing::make_pair(BusConfig::uniform(2, 16, 16));
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
