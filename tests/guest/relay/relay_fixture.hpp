// A host and a guest side of one bus in this process, the relay running on its own thread
// (io_uring), and small TCP servers for it to reach.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <memory>
#include <thread>

#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/uring_engine.hpp"

namespace vitrine::relay::testing {

using namespace std::chrono_literals;

// A listening TCP socket on 127.0.0.1, port chosen by the kernel.
struct Listener {
  ringbus::UniqueFd fd;
  std::uint16_t port = 0;

  static Listener open() {
    Listener l;
    l.fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(l.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(l.fd.get(), 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    l.port = ntohs(a.sin_port);
    return l;
  }
  ringbus::UniqueFd accept() const { return ringbus::UniqueFd(::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC)); }
};

inline bool send_all(int fd, const std::byte* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Deterministic stream bytes: byte i of stream `seed` (cheap to generate and to check).
inline void fill_pattern(std::byte* p, std::size_t n, std::uint64_t offset, std::uint64_t seed) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t x = (offset + i) * 0x9E3779B97F4A7C15ull ^ seed;
    p[i] = static_cast<std::byte>(x >> 56);
  }
}

class RelayFixture : public ::testing::Test {
 protected:
  void start(std::uint32_t channels = 5, std::uint32_t log2 = 20, RelayOptions options = {}) {
    auto host = ringbus::Bus::create(ringbus::BusConfig::uniform(channels, log2, log2));
    ASSERT_TRUE(host.has_value()) << ringbus::to_string(host.error());
    host_bus_ = std::make_unique<ringbus::Bus>(std::move(*host));
    auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host_bus_->fd())), ringbus::Side::kGuest);
    ASSERT_TRUE(guest.has_value());
    guest_bus_ = std::make_unique<ringbus::Bus>(std::move(*guest));
    auto bells = rdpmux::BusDoorbells::create_eventfds(channels);
    ASSERT_TRUE(bells.has_value());
    auto guest_fds = bells->dup_fds();
    ASSERT_TRUE(guest_fds.has_value());
    auto guest_bells = rdpmux::BusDoorbells::from_fds(std::move(*guest_fds));
    ASSERT_TRUE(guest_bells.has_value());
    guest_bells_ = std::make_unique<rdpmux::BusDoorbells>(std::move(*guest_bells));
    auto engine = UringEngine::create();
    if (!engine) GTEST_SKIP() << "io_uring unavailable: " << rdpmux::to_string(engine.error());
    engine_ = std::move(*engine);
    auto relay = Relay::create(*guest_bus_, *guest_bells_, *engine_, options);
    ASSERT_TRUE(relay.has_value()) << rdpmux::to_string(relay.error());
    relay_ = std::move(*relay);
    thread_ = std::thread([this] {
      auto r = relay_->run(stop_);
      EXPECT_TRUE(r.has_value()) << (r ? "" : rdpmux::to_string(r.error()));
    });
    auto mux = rdpmux::HostMux::create(*host_bus_, std::move(*bells), mux_options_);
    ASSERT_TRUE(mux.has_value()) << rdpmux::to_string(mux.error());
    mux_ = std::move(*mux);
    auto ready = mux_->wait_ready(5s);
    ASSERT_TRUE(ready.has_value()) << rdpmux::to_string(ready.error());
  }

  void TearDown() override {
    stop_ = true;
    if (auto* bell = guest_bells_ ? guest_bells_->guest() : nullptr) bell->ring();
    if (thread_.joinable()) thread_.join();
    relay_.reset();
    mux_.reset();
  }

  std::unique_ptr<rdpmux::Connection> open_tcp(std::uint16_t port, bool framed = false) {
    auto c = mux_->open(rdpmux::Target::tcp(port), {.framed = framed, .timeout = 5000ms});
    EXPECT_TRUE(c.has_value()) << (c ? "" : rdpmux::to_string(c.error()));
    return c ? std::move(*c) : nullptr;
  }

  std::unique_ptr<ringbus::Bus> host_bus_;
  std::unique_ptr<ringbus::Bus> guest_bus_;
  std::unique_ptr<rdpmux::BusDoorbells> guest_bells_;
  std::unique_ptr<UringEngine> engine_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<rdpmux::HostMux> mux_;
  rdpmux::HostMuxOptions mux_options_;  // set before start()
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vitrine::relay::testing
