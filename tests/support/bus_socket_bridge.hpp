// BusSocketBridge: pumps one bus channel <-> one end of a connected stream socket.
//
// FreeRDP 2.11 has no public transport hook, so the host hands FreeRDP one end of a socketpair
// and this bridge moves the bytes between the other end and the channel's rings:
//
//   rx ring --(sendmsg, iovecs pointing straight at ring records)--> socket
//   socket  --(recv straight into a claimed ring span)-------------> tx ring
//
// No user-space copy in either direction: the one copy is the kernel's socket copy, and it is
// the only copy on the host side of the transport (design.md "RDP over the bus").
//
// The bridge is side-agnostic: Channel::tx()/rx() are "this side's" rings, so the same class
// serves the host (client socket) and, in tests and the gateway, a guest-side pump.
//
// Records: stream bytes travel as records of `data_type`; an empty record of `close_type` says
// "the sender's socket reached end of stream". Other record types are skipped and counted.
//
// Threads: two per bridge ("down": rx -> socket, "up": socket -> tx). Down is the only thread
// that sleeps on the channel's wake_me doorbell; up waits for ring space with its own polling
// doorbell, so no wake-up is ever consumed by the wrong thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/ringbus/channel.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::rdpmux::host::testing {

struct BridgeConfig {
  // Record types on the connection channel. The connection opener (rdpmux/proto) supplies
  // the protocol's values; these defaults are what the tests' pumps use among themselves.
  std::uint16_t data_type = 1;
  std::uint16_t close_type = 2;
  std::uint32_t max_record = 64 * 1024;  // bytes per recv/record (clamped to a quarter ring)
  std::uint32_t max_iov = 64;            // records per sendmsg
  ringbus::WaitPolicy wait = ringbus::WaitPolicy::adaptive();
};

struct BridgeStats {
  std::atomic<std::uint64_t> bytes_to_socket{0};
  std::atomic<std::uint64_t> bytes_to_ring{0};
  std::atomic<std::uint64_t> sendmsg_calls{0};
  std::atomic<std::uint64_t> records_skipped{0};
};

class BusSocketBridge {
 public:
  // Starts both pumps. `channel` must outlive the bridge; `socket` is owned from here on.
  static Result<std::unique_ptr<BusSocketBridge>> start(ringbus::Channel& channel, ringbus::UniqueFd socket,
                                                        BridgeConfig config = {});
  ~BusSocketBridge();
  BusSocketBridge(const BusSocketBridge&) = delete;
  BusSocketBridge& operator=(const BusSocketBridge&) = delete;

  // Ends both pumps (shuts the socket down) and joins them. Idempotent.
  void stop();
  // True once both directions ended (end of stream both ways, a fault, or stop()).
  bool closed() const;
  // Waits until closed() or `timeout`; value: closed().
  bool wait_closed(std::chrono::milliseconds timeout);
  // The first failure (bus fault, socket error); empty after a clean close.
  std::optional<Error> error() const;
  const BridgeStats& stats() const { return stats_; }

 private:
  BusSocketBridge(ringbus::Channel& channel, ringbus::UniqueFd socket, BridgeConfig config);
  void run_down();
  void run_up();
  void set_error(Error error);
  void finish_one();

  ringbus::Channel& channel_;
  ringbus::UniqueFd socket_;
  BridgeConfig config_;
  BridgeStats stats_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  int running_ = 2;
  std::optional<Error> error_;
  std::thread down_;
  std::thread up_;
};

}  // namespace vitrine::rdpmux::host::testing
