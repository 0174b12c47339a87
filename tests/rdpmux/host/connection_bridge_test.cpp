// ConnectionBridge's guest -> socket direction against the fake guest (tests/rdpmux/mux): many
// records of odd sizes, Stamps between them, gathered into sendmsg calls on a socket with a
// small send buffer whose peer reads slowly, so that sends end inside records (short writes).
// The bytes (and the tap's view of them) arrive in order (xxh3), every record is counted once,
// and a burst of records costs fewer sendmsg calls than records.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "fake_guest.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"

namespace vitrine::rdpmux::host {
namespace {

using namespace std::chrono_literals;

// Hashes what the bridge hands the tap, per direction guest -> socket.
class HashingTap final : public BridgeTap {
 public:
  HashingTap() : state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~HashingTap() override { XXH3_freeState(state_); }
  void on_chunk(Direction direction, std::uint32_t, std::uint64_t, std::span<const std::byte> bytes) override {
    if (direction != Direction::kToSocket) return;
    std::lock_guard lock(mutex_);
    XXH3_64bits_update(state_, bytes.data(), bytes.size());
    bytes_ += bytes.size();
  }
  XXH64_hash_t digest() {
    std::lock_guard lock(mutex_);
    return XXH3_64bits_digest(state_);
  }
  std::uint64_t bytes() {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  std::mutex mutex_;
  XXH3_state_t* state_;
  std::uint64_t bytes_ = 0;
};

class ConnectionBridgeSends : public rdpmux::testing::FakeGuestTest {
 protected:
  std::unique_ptr<rdpmux::Connection> stamped_connection() {
    HostMuxOptions options;
    options.on_stamp = [](const GuestStamp&) {};
    start_mux(std::move(options), 2);
    guest_hello(kKnownFeatures);
    return open_connection();
  }
};

TEST_F(ConnectionBridgeSends, ShortWritesToASlowReaderLoseNoByteAndGatherRecords) {
  auto conn = stamped_connection();
  ASSERT_TRUE(conn);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ringbus::UniqueFd reader(fds[0]), bridge_end(fds[1]);
  // The smallest send buffer the kernel allows (it doubles the value and has a floor of a few
  // KiB): nearly every sendmsg of a batch of records ends inside one.
  const int sndbuf = 4096;
  ASSERT_EQ(::setsockopt(bridge_end.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
  auto tap = std::make_shared<HashingTap>();
  auto started = ConnectionBridge::start(std::move(conn), std::move(bridge_end), tap);
  ASSERT_TRUE(started) << started.error().message;
  auto bridge = std::move(*started);

  constexpr std::size_t kTotal = 6u << 20;
  std::vector<std::byte> stream(kTotal);
  std::mt19937 rng(16);
  for (auto& b : stream) b = static_cast<std::byte>(rng());
  const XXH64_hash_t want = XXH3_64bits(stream.data(), stream.size());
  std::atomic<std::uint64_t> records{0};
  std::thread guest([&] {
    std::mt19937 sizes(4);
    ringbus::Channel& ch = guest_->channel(1);
    const auto send = [&](std::uint16_t type, std::span<const std::byte> payload) {
      for (;;) {
        auto sent = ch.try_send(type, payload);
        ASSERT_TRUE(sent);
        if (*sent) break;
        ch.notify_sent();
        std::this_thread::sleep_for(100us);  // ring full: the bridge is behind the slow reader
      }
    };
    std::size_t offset = 0;
    std::uint64_t n = 0;
    while (offset < kTotal) {
      // Odd sizes from 1 byte to ~12 KiB, mostly small (RDP PDUs).
      const std::size_t size = std::min<std::size_t>(sizes() % 8 == 0 ? (sizes() % 6000) * 2 + 1 : sizes() % 700 * 2 + 1,
                                                     kTotal - offset);
      send(kRecordData, std::span(stream).subspan(offset, size));
      offset += size;
      if (++n % 4 == 0) send(kRecordStamp, encode_stamp(1, 2));
      if (n % 16 == 0) ch.notify_sent();
    }
    send(kRecordEnd, encode_end(0));
    ch.notify_sent();
    records = n;
  });

  // The slow reader: small odd reads, a pause now and then.
  XXH3_state_t* state = XXH3_createState();
  ASSERT_NE(state, nullptr);
  XXH3_64bits_reset(state);
  std::vector<std::byte> buf(3001);
  std::size_t got = 0;
  std::uint64_t reads = 0;
  bool eof = false;
  while (!eof) {
    pollfd p{reader.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << got << " of " << kTotal << " bytes";
    const ssize_t r = ::read(reader.get(), buf.data(), 1 + reads % buf.size());
    ASSERT_GE(r, 0);
    if (r == 0) {
      eof = true;  // the guest's End became SHUT_WR after the last byte
      break;
    }
    XXH3_64bits_update(state, buf.data(), static_cast<std::size_t>(r));
    got += static_cast<std::size_t>(r);
    if (++reads % 64 == 0) std::this_thread::sleep_for(200us);
  }
  guest.join();
  const XXH64_hash_t have = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  EXPECT_EQ(got, kTotal);
  EXPECT_EQ(have, want);
  EXPECT_EQ(tap->bytes(), kTotal);
  EXPECT_EQ(tap->digest(), want);  // the tap saw the same bytes, in order, once
  EXPECT_EQ(bridge->bytes_to_socket(), kTotal);
  EXPECT_EQ(bridge->records_to_socket(), records.load());
  EXPECT_GT(bridge->short_sends_to_socket(), 0u) << "no sendmsg ended inside a record";
  EXPECT_LT(bridge->sends_to_socket(), bridge->records_to_socket()) << "records were not gathered";
  EXPECT_EQ(mux_->counters().bad_stamps.load(), 0u);
  std::cout << "[ bridge   ] " << records.load() << " records in " << bridge->sends_to_socket() << " sendmsg ("
            << static_cast<double>(bridge->sends_to_socket()) / static_cast<double>(records.load())
            << " a record), " << bridge->short_sends_to_socket() << " short" << std::endl;
  reader.reset();
  EXPECT_TRUE(bridge->wait_closed(10s));
  EXPECT_FALSE(bridge->error());
}

}  // namespace
}  // namespace vitrine::rdpmux::host
