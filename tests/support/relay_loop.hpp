// RelayLoop: the whole bus path in one process, for tests and benchmarks: a host Bus and its
// guest-side attachment, eventfd doorbells, the real relay (guest/relay, io_uring) on its own
// thread, and the HostMux on the host side, ready (HelloReply received).
//
//   auto loop = RelayLoop::start(8);            // channels: control + 7 connections
//   auto conn = (*loop)->mux().open(Target::tcp(port), {.framed = true});
//
// Destruction stops the relay thread (it rings the guest's doorbell so that it wakes) and then
// drops the relay and the mux. Connections opened through mux() must be gone first.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <thread>

#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/uring_engine.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::testing {

class RelayLoop {
 public:
  // `channels` includes the control channel; ring sizes are 2^ring_log2 bytes per direction.
  // The error names the step that failed ("io_uring unavailable: ..." lets a caller skip).
  static std::expected<std::unique_ptr<RelayLoop>, std::string> start(std::uint32_t channels,
                                                                      std::uint32_t ring_log2 = 20);
  ~RelayLoop();
  RelayLoop(const RelayLoop&) = delete;
  RelayLoop& operator=(const RelayLoop&) = delete;

  rdpmux::HostMux& mux() { return *mux_; }
  ringbus::Bus& host_bus() { return *host_bus_; }
  relay::Relay& relay() { return *relay_; }

 private:
  RelayLoop() = default;

  std::unique_ptr<ringbus::Bus> host_bus_, guest_bus_;
  std::unique_ptr<rdpmux::BusDoorbells> guest_bells_;
  std::unique_ptr<relay::UringEngine> engine_;
  std::unique_ptr<relay::Relay> relay_;
  std::unique_ptr<rdpmux::HostMux> mux_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vitrine::testing
