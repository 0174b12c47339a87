// Timestamps (kFeatureTimestamps): ClockSync's estimator on hand-made samples, the codec of
// ClockProbe / ClockReply / Stamp records, and HostMux + Connection against a fake guest whose
// clock runs 7 s ahead of the host's: negotiation, sync_clock(), the periodic probe of poll(),
// stamps converted to the host's clock and delivered between the bytes they describe (which
// arrive intact), and a hostile guest's stamps and replies (misplaced, malformed, forged,
// not negotiated) counted while the stream and the host go on.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_guest.hpp"
#include "vitrine/rdpmux/clock_sync.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"

namespace vitrine::rdpmux {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;

constexpr std::int64_t kGuestAhead = 7'000'000'000;  // the fake guest's clock: host + 7 s

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

Bytes bytes_of(std::string_view s) {
  Bytes out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

// ---- ClockSync ------------------------------------------------------------------------------

TEST(ClockSync, OffsetIsTheGuestReadingMinusTheMidpointOfTheRoundTrip) {
  ClockSync sync;
  EXPECT_FALSE(sync.estimate());
  ASSERT_TRUE(sync.add({1000, 5500, 2000}));
  auto e = sync.estimate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset_ns, 4000);
  EXPECT_EQ(e->uncertainty_ns, 500u);
  EXPECT_EQ(e->samples, 1u);
  EXPECT_EQ(e->to_host(5500), 1500u);
  // A guest clock behind the host's (a VM that booted after the host): negative offset.
  ClockSync late;
  ASSERT_TRUE(late.add({1'000'000'000, 100, 1'000'000'010}));
  EXPECT_EQ(late.estimate()->offset_ns, 100 - 1'000'000'005);
  EXPECT_EQ(late.estimate()->to_host(200), 1'000'000'105u);
}

TEST(ClockSync, TheShortestRoundTripOfTheWindowWinsAndOldSamplesAgeOut) {
  ClockSync sync(3);
  ASSERT_TRUE(sync.add({1000, 90'000, 11'000}));  // rtt 10000, offset 84000
  ASSERT_TRUE(sync.add({20'000, 100'100, 20'200}));  // rtt 200, offset 80000
  ASSERT_TRUE(sync.add({30'000, 120'000, 35'000}));  // rtt 5000, offset 87500
  EXPECT_EQ(sync.estimate()->offset_ns, 80'000);
  EXPECT_EQ(sync.estimate()->uncertainty_ns, 100u);
  // Two more samples push the rtt-200 one out of the 3-sample window.
  ASSERT_TRUE(sync.add({40'000, 130'000, 41'000}));  // rtt 1000, offset 89500
  ASSERT_TRUE(sync.add({50'000, 142'000, 54'000}));  // rtt 4000
  ASSERT_TRUE(sync.add({60'000, 150'000, 62'000}));  // rtt 2000; window: 1000, 4000, 2000
  EXPECT_EQ(sync.estimate()->offset_ns, 89'500);
  EXPECT_EQ(sync.estimate()->samples, 6u);
  sync.clear();
  EXPECT_FALSE(sync.estimate());
}

TEST(ClockSync, ImpossibleSamplesAreRefused) {
  ClockSync sync;
  EXPECT_FALSE(sync.add({2000, 5000, 1000}));       // reply before the probe
  EXPECT_FALSE(sync.add({0, 5000, 1000}));
  EXPECT_FALSE(sync.add({1000, 0, 2000}));
  EXPECT_FALSE(sync.add({1000, 1ull << 63, 2000}));  // no clock reads that
  EXPECT_FALSE(sync.add({1000, 5000, ~0ull}));
  EXPECT_FALSE(sync.estimate());
}

// A guest-clock reading is guest data: every u64 must convert without signed overflow (the asan
// preset's UBSan aborts on one) and saturate at the ends of the host's clock instead of wrapping.
// The expectation is computed in 128 bits (__extension__: GCC's __int128 under -Wpedantic).
__extension__ using Int128 = __int128;

TEST(ClockSync, ToHostSaturatesForEveryReadingAndOffset) {
  constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
  constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
  const std::uint64_t readings[] = {0, 1, 1ull << 62, static_cast<std::uint64_t>(kI64Max), 1ull << 63, kU64Max - 1,
                                    kU64Max};
  const std::int64_t offsets[] = {0, 1, -1, 7'000'000'000, -7'000'000'000, std::int64_t{1} << 62,
                                  -(std::int64_t{1} << 62), kI64Max, kI64Min + 1, kI64Min};
  for (const std::int64_t offset : offsets) {
    ClockEstimate e;
    e.offset_ns = offset;
    for (const std::uint64_t g : readings) {
      const Int128 exact = static_cast<Int128>(g) - offset;
      const std::uint64_t expected = exact < 0                 ? 0
                                     : exact > Int128{kU64Max} ? kU64Max
                                                               : static_cast<std::uint64_t>(exact);
      EXPECT_EQ(e.to_host(g), expected) << "guest " << g << " offset " << offset;
    }
  }
}

// ---- codec ------------------------------------------------------------------------------------

TEST(TimestampCodec, ClockMessagesRoundTripAndWrongSizesAreMalformed) {
  const auto probe = encode_control(ClockProbeMsg{42, 1234});
  EXPECT_EQ(probe.type, kMsgClockProbe);
  auto p = decode_control(probe.type, probe.payload());
  ASSERT_TRUE(p);
  EXPECT_EQ(std::get<ClockProbeMsg>(*p).host_ns, 1234u);
  const auto reply = encode_control(ClockReplyMsg{42, 1234, 99, 0});
  auto r = decode_control(reply.type, reply.payload());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<ClockReplyMsg>(*r).guest_ns, 99u);
  EXPECT_EQ(message_sender(kMsgClockProbe), Sender::kHost);
  EXPECT_EQ(message_sender(kMsgClockReply), Sender::kGuest);
  EXPECT_EQ(message_name(kMsgClockReply), "ClockReply");
  EXPECT_EQ(decode_control(kMsgClockReply, probe.payload()).error().code, Errc::kMalformed);
  EXPECT_EQ(decode_control(kMsgClockProbe, reply.payload()).error().code, Errc::kMalformed);
}

TEST(TimestampCodec, StampRecords) {
  const auto s = encode_stamp(100, 250);
  auto d = decode_stamp(s);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->receive_ns, 100u);
  EXPECT_EQ(d->commit_ns, 250u);
  EXPECT_EQ(decode_stamp(encode_stamp(300, 250)).error().code, Errc::kMalformed);  // received after commit
  EXPECT_EQ(decode_stamp(std::span(s).first(8)).error().code, Errc::kMalformed);
  Bytes longer(24);
  EXPECT_EQ(decode_stamp(longer).error().code, Errc::kMalformed);
}

// No CLOCK_MONOTONIC reads 2^62 ns (146 years): such a stamp is refused as ClockSync::add
// refuses such a ClockReply, so a converted stamp is always a real reading.
TEST(TimestampCodec, StampsBeyondAnyClockAreMalformed) {
  constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
  constexpr std::uint64_t kI64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(decode_stamp(encode_stamp(0, 0)));
  EXPECT_TRUE(decode_stamp(encode_stamp(0, kMaxClockReadingNs - 1)));
  EXPECT_EQ(decode_stamp(encode_stamp(0, kMaxClockReadingNs)).error().code, Errc::kMalformed);
  EXPECT_EQ(decode_stamp(encode_stamp(kI64Max, kI64Max)).error().code, Errc::kMalformed);
  EXPECT_EQ(decode_stamp(encode_stamp(1ull << 63, 1ull << 63)).error().code, Errc::kMalformed);
  EXPECT_EQ(decode_stamp(encode_stamp(0, kU64Max)).error().code, Errc::kMalformed);
  EXPECT_EQ(decode_stamp(encode_stamp(kU64Max, kU64Max)).error().code, Errc::kMalformed);
}

// ---- HostMux against a fake guest ---------------------------------------------------------------

class HostMuxStamps : public testing::FakeGuestTest {
 protected:
  void start(bool with_callback, std::chrono::milliseconds probe_interval = 2000ms) {
    HostMuxOptions options;
    options.clock_probe_interval = probe_interval;
    if (with_callback)
      options.on_stamp = [this](const GuestStamp& s) {
        std::lock_guard lock(mutex_);
        stamps_.push_back(s);
      };
    start_mux(std::move(options), 3);
  }

  // The fake guest answers `n` ClockProbes with its clock (host + kGuestAhead).
  std::thread answer_probes(int n) {
    return std::thread([this, n] {
      for (int i = 0; i < n; ++i) {
        auto m = guest_receive();
        ASSERT_TRUE(m && std::holds_alternative<ClockProbeMsg>(*m));
        const auto& probe = std::get<ClockProbeMsg>(*m);
        guest_send(ClockReplyMsg{probe.nonce, probe.host_ns, now_ns() + kGuestAhead, 0});
        guest_->channel(kControlChannel).notify_sent();
      }
    });
  }


  std::string read_all(Connection& c, std::size_t n) {
    std::string out(n, '\0');
    auto r = c.read(std::as_writable_bytes(std::span(out)), 2s);
    EXPECT_TRUE(r) << (r ? "" : to_string(r.error()));
    out.resize(r ? *r : 0);
    return out;
  }

  std::mutex mutex_;
  std::vector<GuestStamp> stamps_;
};

TEST_F(HostMuxStamps, OfferedOnlyWithACallbackAndOnlyWhenTheGuestAgrees) {
  start(false);
  guest_hello(kKnownFeatures);
  EXPECT_EQ(offered_ & kFeatureTimestamps, 0u);
  EXPECT_FALSE(mux_->timestamps_negotiated());
  auto s = mux_->sync_clock(500ms);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_NE(s.error().message.find("on_stamp"), std::string::npos);
  // A ClockReply nobody negotiated is a protocol error; the host answers it and goes on.
  guest_send(ClockReplyMsg{1, 2, 3, 0});
  mux_->poll();
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 1u);
  EXPECT_EQ(guest_error_replies(), 1);
}

TEST_F(HostMuxStamps, AnOlderRelayThatDeclinesIsNamed) {
  start(true);
  guest_hello(kKnownFeatures & ~kFeatureTimestamps);
  EXPECT_NE(offered_ & kFeatureTimestamps, 0u);
  EXPECT_FALSE(mux_->timestamps_negotiated());
  auto s = mux_->sync_clock(500ms);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("does not offer timestamps"), std::string::npos);
}

TEST_F(HostMuxStamps, SyncClockLearnsTheGuestsOffsetWithinItsUncertainty) {
  start(true);
  guest_hello(kKnownFeatures);
  ASSERT_TRUE(mux_->timestamps_negotiated());
  EXPECT_FALSE(mux_->clock_estimate());
  auto guest = answer_probes(5);
  auto e = mux_->sync_clock(5s, 5);
  guest.join();
  ASSERT_TRUE(e) << to_string(e.error());
  EXPECT_EQ(e->samples, 5u);
  EXPECT_EQ(mux_->counters().clock_samples.load(), 5u);
  // The fake guest read its clock somewhere inside the round trip: the error is within it.
  EXPECT_LE(std::llabs(e->offset_ns - kGuestAhead), static_cast<long long>(e->uncertainty_ns) + 1000);
  EXPECT_LT(e->uncertainty_ns, 1'000'000'000u);
  EXPECT_EQ(mux_->clock_estimate()->offset_ns, e->offset_ns);
}

TEST_F(HostMuxStamps, PollProbesAgainAfterTheIntervalAndForgedRepliesAreIgnored) {
  start(true, 20ms);
  guest_hello(kKnownFeatures);
  auto guest = answer_probes(1);
  ASSERT_TRUE(mux_->sync_clock(5s, 1));
  guest.join();
  std::this_thread::sleep_for(30ms);
  mux_->poll();  // due: sends a ClockProbe without waiting
  auto m = guest_receive();
  ASSERT_TRUE(m && std::holds_alternative<ClockProbeMsg>(*m));
  const auto probe = std::get<ClockProbeMsg>(*m);
  // Forged: wrong nonce, then the right nonce with a send time the host did not use (a guest
  // that wants a tiny round trip). Neither becomes a sample.
  guest_send(ClockReplyMsg{probe.nonce + 1, probe.host_ns, now_ns(), 0});
  guest_send(ClockReplyMsg{probe.nonce, now_ns(), now_ns(), 0});
  mux_->poll();
  EXPECT_EQ(mux_->counters().clock_samples.load(), 1u);
  guest_send(ClockReplyMsg{probe.nonce, probe.host_ns, now_ns() + kGuestAhead, 0});
  mux_->poll();
  EXPECT_EQ(mux_->counters().clock_samples.load(), 2u);
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 0u);
}

TEST_F(HostMuxStamps, StampsAreConvertedAndDeliveredBetweenIntactBytes) {
  start(true);
  guest_hello(kKnownFeatures);
  auto conn = open_connection();
  ASSERT_TRUE(conn);
  // Before any clock sample: the stamp is counted, not delivered, and the bytes flow.
  const std::uint64_t g0 = now_ns() + kGuestAhead;
  guest_send(kRecordData, bytes_of("early"), 1);
  guest_send(kRecordStamp, encode_stamp(g0, g0 + 10), 1);
  EXPECT_EQ(read_all(*conn, 5), "early");
  auto nothing = conn->peek_read();  // takes the stamp behind "early", finds no more bytes
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());
  EXPECT_EQ(mux_->counters().stamps_unsynced.load(), 1u);
  auto guest = answer_probes(4);
  auto e = mux_->sync_clock(5s, 4);
  guest.join();
  ASSERT_TRUE(e);

  const std::uint64_t g1 = now_ns() + kGuestAhead;
  guest_send(kRecordData, bytes_of("hello "), 1);
  guest_send(kRecordStamp, encode_stamp(g1, g1 + 3000), 1);
  guest_send(kRecordData, bytes_of("wor"), 1);  // unstamped (the relay had no room): fine
  guest_send(kRecordData, bytes_of("ld"), 1);
  guest_send(kRecordStamp, encode_stamp(g1 + 5000, g1 + 6000), 1);
  guest_->channel(1).notify_sent();
  EXPECT_EQ(read_all(*conn, 11), "hello world");
  // The stamp after "ld" is read by the next read; send more so that it is.
  guest_send(kRecordData, bytes_of("!"), 1);
  EXPECT_EQ(read_all(*conn, 1), "!");
  EXPECT_EQ(mux_->counters().stamps_unsynced.load(), 1u);
  ASSERT_EQ(mux_->counters().stamps.load(), 2u);
  std::lock_guard lock(mutex_);
  ASSERT_EQ(stamps_.size(), 2u);
  const GuestStamp& a = stamps_[0];
  EXPECT_EQ(a.channel, 1u);
  EXPECT_EQ(a.bytes, 6u);
  EXPECT_EQ(a.guest_receive_to_commit_ns, 3000u);
  EXPECT_EQ(a.commit_ns - a.receive_ns, 3000u);
  EXPECT_EQ(a.clock_uncertainty_ns, e->uncertainty_ns);
  // In the host's clock the guest committed "hello " at about g1 - 7 s, before the host read it.
  const auto expected_commit = static_cast<std::int64_t>(g1 + 3000 - kGuestAhead);
  EXPECT_LE(std::llabs(static_cast<std::int64_t>(a.commit_ns) - expected_commit),
            static_cast<long long>(e->uncertainty_ns) + 1000);
  EXPECT_GE(a.read_ns + e->uncertainty_ns + 1000, a.commit_ns);
  EXPECT_EQ(stamps_[1].bytes, 2u);  // "ld": the record right before it
  EXPECT_EQ(stamps_[1].guest_receive_to_commit_ns, 1000u);
}

TEST_F(HostMuxStamps, HostileStampsAreCountedAndLoseNoBytes) {
  start(true);
  guest_hello(kKnownFeatures);
  auto conn = open_connection();
  ASSERT_TRUE(conn);
  auto guest = answer_probes(1);
  ASSERT_TRUE(mux_->sync_clock(5s, 1));
  guest.join();
  const std::uint64_t g = now_ns() + kGuestAhead;
  guest_send(kRecordStamp, encode_stamp(g, g + 1), 1);  // no data record before it
  guest_send(kRecordData, bytes_of("abc"), 1);
  guest_send(kRecordStamp, Bytes(8), 1);                 // wrong size
  guest_send(kRecordData, bytes_of("def"), 1);
  guest_send(kRecordStamp, encode_stamp(g + 9, g), 1);   // received after its commit
  guest_send(kRecordStamp, encode_stamp(g, g + 1), 1);   // a second stamp for one record
  guest_send(kRecordData, bytes_of("ghi"), 1);
  // Readings no clock makes: converting 2^63 with the +7 s offset overflowed int64 (UBSan).
  guest_send(kRecordStamp, encode_stamp(1ull << 63, 1ull << 63), 1);
  guest_send(kRecordData, bytes_of("jkl"), 1);
  guest_send(kRecordStamp, encode_stamp(0, ~0ull), 1);
  guest_send(kRecordEnd, encode_end(0), 1);
  guest_->channel(1).notify_sent();
  EXPECT_EQ(read_all(*conn, 12), "abcdefghijkl");
  std::array<std::byte, 4> more{};
  auto end = conn->read(more, 1s);
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, 0u);  // a clean end of stream
  EXPECT_EQ(mux_->counters().bad_stamps.load(), 6u);
  EXPECT_EQ(mux_->counters().stamps.load(), 0u);
}

TEST_F(HostMuxStamps, AStampThatWasNotNegotiatedEndsTheStream) {
  start(false);
  guest_hello(kKnownFeatures);
  auto conn = open_connection();
  ASSERT_TRUE(conn);
  guest_send(kRecordData, bytes_of("abc"), 1);
  guest_send(kRecordStamp, encode_stamp(1, 2), 1);
  guest_->channel(1).notify_sent();
  EXPECT_EQ(read_all(*conn, 3), "abc");
  std::array<std::byte, 4> more{};
  auto r = conn->read(more, 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kPeerClosed);
  EXPECT_EQ(conn->end_error(), EPROTO);
}

}  // namespace
}  // namespace vitrine::rdpmux
