// ConnectionBridge: pumps one relayed connection (rdpmux::Connection, opened through HostMux on
// the relay protocol) <-> one end of a connected stream socket, for FreeRDP (RdpClient on the
// other end of a socketpair) or for an outside client (Gateway).
//
//   guest records --(send straight from the record's bytes in ring memory)--> socket
//   socket --(recv straight into a claimed ring span)--> host record
//
// No user-space copy; the kernel's socket copy is the one copy on the host side (design.md).
// One thread: Connection allows one blocking thread per channel, so the bridge sleeps in
// poll() on the socket and the channel's wake fd together (prepare_wait/finish_wait arm the
// ring's waiting flags first, so no wake-up is lost). End of stream travels both ways: the
// guest's End record becomes shutdown(SHUT_WR) on the socket, the socket's EOF becomes
// Connection::shutdown_write().
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "vitrine/rdpmux/connection.hpp"
#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::rdpmux::host {

class ConnectionBridge {
 public:
  // Starts pumping; the bridge owns `connection` and `socket` from here on.
  static Result<std::unique_ptr<ConnectionBridge>> start(std::unique_ptr<rdpmux::Connection> connection,
                                                         ringbus::UniqueFd socket);
  ~ConnectionBridge();
  ConnectionBridge(const ConnectionBridge&) = delete;
  ConnectionBridge& operator=(const ConnectionBridge&) = delete;

  // Ends the pump, closes the connection and the socket, joins. Idempotent.
  void stop();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  bool wait_closed(std::chrono::milliseconds timeout) const;
  // The failure that ended the pump (guest closed abnormally, channel fault, socket error).
  std::optional<Error> error() const;
  std::uint64_t bytes_to_socket() const { return to_socket_.load(std::memory_order_relaxed); }
  std::uint64_t bytes_to_guest() const { return to_guest_.load(std::memory_order_relaxed); }

 private:
  ConnectionBridge(std::unique_ptr<rdpmux::Connection> connection, ringbus::UniqueFd socket,
                   ringbus::UniqueFd stop_fd);
  void run();
  void set_error(Error error);

  std::unique_ptr<rdpmux::Connection> connection_;
  ringbus::UniqueFd socket_;
  ringbus::UniqueFd stop_fd_;  // eventfd: stop() wakes the poll
  std::atomic<bool> stopping_{false};
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> to_socket_{0};
  std::atomic<std::uint64_t> to_guest_{0};
  mutable std::mutex mutex_;
  std::optional<Error> error_;
  std::thread thread_;
};

}  // namespace vitrine::rdpmux::host
