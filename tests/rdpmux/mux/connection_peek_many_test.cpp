// Connection::peek_read_many() / consume(n) against the fake guest: several data records as
// iovecs into ring memory, held (not released) until consume() passes them; Stamps between them
// handed on and released with the record before them; an End behind held records ending the
// stream only once they are consumed; the limits of one call (iovecs, kMaxPeekRecords, bytes);
// and a two-thread run of odd-sized records through arbitrary partial consumes (a pump's short
// writes) across many ring wraps, the bytes checked in order with xxh3.
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fake_guest.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"

namespace vitrine::rdpmux {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;

Bytes bytes_of(std::string_view s) {
  Bytes out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

std::string text_of(const iovec& v) { return std::string(static_cast<const char*>(v.iov_base), v.iov_len); }

std::vector<std::string> texts(const iovec* v, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(text_of(v[i]));
  return out;
}

class ConnectionPeekMany : public testing::FakeGuestTest {
 protected:
  // `stamped`: the guest agrees to kFeatureTimestamps (Stamp records may follow data records).
  std::unique_ptr<Connection> connection(bool stamped) {
    HostMuxOptions options;
    if (stamped)
      options.on_stamp = [this](const GuestStamp& s) {
        std::lock_guard lock(mutex_);
        stamp_bytes_.push_back(s.bytes);
      };
    start_mux(std::move(options), 2);
    guest_hello(stamped ? kKnownFeatures : (kKnownFeatures & ~kFeatureTimestamps));
    return open_connection();
  }
  void sync_clock() {
    std::thread guest([this] {
      auto m = guest_receive();
      ASSERT_TRUE(m && std::holds_alternative<ClockProbeMsg>(*m));
      const auto& probe = std::get<ClockProbeMsg>(*m);
      guest_send(ClockReplyMsg{probe.nonce, probe.host_ns, probe.host_ns + 1000, 0});
      guest_->channel(kControlChannel).notify_sent();
    });
    EXPECT_TRUE(mux_->sync_clock(5s, 1));
    guest.join();
  }

  std::mutex mutex_;
  std::vector<std::uint64_t> stamp_bytes_;
};

TEST_F(ConnectionPeekMany, GathersRecordsStepsOverStampsAndEndsAfterTheHeldBytes) {
  auto conn = connection(true);
  ASSERT_TRUE(conn);
  sync_clock();
  const std::uint64_t t = 5'000;
  guest_send(kRecordData, bytes_of("ab"), 1);
  guest_send(kRecordStamp, encode_stamp(t, t + 1), 1);
  guest_send(kRecordData, bytes_of("cde"), 1);
  guest_send(kRecordStamp, encode_stamp(t, t + 2), 1);
  guest_send(kRecordData, Bytes{}, 1);  // empty: stepped over, no iovec
  guest_send(kRecordData, bytes_of("f"), 1);
  guest_send(kRecordStamp, encode_stamp(t, t + 3), 1);
  guest_send(kRecordEnd, encode_end(0), 1);
  // More than the guest could ever send behind its End: never read.
  guest_send(kRecordData, bytes_of("ignored"), 1);

  iovec iov[8];
  auto n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  EXPECT_EQ(texts(iov, *n), (std::vector<std::string>{"ab", "cde", "f"}));
  EXPECT_EQ(conn->held_bytes(), 6u);
  EXPECT_FALSE(conn->eof());  // the End waits behind the held records
  {
    // Each stamp was handed on with the size of the data record right before it.
    std::lock_guard lock(mutex_);
    EXPECT_EQ(stamp_bytes_, (std::vector<std::uint64_t>{2, 3, 1}));
  }
  EXPECT_EQ(mux_->counters().stamps.load(), 3u);
  EXPECT_EQ(mux_->counters().bad_stamps.load(), 0u);
  // Held: nothing released yet, the guest cannot reuse the bytes the iovecs point at.
  EXPECT_EQ(conn->stats().releases, 0u);

  // A second call gives the same records again (a pump whose sendmsg would block).
  auto again = conn->peek_read_many(iov);
  ASSERT_TRUE(again);
  EXPECT_EQ(texts(iov, *again), (std::vector<std::string>{"ab", "cde", "f"}));

  conn->consume(1);  // a short write inside the first record: nothing released
  EXPECT_EQ(conn->stats().releases, 0u);
  n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  EXPECT_EQ(texts(iov, *n), (std::vector<std::string>{"b", "cde", "f"}));

  conn->consume(3);  // "b" and "cd": one release for "ab" and the stamp behind it
  EXPECT_EQ(conn->stats().releases, 1u);
  EXPECT_EQ(conn->stats().records_released, 1u);
  n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  EXPECT_EQ(texts(iov, *n), (std::vector<std::string>{"e", "f"}));
  EXPECT_FALSE(conn->eof());

  conn->consume(2);  // the last held bytes: "cde", "f", their stamps and the End in one release
  EXPECT_EQ(conn->stats().releases, 2u);
  EXPECT_EQ(conn->stats().records_released, 3u);
  EXPECT_EQ(conn->held_bytes(), 0u);
  EXPECT_TRUE(conn->eof());
  EXPECT_EQ(conn->end_error(), 0);
  n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(conn->stats().bytes_read, 6u);
  std::array<std::byte, 4> more{};
  auto r = conn->read(more, 1s);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);  // a clean end, "ignored" never read
}

TEST_F(ConnectionPeekMany, AnEndWithAnErrorBehindHeldRecordsFailsTheReadAfterTheBytes) {
  auto conn = connection(false);
  ASSERT_TRUE(conn);
  guest_send(kRecordData, bytes_of("xyz"), 1);
  guest_send(kRecordEnd, encode_end(ECONNRESET), 1);
  iovec iov[4];
  auto n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 1u);
  EXPECT_FALSE(conn->eof());
  // read() takes the held bytes first, then reports the guest's failure.
  std::array<char, 8> buf{};
  auto r = conn->read(std::as_writable_bytes(std::span(buf)), 1s);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::string(buf.data(), *r), "xyz");
  EXPECT_TRUE(conn->eof());
  EXPECT_EQ(conn->end_error(), ECONNRESET);
  r = conn->read(std::as_writable_bytes(std::span(buf)), 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kPeerClosed);
}

TEST_F(ConnectionPeekMany, AStampThatWasNotNegotiatedEndsTheStreamBehindTheHeldRecords) {
  auto conn = connection(false);
  ASSERT_TRUE(conn);
  guest_send(kRecordData, bytes_of("ab"), 1);
  guest_send(kRecordStamp, encode_stamp(1, 2), 1);
  guest_send(kRecordData, bytes_of("cd"), 1);
  iovec iov[4];
  auto n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  EXPECT_EQ(texts(iov, *n), (std::vector<std::string>{"ab"}));
  conn->consume(2);
  EXPECT_TRUE(conn->eof());
  EXPECT_EQ(conn->end_error(), EPROTO);
  n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
}

TEST_F(ConnectionPeekMany, OneCallStopsAtItsIovecsItsBytesAndTheHeldRecordLimit) {
  auto conn = connection(false);
  ASSERT_TRUE(conn);
  constexpr std::size_t kRecords = kMaxPeekRecords + 36;
  for (std::size_t i = 0; i < kRecords; ++i) guest_send(kRecordData, bytes_of(std::string(1, char('A' + i % 26)) + "--"), 1);
  std::vector<iovec> iov(kRecords);
  // Three iovecs.
  auto n = conn->peek_read_many(std::span(iov).first(3));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3u);
  // Bytes: the record that reaches 7 bytes is the last (3 + 3 + 3 >= 7).
  n = conn->peek_read_many(iov, 7);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3u);
  n = conn->peek_read_many(iov, 10);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 4u);
  // Records: never more than kMaxPeekRecords held.
  n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, kMaxPeekRecords);
  EXPECT_EQ(conn->held_bytes(), 3 * kMaxPeekRecords);
  conn->consume(3 * kMaxPeekRecords);
  EXPECT_EQ(conn->stats().releases, 1u);
  n = conn->peek_read_many(iov);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, kRecords - kMaxPeekRecords);
  EXPECT_EQ(text_of(iov[0]), std::string(1, char('A' + kMaxPeekRecords % 26)) + "--");
  // peek_read() is the one-iovec case: the first held record's unread bytes.
  conn->consume(1);
  auto one = conn->peek_read();
  ASSERT_TRUE(one);
  EXPECT_EQ(one->size(), 2u);
}

TEST_F(ConnectionPeekMany, OddRecordsThroughArbitraryPartialConsumesArriveInOrder) {
  auto conn = connection(true);
  ASSERT_TRUE(conn);
  // Records of odd sizes (1 .. 9999 bytes) with a stamp behind every third, through a 1 MiB
  // ring many times over; the host consumes a random part of what each call gives (a pump's
  // short writes, ending inside records and between them).
  constexpr std::size_t kTotal = 24u << 20;
  std::vector<std::byte> stream(kTotal);
  std::mt19937 rng(16);
  for (auto& b : stream) b = static_cast<std::byte>(rng());
  const XXH64_hash_t want = XXH3_64bits(stream.data(), stream.size());
  std::atomic<std::uint64_t> records{0}, stamps{0};
  std::thread guest([&] {
    std::mt19937 sizes(4);
    ringbus::Channel& ch = guest_->channel(1);
    std::size_t offset = 0;
    std::uint64_t n = 0;
    const auto send = [&](std::uint16_t type, std::span<const std::byte> payload) {
      for (;;) {
        auto sent = ch.try_send(type, payload);
        ASSERT_TRUE(sent);
        if (*sent) return;
        std::this_thread::yield();
      }
    };
    while (offset < kTotal) {
      const std::size_t size = std::min<std::size_t>((sizes() % 5000) * 2 + 1, kTotal - offset);
      send(kRecordData, std::span(stream).subspan(offset, size));
      offset += size;
      if (++n % 3 == 0) {
        send(kRecordStamp, encode_stamp(1, 2));
        stamps += 1;
      }
    }
    send(kRecordEnd, encode_end(0));
    records = n;
  });
  XXH3_state_t* state = XXH3_createState();
  ASSERT_NE(state, nullptr);
  XXH3_64bits_reset(state);
  std::mt19937 cut(99);
  std::size_t got = 0;
  std::uint64_t calls = 0, gathered = 0, partial = 0;
  iovec iov[kMaxPeekRecords];
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!conn->eof()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << got << " of " << kTotal << " bytes";
    auto n = conn->peek_read_many(iov, 64 * 1024);
    ASSERT_TRUE(n) << to_string(n.error());
    if (*n == 0) {
      std::this_thread::yield();
      continue;
    }
    std::size_t offered = 0;
    for (std::size_t i = 0; i < *n; ++i) offered += iov[i].iov_len;
    // 1 in 4: everything offered; else a random cut (at least one byte).
    const std::size_t take = cut() % 4 == 0 ? offered : 1 + cut() % offered;
    std::size_t left = take;
    for (std::size_t i = 0; i < *n && left > 0; ++i) {
      const std::size_t k = std::min(left, iov[i].iov_len);
      XXH3_64bits_update(state, iov[i].iov_base, k);
      left -= k;
    }
    conn->consume(take);
    got += take;
    calls += 1;
    gathered += *n;
    partial += take < offered ? 1 : 0;
  }
  guest.join();
  const XXH64_hash_t have = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  EXPECT_EQ(got, kTotal);
  EXPECT_EQ(have, want);
  EXPECT_EQ(conn->end_error(), 0);
  EXPECT_EQ(conn->stats().records_released, records.load());
  EXPECT_EQ(conn->stats().bytes_read, kTotal);
  // Every stamp was stepped over and handed on exactly once (no clock sample: counted unsynced).
  EXPECT_EQ(mux_->counters().stamps_unsynced.load() + mux_->counters().stamps.load(), stamps.load());
  EXPECT_EQ(mux_->counters().bad_stamps.load(), 0u);
  EXPECT_GT(partial, 0u);
  std::cout << "[ peekmany ] " << records.load() << " records in " << calls << " calls, " << partial
            << " partial consumes, " << static_cast<double>(gathered) / static_cast<double>(calls)
            << " iovecs a call, " << conn->stats().releases << " releases" << std::endl;
}

}  // namespace
}  // namespace vitrine::rdpmux
