// Producer and consumer loops shared by the stress tests: records of random sizes, each
// checked by sequence number and xxh3 on the consuming side.
#pragma once

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>

#include "test_bus.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::ringbus::testing {

using namespace std::chrono_literals;

inline constexpr std::uint64_t kSeedH2G = 1001, kSeedG2H = 2002;

inline std::uint64_t record_count(std::uint64_t fallback) {
  if (const char* env = std::getenv("VITRINE_STRESS_RECORDS")) return std::strtoull(env, nullptr, 10);
  return fallback;
}

// Produces `count` records; sleeps on `mine` when full; rings `peer` when the consumer sleeps.
// Value: empty string on success, else what went wrong.
inline std::string produce(Ring& ring, Doorbell& mine, Doorbell& peer, std::uint64_t count, std::uint64_t seed,
                    std::uint32_t max_size, const PayloadPool& pool) {
  std::mt19937_64 rng(seed);
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    const std::uint32_t size = random_size(rng, max_size);
    for (;;) {
      auto claim = ring.try_claim(size);
      if (!claim) return "claim: " + to_string(claim.error());
      if (*claim) {
        fill_payload(claim->data, size, seq, pool);
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

inline std::string consume(Ring& ring, Doorbell& mine, Doorbell& peer, std::uint64_t count, std::uint64_t seed,
                    std::uint32_t max_size) {
  std::mt19937_64 rng(seed);
  std::uint64_t seq = 0;
  std::string failure;
  while (seq < count && failure.empty()) {
    auto n = ring.read(
        [&](const RecordView& v) {
          if (!failure.empty()) return;
          const std::uint32_t size = random_size(rng, max_size);
          if (v.type != 1 || v.flags != static_cast<std::uint16_t>(seq) || v.payload.size() != size ||
              !check_payload(v.payload, seq))
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

}  // namespace vitrine::ringbus::testing
