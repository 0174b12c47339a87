// Hostile peer: another process scribbles random values into the peer-written counters and
// record headers while this side reads (or writes). This side must report faults, reset, go
// on, and never crash or touch memory outside the ring (checked on every record under ASan).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <random>

#include "test_bus.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::ringbus {
namespace {

using base::Clock;

struct QuietLog {
  QuietLog() { base::set_log_sink([](base::LogLevel, std::string_view) {}); }
  ~QuietLog() { base::set_log_sink(nullptr); }
};

// Child: a guest that keeps producing valid-looking records and scribbling garbage at once.
[[noreturn]] void run_hostile_guest(int fd, bool attack_producer_side) {
  auto bus = Bus::attach_fd(UniqueFd(::dup(fd)), Side::kGuest);
  if (!bus) ::_exit(3);
  std::mt19937_64 rng(::getpid());
  const ChannelDesc& d = bus->layout().channels[1];
  auto* g2h = reinterpret_cast<RingControl*>(bus->base() + d.g2h_offset);
  auto* h2g = reinterpret_cast<RingControl*>(bus->base() + d.h2g_offset);
  std::byte* g2h_data = bus->base() + d.g2h_offset + kRingDataOffset;
  const std::uint64_t cap = std::uint64_t{1} << d.g2h_log2;
  for (;;) {
    switch (rng() % 6) {
      case 0: g2h->tail = rng(); break;                                   // wild tail
      case 1: g2h->tail += (rng() % 64) * 8; break;                       // plausible tail
      case 2: {                                                           // wild record header
        const std::uint64_t word = rng();
        std::memcpy(g2h_data + (rng() % cap & ~std::uint64_t{7}), &word, 8);
        break;
      }
      case 3: {                                                           // plausible header
        const std::uint64_t word = (rng() % 70000) | ((rng() % 3) << 32);
        std::memcpy(g2h_data + ((g2h->head + (rng() % 16) * 8) % cap & ~std::uint64_t{7}), &word, 8);
        break;
      }
      case 4:
        if (attack_producer_side) h2g->head = rng();                     // head of the host's tx ring
        break;
      default: {                                                          // an honest record now and then
        auto c = bus->channel(1).tx().try_claim(static_cast<std::uint32_t>(rng() % 3000));
        if (c && *c) bus->channel(1).tx().commit(c->capacity, 1);
        break;
      }
    }
  }
}

TEST(HostileTest, ConsumerSurvivesScribbledCountersAndHeaders) {
  QuietLog quiet;
  auto host = Bus::create(BusConfig::uniform(2, 14, 14));
  ASSERT_TRUE(host);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) run_hostile_guest(host->fd(), false);

  Channel& ch = host->channel(1);
  const ChannelDesc& d = host->layout().channels[1];
  const std::byte* lo = host->base() + d.g2h_offset + kRingDataOffset;
  const std::byte* hi = lo + (std::uint64_t{1} << d.g2h_log2);
  std::uint64_t records = 0, faults = 0, out_of_bounds = 0;
  std::uint64_t checksum = 0;
  const auto end = Clock::now() + std::chrono::seconds(3);
  while (Clock::now() < end) {
    auto n = ch.rx().read([&](const RecordView& v) {
      if (v.payload.data() < lo || v.payload.data() + v.payload.size() > hi) ++out_of_bounds;
      for (std::byte b : v.payload) checksum += static_cast<std::uint8_t>(b);  // touch every byte
      ++records;
    }, 64);
    if (!n) {
      ++faults;
      EXPECT_EQ(n.error().code, Errc::kChannelFault);
      ch.reset();
    }
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(out_of_bounds, 0u);
  EXPECT_GT(faults, 0u) << "the hostile guest should have been caught";
  EXPECT_EQ(ch.rx().counters().protocol_errors.get(), faults);
  std::printf("hostile consumer: %llu records read, %llu faults detected and reset (sum %llu)\n",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(faults),
              static_cast<unsigned long long>(checksum));
}

TEST(HostileTest, ProducerSurvivesScribbledConsumerHead) {
  QuietLog quiet;
  auto host = Bus::create(BusConfig::uniform(2, 14, 14));
  ASSERT_TRUE(host);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) run_hostile_guest(host->fd(), true);

  Ring& tx = host->channel(1).tx();
  const ChannelDesc& d = host->layout().channels[1];
  const std::byte* lo = host->base() + d.h2g_offset + kRingDataOffset;
  const std::byte* hi = lo + (std::uint64_t{1} << d.h2g_log2);
  std::uint64_t faults = 0, committed = 0, out_of_bounds = 0;
  std::mt19937_64 rng(7);
  const auto end = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < end) {
    const auto size = static_cast<std::uint32_t>(rng() % 5000);
    auto c = tx.try_claim(size);
    if (!c) {
      ++faults;
      host->channel(1).reset();
      continue;
    }
    if (!*c) continue;
    if (c->data < lo || c->data + c->capacity > hi) ++out_of_bounds;
    else std::memset(c->data, 0xAB, c->capacity);
    tx.commit(size, 2);
    ++committed;
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(out_of_bounds, 0u);
  EXPECT_GT(faults, 0u);
  std::printf("hostile producer side: %llu records committed, %llu faults reset\n",
              static_cast<unsigned long long>(committed), static_cast<unsigned long long>(faults));
}

}  // namespace
}  // namespace vitrine::ringbus
