// Test helpers for the real relay chain: a host Bus + HostMux, the guest's view of the same
// memfd served by vitrine-guest's Relay (io_uring) on its own thread, and a TCP listener on
// 127.0.0.1 whose connections are served by RailTestServers (the guest's RDP server).
//
//   RdpClient/RemoteSession -> ConnectionBridge -> HostMux -> bus -> Relay -> TCP -> ServerPool
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "relay_loop.hpp"
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
#include "vitrine/rdpmux/mux/host_mux.hpp"
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
    auto loop = vitrine::testing::RelayLoop::start(kChannels);
    if (!loop && loop.error().starts_with("io_uring unavailable")) GTEST_SKIP() << loop.error();
    ASSERT_TRUE(loop) << loop.error();
    loop_ = std::move(*loop);
    mux_ = &loop_->mux();
  }
  void TearDown() override {
    mux_ = nullptr;
    loop_.reset();
  }

  // Opens a framed connection to `port` on the guest's loopback.
  rdpmux::Result<std::unique_ptr<rdpmux::Connection>> open(std::uint16_t port) {
    return mux_->open(rdpmux::Target::tcp(port), {.framed = true, .timeout = 5000ms});
  }

  static constexpr std::uint32_t kChannels = 8;  // control + 7 connections
  std::unique_ptr<vitrine::testing::RelayLoop> loop_;
  rdpmux::HostMux* mux_ = nullptr;  // loop_'s
};

}  // namespace vitrine::rdpmux::host::testing
