// The ring's sleep/wake verbs for callers that sleep their own way (poll() on the doorbell's fd,
// an io_uring loop): arm_readable / arm_writable / disarm_*, and reader_waits_with_records()
// asked from a third thread, as a host thread that drained a shared doorbell does. Threads here,
// so that ThreadSanitizer checks the hand-shake (label tsan); a lost wake-up shows as a poll()
// that times out while the ring has what the sleeper waited for.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "test_bus.hpp"
#include "vitrine/ringbus/doorbell.hpp"

namespace vitrine::ringbus {
namespace {

using namespace testing;
using namespace std::chrono_literals;

// Sleeps on `bell` the way ConnectionBridge and the relay do. Value: false if the doorbell
// never came although the condition held (a lost wake-up).
template <typename Arm, typename Disarm, typename Ready>
bool sleep_until(EventfdDoorbell& bell, Arm arm, Disarm disarm, Ready ready) {
  auto r = arm();
  if (!r || *r) return true;  // ready (or faulted): do not sleep
  pollfd p{bell.fd(), POLLIN, 0};
  const int n = ::poll(&p, 1, 2000);
  disarm();
  bell.drain();
  if (n == 1) return true;
  return !ready();  // timed out: fine only if there really was nothing
}

// `bursts`: the producer commits with commit_unpublished() and publishes every 7 records
// through notify_consumer() (and wait_writable's arm_writable()); else commit() publishes each.
void run_arm_and_sleep(bool bursts) {
  const std::uint64_t count = 200'000;
  // A small ring, so that the producer also sleeps for space, through arm_writable.
  auto pair = make_pair(BusConfig::uniform(2, 12, 12));
  auto data = EventfdDoorbell::create();
  auto space = EventfdDoorbell::create();
  ASSERT_TRUE(data && space);
  Ring& tx = pair.host.channel(1).tx();
  Ring& rx = pair.guest.channel(1).rx();
  std::atomic<bool> done{false};
  std::string producer_error, consumer_error;
  std::atomic<std::uint64_t> consumer_sleeps{0}, producer_sleeps{0};

  std::thread producer([&] {
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint32_t size = 8 + static_cast<std::uint32_t>(i % 200);
      for (;;) {
        auto c = tx.try_claim(size);
        if (!c) {
          producer_error = to_string(c.error());
          return;
        }
        if (*c) {
          std::memcpy(c->data, &i, sizeof i);
          if (bursts) tx.commit_unpublished(size, 1);
          else tx.commit(size, 1);
          break;
        }
        tx.notify_consumer(*data);
        producer_sleeps.fetch_add(1, std::memory_order_relaxed);
        if (!sleep_until(*space, [&] { return tx.arm_writable(size); }, [&] { tx.disarm_writable(); },
                         [&] { return tx.writable(size).value_or(true); })) {
          producer_error = "lost wake-up: slept 2 s while space was free";
          return;
        }
      }
      if (i % 7 == 0) tx.notify_consumer(*data);
    }
    tx.notify_consumer(*data);
  });
  std::thread consumer([&] {
    std::uint64_t next = 0;
    while (next < count) {
      auto n = rx.read(
          [&](const RecordView& v) {
            std::uint64_t seq = 0;
            std::memcpy(&seq, v.payload.data(), sizeof seq);
            if (seq != next && consumer_error.empty()) consumer_error = "record " + std::to_string(seq) + " out of order";
            ++next;
          },
          64);
      if (!n) {
        consumer_error = to_string(n.error());
        return;
      }
      if (*n) {
        rx.notify_producer(*space);
        continue;
      }
      consumer_sleeps.fetch_add(1, std::memory_order_relaxed);
      if (!sleep_until(*data, [&] { return rx.arm_readable(); }, [&] { rx.disarm_readable(); },
                       [&] { return rx.readable().value_or(true); })) {
        consumer_error = "lost wake-up: slept 2 s with records pending";
        return;
      }
    }
    done = true;
  });
  // A third thread asks what a host thread that drained a shared doorbell asks. It must be safe
  // from any thread; its answer is advice (a spurious yes costs one re-check).
  std::uint64_t asked = 0, yes = 0;
  std::thread watcher([&] {
    while (!done.load()) {
      ++asked;
      yes += rx.reader_waits_with_records() ? 1 : 0;
      std::this_thread::yield();
    }
  });
  producer.join();
  consumer.join();
  done = true;
  watcher.join();
  EXPECT_TRUE(producer_error.empty()) << producer_error;
  EXPECT_TRUE(consumer_error.empty()) << consumer_error;
  EXPECT_EQ(rx.counters().records.get(), count);
  std::printf("consumer slept %llu times, producer %llu; watcher asked %llu times, %llu yes\n",
              static_cast<unsigned long long>(consumer_sleeps.load()),
              static_cast<unsigned long long>(producer_sleeps.load()), static_cast<unsigned long long>(asked),
              static_cast<unsigned long long>(yes));
  EXPECT_FALSE(rx.reader_waits_with_records()) << "nobody waits once the consumer is done";
  // One doorbell per sleep: the producer takes the consumer's flag down when it rings, so it
  // can never ring more often than the consumer armed (each arming is counted as a sleep here).
  EXPECT_LE(tx.counters().doorbells_rung.get(), consumer_sleeps.load());
}

TEST(RingArm, ShouldNeverLoseAWakeUpWhenSleepingOnTheDoorbellsFd) { run_arm_and_sleep(false); }

// Records committed unpublished are published by notify_consumer() and, when the producer has to
// wait for room, by arm_writable(): else a full ring of unpublished records would never drain.
TEST(RingArm, ShouldNeverLoseAWakeUpWithUnpublishedBursts) { run_arm_and_sleep(true); }

TEST(RingArm, ArmReportsReadyAndLeavesTheFlagDown) {
  auto pair = make_pair(BusConfig::uniform(2, 12, 12));
  Ring& tx = pair.host.channel(1).tx();
  Ring& rx = pair.guest.channel(1).rx();
  const RingControl* control =
      reinterpret_cast<const RingControl*>(pair.guest.base() + pair.guest.layout().channels.at(1).h2g_offset);
  // Empty: armed, flag up; the reader waits, but with nothing new.
  ASSERT_FALSE(rx.arm_readable().value_or(true));
  EXPECT_EQ(std::atomic_ref<std::uint32_t>(const_cast<RingControl*>(control)->consumer_waiting).load(), 1u);
  EXPECT_FALSE(rx.reader_waits_with_records());
  // A record arrives: the armed reader has records waiting.
  ASSERT_TRUE(tx.try_claim(8).value_or(Claim{}));
  tx.commit(8, 1);
  EXPECT_TRUE(rx.reader_waits_with_records());
  rx.disarm_readable();
  EXPECT_EQ(std::atomic_ref<std::uint32_t>(const_cast<RingControl*>(control)->consumer_waiting).load(), 0u);
  EXPECT_FALSE(rx.reader_waits_with_records()) << "disarmed: not waiting";
  // Arming with a record pending: ready at once, flag down again.
  EXPECT_TRUE(rx.arm_readable().value_or(false));
  EXPECT_EQ(std::atomic_ref<std::uint32_t>(const_cast<RingControl*>(control)->consumer_waiting).load(), 0u);
  EXPECT_FALSE(rx.reader_waits_with_records());
  // A forged flag (the peer writes the shared block) does not make this reader "armed".
  std::atomic_ref<std::uint32_t>(const_cast<RingControl*>(control)->consumer_waiting).store(1);
  EXPECT_FALSE(rx.reader_waits_with_records());
}

}  // namespace
}  // namespace vitrine::ringbus
