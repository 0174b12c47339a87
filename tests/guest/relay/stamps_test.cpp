// Timestamps through the real relay (kFeatureTimestamps): the relay answers ClockProbes with its
// clock and stamps every data record it commits; HostMux pairs each stamp with the record before
// it. Host and relay share CLOCK_MONOTONIC here, so the learned offset must come out within the
// round trip's uncertainty of zero, and every stamp must be causal on the host's time line:
// receive <= commit <= host read. The stream itself must be unchanged.
#include <mutex>
#include <thread>
#include <vector>

#include "relay_fixture.hpp"

namespace vitrine::relay::testing {
namespace {

constexpr std::size_t kChunk = 3000;
constexpr int kChunks = 40;
constexpr std::uint64_t kSeed = 0x5eed;

class RelayStamps : public RelayFixture {
 protected:
  void start_stamped() {
    mux_options_.on_stamp = [this](const rdpmux::GuestStamp& s) {
      std::lock_guard lock(mutex_);
      stamps_.push_back(s);
    };
    start();
  }
  // A server that sends kChunks chunks of the pattern, a little apart (separate records).
  std::thread serve(Listener& l) {
    return std::thread([&l] {
      auto s = l.accept();
      std::vector<std::byte> chunk(kChunk);
      for (int i = 0; i < kChunks; ++i) {
        fill_pattern(chunk.data(), kChunk, static_cast<std::uint64_t>(i) * kChunk, kSeed);
        if (!send_all(s.get(), chunk.data(), kChunk)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  void read_and_check(rdpmux::Connection& c) {
    std::vector<std::byte> got(kChunk * kChunks), want(got.size());
    std::size_t have = 0;
    while (have < got.size()) {
      auto n = c.read(std::span(got).subspan(have), 5s);
      ASSERT_TRUE(n) << rdpmux::to_string(n.error());
      ASSERT_GT(*n, 0u) << "stream ended at " << have;
      have += *n;
    }
    fill_pattern(want.data(), want.size(), 0, kSeed);
    EXPECT_EQ(got, want);
    // The stamp of the last record follows it: one more look at the ring takes it.
    ASSERT_TRUE(c.peek_read());
  }

  std::mutex mutex_;
  std::vector<rdpmux::GuestStamp> stamps_;
};

TEST_F(RelayStamps, SameClockOffsetIsWithinTheRoundTripAndStampsAreCausal) {
  start_stamped();
  if (!relay_) return;  // skipped (no io_uring)
  ASSERT_TRUE(mux_->timestamps_negotiated());
  auto e = mux_->sync_clock(5s, 8);
  ASSERT_TRUE(e) << rdpmux::to_string(e.error());
  EXPECT_LE(static_cast<std::uint64_t>(std::llabs(e->offset_ns)), e->uncertainty_ns)
      << "the relay reads the same clock: the offset must be within half the round trip";

  auto l = Listener::open();
  auto server = serve(l);
  auto c = open_tcp(l.port);
  ASSERT_TRUE(c);
  read_and_check(*c);
  server.join();

  std::lock_guard lock(mutex_);
  ASSERT_FALSE(stamps_.empty());
  // With a 1 MiB ring there is always room: every data record was stamped.
  EXPECT_EQ(relay_->counters().stamps_skipped.get(), 0u);
  EXPECT_EQ(relay_->counters().stamps.get(), relay_->counters().records_to_host.get());
  EXPECT_EQ(mux_->counters().stamps.load(), stamps_.size());
  EXPECT_EQ(mux_->counters().bad_stamps.load(), 0u);
  std::uint64_t bytes = 0;
  for (const auto& s : stamps_) {
    EXPECT_EQ(s.channel, c->channel_id());
    EXPECT_GT(s.bytes, 0u);
    EXPECT_LE(s.receive_ns, s.commit_ns);
    EXPECT_EQ(s.commit_ns - s.receive_ns, s.guest_receive_to_commit_ns);
    // Same clock: the host read the record after the relay committed it (up to the estimate's error).
    EXPECT_LE(s.commit_ns, s.read_ns + 2 * s.clock_uncertainty_ns);
    bytes += s.bytes;
  }
  EXPECT_EQ(bytes, kChunk * kChunks);
}

TEST_F(RelayStamps, WithoutACallbackTheRelayStampsNothing) {
  start();
  if (!relay_) return;
  EXPECT_FALSE(mux_->timestamps_negotiated());
  auto l = Listener::open();
  auto server = serve(l);
  auto c = open_tcp(l.port);
  ASSERT_TRUE(c);
  read_and_check(*c);
  server.join();
  EXPECT_EQ(relay_->counters().stamps.get(), 0u);
  EXPECT_EQ(mux_->counters().stamps.load() + mux_->counters().bad_stamps.load(), 0u);
}

}  // namespace
}  // namespace vitrine::relay::testing
