// Unit tests of Ring: claim/commit/abort, wrap and padding, full and empty, peek/release,
// claim too large, fault and reset. One process, a host and a guest view of one region.
#include "vitrine/ringbus/ring.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_bus.hpp"

namespace vitrine::ringbus {
namespace {

using testing::make_pair;

constexpr std::uint32_t kLog2 = 12;  // 4 KiB rings: wraps happen quickly
constexpr std::uint64_t kCap = 1u << kLog2;

class RingTest : public ::testing::Test {
 protected:
  testing::BusPair pair = make_pair(BusConfig::uniform(2, kLog2, kLog2));
  Ring& tx() { return pair.host.channel(1).tx(); }   // host -> guest, host produces
  Ring& rx() { return pair.guest.channel(1).rx(); }  // the same ring, guest consumes

  void send(std::uint32_t n, std::uint16_t type, std::byte fill) {
    auto c = tx().try_claim(n);
    ASSERT_TRUE(c.has_value());
    ASSERT_TRUE(*c);
    std::memset(c->data, static_cast<int>(fill), n);
    tx().commit(n, type);
  }
  std::vector<std::pair<std::uint16_t, std::vector<std::byte>>> drain() {
    std::vector<std::pair<std::uint16_t, std::vector<std::byte>>> out;
    auto r = rx().read([&](const RecordView& v) {
      out.emplace_back(v.type, std::vector<std::byte>(v.payload.begin(), v.payload.end()));
    });
    EXPECT_TRUE(r.has_value());
    return out;
  }
};

TEST_F(RingTest, shouldReadNothingFromEmptyRing) {
  auto r = rx().read([](const RecordView&) { FAIL(); });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0u);
  auto p = rx().peek();
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(*p);
}

// A record is contiguous: one larger than half the ring does not fit an EMPTY ring whose tail
// stands just past the middle (not before the end, not after padding at the start). Producers
// that wait for room size their claims by max_always_fitting_payload() (the relay does); this
// stuck a relay with 8 KiB rings forever (guest_relay_test TinyRingsWrapConstantly).
TEST_F(RingTest, shouldTakeTheAlwaysFittingPayloadOnAnEmptyRingAtEveryPosition) {
  const std::uint64_t always = tx().max_always_fitting_payload();
  EXPECT_EQ(record_span(always), kCap / 2);
  const auto half_of_max = static_cast<std::uint32_t>(tx().max_payload() / 2);
  bool half_of_max_stuck = false;
  for (std::uint64_t offset = 0; offset < kCap; offset += kRecordAlign) {
    // Empty the ring with its tail at `offset`: one record spanning up to there, drained.
    if (offset > 0 && offset < sizeof(RecordHeader)) continue;  // no record is that short
    testing::BusPair fresh = make_pair(BusConfig::uniform(2, kLog2, kLog2));
    Ring& out = fresh.host.channel(1).tx();
    Ring& in = fresh.guest.channel(1).rx();
    if (offset > 0) {
      auto first = out.try_claim(static_cast<std::uint32_t>(offset - sizeof(RecordHeader)));
      ASSERT_TRUE(first && *first);
      out.commit(static_cast<std::uint32_t>(offset - sizeof(RecordHeader)), 1);
      auto n = in.read([](const RecordView&) {});
      ASSERT_TRUE(n && *n == 1);
    }
    auto w = out.writable(static_cast<std::uint32_t>(always));
    ASSERT_TRUE(w && *w) << "offset " << offset;
    auto c = out.try_claim(static_cast<std::uint32_t>(always));
    ASSERT_TRUE(c && *c) << "offset " << offset;
    out.abort();
    auto big = out.try_claim(half_of_max);
    ASSERT_TRUE(big);
    if (!*big) half_of_max_stuck = true;
    else out.abort();
  }
  EXPECT_TRUE(half_of_max_stuck) << "max_payload()/2 should not fit an empty ring somewhere (the old relay sizing)";
}

TEST_F(RingTest, shouldDeliverRecordWithTypeFlagsAndPayload) {
  auto c = tx().try_claim(5);
  ASSERT_TRUE(c && *c);
  std::memcpy(c->data, "hello", 5);
  tx().commit(5, 7, 0x1234);
  int seen = 0;
  auto r = rx().read([&](const RecordView& v) {
    ++seen;
    EXPECT_EQ(v.type, 7);
    EXPECT_EQ(v.flags, 0x1234);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.payload.data()), v.payload.size()), "hello");
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(tx().counters().records.get(), 1u);
  EXPECT_EQ(rx().counters().bytes.get(), 5u);
}

TEST_F(RingTest, shouldCommitLessThanClaimed) {
  auto c = tx().try_claim(1000);
  ASSERT_TRUE(c && *c);
  std::memset(c->data, 1, 3);
  tx().commit(3, 1);
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.size(), 3u);
}

TEST_F(RingTest, shouldNotReadSingleMessagePartWayThroughWriting) {
  auto c = tx().try_claim(64);
  ASSERT_TRUE(c && *c);
  std::memset(c->data, 9, 64);
  EXPECT_TRUE(drain().empty());  // claimed, not committed: invisible
  tx().commit(64, 2);
  EXPECT_EQ(drain().size(), 1u);
}

TEST_F(RingTest, shouldPublishNothingOnAbort) {
  auto c = tx().try_claim(100);
  ASSERT_TRUE(c && *c);
  std::memset(c->data, 3, 100);
  tx().abort();
  EXPECT_TRUE(drain().empty());
  send(10, 4, std::byte{5});
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 4);
}

TEST_F(RingTest, shouldReportFullAsEmptyClaimThenRecover) {
  // 1016-byte payloads take 1024 bytes each: four fill the 4 KiB ring exactly.
  for (int i = 0; i < 4; ++i) send(1016, 1, std::byte(i));
  auto c = tx().try_claim(1);
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(*c);
  EXPECT_EQ(tx().counters().times_full.get(), 1u);
  auto w = tx().writable(1);
  ASSERT_TRUE(w);
  EXPECT_FALSE(*w);
  EXPECT_EQ(drain().size(), 4u);
  c = tx().try_claim(1);
  ASSERT_TRUE(c && *c);
}

TEST_F(RingTest, shouldWrapWithPaddingRecordAndKeepSpansContiguous) {
  std::uint64_t sent = 0, received = 0;
  // 1000-byte records (1008 with header) never divide 4096: every few records wrap.
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) send(1000, 1, std::byte(round * 3 + i)), ++sent;
    for (auto& [type, bytes] : drain()) {
      ASSERT_EQ(type, 1);
      ASSERT_EQ(bytes.size(), 1000u);
      for (auto b : bytes) ASSERT_EQ(b, std::byte(received)) << "record " << received;
      ++received;
    }
  }
  EXPECT_EQ(sent, received);
  EXPECT_EQ(rx().counters().records.get(), received);  // padding is not counted as a record
}

TEST_F(RingTest, shouldPublishPaddingAloneWhenRecordCannotFitAfterIt) {
  // Fill to 3072 (three 1024-byte records), consume them, then fill 4000 at offset 3072:
  // padding (1024) + record (4008) > capacity, so the padding goes out alone first.
  for (int i = 0; i < 3; ++i) send(1016, 1, std::byte(i));
  EXPECT_EQ(drain().size(), 3u);
  send(8, 1, std::byte{1});  // now at 3088: the next large record must wrap
  auto c = tx().try_claim(4000);
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(*c);                 // full for now: the 8-byte record still occupies the ring
  EXPECT_EQ(drain().size(), 1u);    // consumes the record and the published padding
  c = tx().try_claim(4000);
  ASSERT_TRUE(c && *c);
  tx().commit(4000, 3);
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.size(), 4000u);
}

TEST_F(RingTest, shouldFreePaddingWithTheRecordBeforeItWhenReleasingRecordByRecord) {
  // A consumer that holds records (peek) and frees them one by one (release_until) must not
  // strand a padding record that the producer published on its own while waiting for space.
  for (int i = 0; i < 3; ++i) send(1016, 1, std::byte(i));
  EXPECT_EQ(drain().size(), 3u);
  send(8, 1, std::byte{1});                        // at 3072; next tail 3088
  auto held = rx().peek();
  ASSERT_TRUE(held && *held);
  auto c = tx().try_claim(4000);                   // publishes padding 3088..4096, then full
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(*c);
  auto none = rx().peek();                         // steps over the padding: nothing else
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  rx().release_until(held->end_position);          // frees the record and the padding after it
  c = tx().try_claim(4000);
  ASSERT_TRUE(c && *c) << "the producer must get the space the padding held";
}

TEST_F(RingTest, shouldAcceptRecordOfMaximumSize) {
  const auto max = static_cast<std::uint32_t>(tx().max_payload());
  EXPECT_EQ(max, kCap - 8);
  send(max, 1, std::byte{7});
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.size(), max);
}

TEST_F(RingTest, shouldRefuseClaimBiggerThanCapacityWithClearError) {
  auto c = tx().try_claim(static_cast<std::uint32_t>(kCap));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, Errc::kClaimTooLarge);
  EXPECT_NE(c.error().message.find("4096"), std::string::npos) << c.error().message;
  EXPECT_FALSE(tx().faulted());  // a caller mistake, not a channel fault
}

TEST_F(RingTest, shouldPeekAndReleaseInParts) {
  for (int i = 0; i < 3; ++i) send(10, static_cast<std::uint16_t>(i + 1), std::byte{0});
  auto a = rx().peek();
  auto b = rx().peek();
  ASSERT_TRUE(a && *a && b && *b);
  EXPECT_EQ(a->type, 1);
  EXPECT_EQ(b->type, 2);
  rx().release_until(a->end_position);  // only the first is freed
  auto c = rx().peek();
  ASSERT_TRUE(c && *c);
  EXPECT_EQ(c->type, 3);
  rx().release();
  auto none = rx().peek();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(RingTest, shouldFaultOnTailBeyondCapacityAndRecoverAfterReset) {
  // The guest is the untrusted producer of guest->host: it scribbles its tail.
  Ring& guest_tx = pair.guest.channel(1).tx();
  Ring& host_rx = pair.host.channel(1).rx();
  auto* control = reinterpret_cast<RingControl*>(pair.host.base() + pair.host.layout().channels[1].g2h_offset);
  control->tail = kCap * 3;  // more than a ring's worth ahead of the head
  auto r = host_rx.read([](const RecordView&) {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kChannelFault);
  EXPECT_TRUE(host_rx.faulted());
  EXPECT_EQ(host_rx.counters().protocol_errors.get(), 1u);
  EXPECT_NE(host_rx.last_fault().find("tail"), std::string::npos) << host_rx.last_fault();
  // Every call now reports the fault...
  EXPECT_FALSE(host_rx.peek().has_value());
  // ...until the host resets the channel; the guest side resynchronises by itself.
  pair.host.channel(1).reset();
  EXPECT_FALSE(host_rx.faulted());
  auto c = guest_tx.try_claim(4);
  ASSERT_TRUE(c && *c);
  std::memcpy(c->data, "abcd", 4);
  guest_tx.commit(4, 9);
  int seen = 0;
  ASSERT_TRUE(host_rx.read([&](const RecordView& v) { seen += v.type == 9; }));
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(guest_tx.counters().resets.get(), 1u);
}

TEST_F(RingTest, shouldFaultOnRecordLengthCrossingTheTail) {
  Ring& guest_tx = pair.guest.channel(1).tx();
  Ring& host_rx = pair.host.channel(1).rx();
  auto c = guest_tx.try_claim(8);
  ASSERT_TRUE(c && *c);
  guest_tx.commit(8, 1);
  // Rewrite the committed header: claims 2000 bytes while only 16 are published.
  auto* data = pair.guest.base() + pair.guest.layout().channels[1].g2h_offset + kRingDataOffset;
  const std::uint32_t bogus = 2000;
  std::memcpy(data, &bogus, 4);
  auto r = host_rx.read([](const RecordView&) { FAIL() << "handler must not see a bad record"; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kChannelFault);
}

TEST_F(RingTest, shouldFaultOnConsumerHeadMovingBackwards) {
  send(16, 1, std::byte{1});
  EXPECT_EQ(drain().size(), 1u);
  auto* control = reinterpret_cast<RingControl*>(pair.host.base() + pair.host.layout().channels[1].h2g_offset);
  control->head = 0xFFFF'FFFF'FFFF'FFF8ull;  // beyond the tail
  // Fill until the producer must look at the head again.
  Result<Claim> c = Claim{};
  for (int i = 0; i < 10 && c.has_value(); ++i) {
    c = tx().try_claim(1016);
    if (c && *c) tx().commit(1016, 1);
  }
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, Errc::kChannelFault);
}

TEST_F(RingTest, shouldSuppressDoorbellWhenConsumerIsAwake) {
  auto bell = EventfdDoorbell::create();
  ASSERT_TRUE(bell);
  send(8, 1, std::byte{0});
  EXPECT_FALSE(tx().notify_consumer(*bell));
  EXPECT_EQ(tx().counters().doorbells_suppressed.get(), 1u);
  // A consumer that waits (with its flag set) gets rung.
  auto* control = reinterpret_cast<RingControl*>(pair.host.base() + pair.host.layout().channels[1].h2g_offset);
  control->consumer_waiting = 1;
  EXPECT_TRUE(tx().notify_consumer(*bell));
  EXPECT_EQ(tx().counters().doorbells_rung.get(), 1u);
}

// One doorbell per sleep: ringing takes the consumer's flag down, so a burst of notifies while
// the woken consumer has not run yet makes one eventfd write, not one per notify (the cause of
// BM_RingThroughput's slow runs, docs/ringbus.md). The consumer raises the flag again to sleep.
TEST_F(RingTest, shouldRingOncePerArmingOfTheConsumer) {
  auto bell = EventfdDoorbell::create();
  ASSERT_TRUE(bell);
  ASSERT_FALSE(rx().arm_readable().value_or(true));  // empty: armed, would sleep now
  send(8, 1, std::byte{1});
  EXPECT_TRUE(tx().notify_consumer(*bell));
  send(8, 1, std::byte{2});
  EXPECT_FALSE(tx().notify_consumer(*bell)) << "rung already for this sleep";
  EXPECT_EQ(tx().counters().doorbells_rung.get(), 1u);
  EXPECT_EQ(tx().counters().doorbells_suppressed.get(), 1u);
  std::uint64_t rings = 0;
  ASSERT_EQ(::read(bell->fd(), &rings, sizeof rings), static_cast<ssize_t>(sizeof rings));
  EXPECT_EQ(rings, 1u) << "one eventfd write";
  rx().disarm_readable();
  EXPECT_EQ(drain().size(), 2u);
  // Armed again: the next notify rings again.
  ASSERT_FALSE(rx().arm_readable().value_or(true));
  send(8, 1, std::byte{3});
  EXPECT_TRUE(tx().notify_consumer(*bell));
  EXPECT_EQ(tx().counters().doorbells_rung.get(), 2u);
}

TEST_F(RingTest, shouldShowUnpublishedRecordsOnlyAfterPublishOrNotify) {
  auto bell = EventfdDoorbell::create();
  ASSERT_TRUE(bell);
  auto commit_unpublished = [&](std::uint16_t type) {
    auto c = tx().try_claim(16);
    ASSERT_TRUE(c && *c);
    std::memset(c->data, 0x11, 16);
    tx().commit_unpublished(16, type);
  };
  commit_unpublished(1);
  commit_unpublished(2);
  EXPECT_TRUE(drain().empty()) << "committed but not published";
  tx().publish();
  auto got = drain();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, 1);
  EXPECT_EQ(got[1].first, 2);
  commit_unpublished(3);
  EXPECT_TRUE(drain().empty());
  EXPECT_FALSE(tx().notify_consumer(*bell));  // publishes; the consumer is awake
  got = drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, 3);
}

// A producer that waits for room publishes first: the room it waits for is behind its own
// unpublished records, which the consumer must see to free it.
TEST_F(RingTest, shouldPublishUnpublishedRecordsBeforeWaitingForRoom) {
  auto bell = EventfdDoorbell::create();
  ASSERT_TRUE(bell);
  // 256-byte spans fill the ring exactly: no padding record, which make_room() would publish.
  constexpr std::uint32_t kPayload = 256 - sizeof(RecordHeader);
  std::size_t committed = 0;
  for (;;) {
    auto c = tx().try_claim(kPayload);
    ASSERT_TRUE(c.has_value());
    if (!*c) break;
    tx().commit_unpublished(kPayload, 1);
    ++committed;
  }
  ASSERT_EQ(committed, kCap / 256);
  EXPECT_TRUE(drain().empty());
  auto w = tx().wait_writable(kPayload, *bell, WaitPolicy::sleep_only(), std::chrono::milliseconds(1));
  ASSERT_TRUE(w.has_value());
  EXPECT_FALSE(*w) << "still full: nothing was consumed";
  EXPECT_EQ(drain().size(), committed);
  EXPECT_TRUE(tx().writable(kPayload).value_or(false));
}

// The owner resets a ring the guest produces on: the guest's unpublished records die with the
// reset, and its next publish() must not write its old tail over the owner's zero.
TEST_F(RingTest, shouldDropUnpublishedRecordsOnReset) {
  Ring& gtx = pair.guest.channel(1).tx();  // guest -> host, guest produces
  Ring& hrx = pair.host.channel(1).rx();
  auto c = gtx.try_claim(32);
  ASSERT_TRUE(c && *c);
  gtx.commit_unpublished(32, 1);
  hrx.reset();
  gtx.publish();
  auto r = hrx.read([](const RecordView&) { FAIL() << "a record from before the reset"; });
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  EXPECT_EQ(*r, 0u);
  EXPECT_FALSE(hrx.faulted());
}

TEST_F(RingTest, shouldTimeOutWaitingOnEmptyRing) {
  auto bell = EventfdDoorbell::create();
  ASSERT_TRUE(bell);
  auto r = rx().wait_readable(*bell, WaitPolicy::sleep_only(), std::chrono::milliseconds(5));
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

}  // namespace
}  // namespace vitrine::ringbus
