// Test helpers for the real relay chain: a host Bus + HostMux, the guest's view of the same
// memfd served by vitrine-guest's Relay (io_uring) on its own thread, and a TCP listener on
// 127.0.0.1 whose connections are served by RailTestServers (the guest's RDP server).
//
//   RdpClient/RemoteSession -> ConnectionBridge -> HostMux -> bus -> Relay -> TCP -> ServerPool
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rail_test_server.hpp"
#include "vitrine/rdpmux/host_mux.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/uring_engine.hpp"

namespace vitrine::rdpmux::host::testing {

using namespace std::chrono_literals;

// A TCP listener on 127.0.0.1 (port chosen by the kernel) whose accepted connections are each
// served by a RailTestServer made with the current config. The listener can be closed and
// opened again on the same port, as a guest RDP server that restarts.
class ServerPool {
 public:
  explicit ServerPool(vitrine::testing::RailServerConfig config = {}) : config_(std::move(config)) { listen_on(0); }
  ~ServerPool() { close_listener(); }
  ServerPool(const ServerPool&) = delete;
  ServerPool& operator=(const ServerPool&) = delete;

  std::uint16_t port() const { return port_; }
  // Applies to connections accepted from now on.
  void set_config(vitrine::testing::RailServerConfig config) {
    std::lock_guard lock(mutex_);
    config_ = std::move(config);
  }
  // Stops accepting: connecting to the port is refused until listen_again().
  void close_listener() {
    if (fd_) ::shutdown(fd_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    fd_.reset();
  }
  bool listen_again() { return listen_on(port_) && port_ != 0; }
  // The index-th connection's server (0-based, in accept order), or nullptr after 20 s.
  vitrine::testing::RailTestServer* wait_server(std::size_t index) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, 20s, [&] { return servers_.size() > index; })) return nullptr;
    return servers_[index].get();
  }
  std::size_t accepted() const {
    std::lock_guard lock(mutex_);
    return servers_.size();
  }

 private:
  bool listen_on(std::uint16_t port) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    // The old listener's accepted connections may sit in TIME_WAIT on this port.
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    socklen_t len = sizeof a;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_.get(), 8) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return false;
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, fd = fd_.get()] {
      for (;;) {
        const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::lock_guard lock(mutex_);
        servers_.push_back(vitrine::testing::RailTestServer::start(c, config_));
        cv_.notify_all();
      }
    });
    return true;
  }

  ringbus::UniqueFd fd_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  vitrine::testing::RailServerConfig config_;
  std::vector<std::unique_ptr<vitrine::testing::RailTestServer>> servers_;
  std::thread thread_;
};

// The bus, the relay on the guest side and the HostMux on the host side.
class RelayHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = ringbus::Bus::create(ringbus::BusConfig::uniform(kChannels, 20, 20));
    ASSERT_TRUE(host);
    host_bus_ = std::make_unique<ringbus::Bus>(std::move(*host));
    auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host_bus_->fd())), ringbus::Side::kGuest);
    ASSERT_TRUE(guest);
    guest_bus_ = std::make_unique<ringbus::Bus>(std::move(*guest));
    auto bells = rdpmux::BusDoorbells::create_eventfds(kChannels);
    ASSERT_TRUE(bells);
    auto guest_fds = bells->dup_fds();
    ASSERT_TRUE(guest_fds);
    auto guest_bells = rdpmux::BusDoorbells::from_fds(std::move(*guest_fds));
    ASSERT_TRUE(guest_bells);
    guest_bells_ = std::make_unique<rdpmux::BusDoorbells>(std::move(*guest_bells));
    auto engine = relay::UringEngine::create();
    if (!engine) GTEST_SKIP() << "io_uring unavailable: " << rdpmux::to_string(engine.error());
    engine_ = std::move(*engine);
    auto r = relay::Relay::create(*guest_bus_, *guest_bells_, *engine_);
    ASSERT_TRUE(r) << rdpmux::to_string(r.error());
    relay_ = std::move(*r);
    relay_thread_ = std::thread([this] { (void)relay_->run(stop_); });
    auto mux = rdpmux::HostMux::create(*host_bus_, std::move(*bells));
    ASSERT_TRUE(mux) << rdpmux::to_string(mux.error());
    mux_ = std::move(*mux);
    ASSERT_TRUE(mux_->wait_ready(5s));
  }
  void TearDown() override {
    stop_ = true;
    if (auto* bell = guest_bells_ ? guest_bells_->guest() : nullptr) bell->ring();
    if (relay_thread_.joinable()) relay_thread_.join();
    relay_.reset();
    mux_.reset();
  }

  // Opens a framed connection to `port` on the guest's loopback.
  rdpmux::Result<std::unique_ptr<rdpmux::Connection>> open(std::uint16_t port) {
    return mux_->open(rdpmux::Target::tcp(port), {.framed = true, .timeout = 5000ms});
  }

  static constexpr std::uint32_t kChannels = 8;  // control + 7 connections
  std::unique_ptr<ringbus::Bus> host_bus_, guest_bus_;
  std::unique_ptr<rdpmux::BusDoorbells> guest_bells_;
  std::unique_ptr<relay::UringEngine> engine_;
  std::unique_ptr<relay::Relay> relay_;
  std::unique_ptr<rdpmux::HostMux> mux_;
  std::atomic<bool> stop_{false};
  std::thread relay_thread_;
};

}  // namespace vitrine::rdpmux::host::testing
