#include "bus_socket_bridge.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "bus_pair.hpp"
#include "vitrine/base/clock.hpp"

namespace vitrine::rdpmux::host {
namespace {

using testing::BridgeConfig;
using testing::BusSocketBridge;

using testing::BridgedLink;

bool read_exact(int fd, std::uint8_t* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
    const ssize_t r = ::read(fd, out + got, n - got);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

bool write_all(int fd, const std::uint8_t* in, std::size_t n) {
  std::size_t put = 0;
  while (put < n) {
    const ssize_t w = ::write(fd, in + put, n - put);
    if (w <= 0) return false;
    put += static_cast<std::size_t>(w);
  }
  return true;
}

bool counter_reaches(const std::atomic<std::uint64_t>& counter, std::uint64_t want) {
  const auto deadline = base::Deadline::after(std::chrono::seconds(10));
  while (counter.load() < want) {
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(BusSocketBridge, CarriesBytesBothWaysInOrder) {
  auto link = BridgedLink::make(16);  // 64 KiB rings: many wraps and full-ring waits
  ASSERT_TRUE(link);
  std::vector<std::uint8_t> up(3 << 20), down(2 << 20);
  std::mt19937 rng(7);
  for (auto& b : up) b = static_cast<std::uint8_t>(rng());
  for (auto& b : down) b = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> got_up(up.size()), got_down(down.size());
  std::thread client_writer([&] { EXPECT_TRUE(write_all(link->client_end.get(), up.data(), up.size())); });
  std::thread server_writer([&] { EXPECT_TRUE(write_all(link->server_end.get(), down.data(), down.size())); });
  std::thread client_reader([&] { EXPECT_TRUE(read_exact(link->client_end.get(), got_down.data(), got_down.size())); });
  ASSERT_TRUE(read_exact(link->server_end.get(), got_up.data(), got_up.size()));
  client_writer.join();
  server_writer.join();
  client_reader.join();
  EXPECT_EQ(got_up, up);
  EXPECT_EQ(got_down, down);
  // The bridge counts a write after it returns, so the peer can hold the last bytes a moment
  // before the counter moves: wait for the counters (bounded), never for a fixed time.
  EXPECT_TRUE(counter_reaches(link->host_bridge->stats().bytes_to_ring, up.size()));
  EXPECT_TRUE(counter_reaches(link->host_bridge->stats().bytes_to_socket, down.size()));
  EXPECT_EQ(link->host_bridge->stats().bytes_to_ring.load(), up.size());
  EXPECT_EQ(link->host_bridge->stats().bytes_to_socket.load(), down.size());
  EXPECT_FALSE(link->host_bridge->error());
}

TEST(BusSocketBridge, EndOfStreamTravelsAndClosesBothBridges) {
  auto link = BridgedLink::make();
  ASSERT_TRUE(link);
  const std::uint8_t hello[5] = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(write_all(link->server_end.get(), hello, 5));
  link->server_end.reset();  // the guest's server goes away
  std::uint8_t got[5];
  ASSERT_TRUE(read_exact(link->client_end.get(), got, 5));
  std::uint8_t extra;
  pollfd p{link->client_end.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  EXPECT_EQ(::read(link->client_end.get(), &extra, 1), 0);  // end of stream reached the host side
  link->client_end.reset();
  EXPECT_TRUE(link->host_bridge->wait_closed(std::chrono::seconds(10)));
  EXPECT_TRUE(link->guest_bridge->wait_closed(std::chrono::seconds(10)));
  EXPECT_FALSE(link->host_bridge->error());
}

TEST(BusSocketBridge, RejectsBadConfiguration) {
  auto bus = ringbus::Bus::create(ringbus::BusConfig::uniform(2, 12, 12));
  ASSERT_TRUE(bus);
  auto pair = testing::SocketPair::make();
  BridgeConfig bad;
  bad.data_type = 0;
  EXPECT_FALSE(BusSocketBridge::start(bus->channel(1), std::move(pair.a), bad));
  EXPECT_FALSE(BusSocketBridge::start(bus->channel(1), ringbus::UniqueFd()));
}

}  // namespace
}  // namespace vitrine::rdpmux::host
