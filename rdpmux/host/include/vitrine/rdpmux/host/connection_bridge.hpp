// ConnectionBridge: pumps one relayed connection (rdpmux::Connection, opened through HostMux on
// the relay protocol) <-> one end of a connected stream socket, for FreeRDP (RdpClient on the
// other end of a socketpair) or for an outside client (Gateway).
//
//   guest records --(one sendmsg gathers many records' bytes in ring memory)--> socket
//   socket --(recv straight into a claimed ring span)--> host record
//
// No user-space copy; the kernel's socket copy is the one copy on the host side (design.md).
// Vectored sends: one sendmsg carries every committed record at hand (up to 64 records and
// 256 KiB; Connection::peek_read_many), so a burst of small PDU records costs one syscall, not
// one each. A short write keeps the record it ended in (and those after it) held in the ring,
// the offset remembered by the Connection, and the next sendmsg starts at that byte; records
// sent whole are released together. sends_to_socket() / records_to_socket() prove the ratio.
// One thread: Connection allows one blocking thread per channel, so the bridge sleeps in
// poll() on the socket and the channel's wake fd together (prepare_wait/finish_wait arm the
// ring's waiting flags first, so no wake-up is lost). End of stream travels both ways: the
// guest's End record becomes shutdown(SHUT_WR) on the socket, the socket's EOF becomes
// Connection::shutdown_write().
//
// An optional BridgeTap (start()'s last argument) sees every chunk in each direction, for
// `vitrine record`. Without a tap the pump pays one predictable branch per chunk and nothing else.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "vitrine/rdpmux/mux/connection.hpp"
#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::rdpmux::host {

// Observer of a bridge's traffic (recording). Called on the bridge thread only, once per chunk
// moved, with a view of the bytes where they already are (the guest's record in ring memory,
// or the span the socket's bytes were received into): no copy is made for the tap. The view
// is valid during the call only. The bytes from the guest are untrusted input like any other.
// The tap runs on the pump's hot path: it must not block for long (buffer, then write).
class BridgeTap {
 public:
  // Values match perf::EntryHeader::direction (recording.hpp): 0 host->guest, 1 guest->host.
  enum class Direction : std::uint16_t {
    kToGuest = 0,   // socket (FreeRDP, the RDP client) -> guest (the RDP server)
    kToSocket = 1,  // guest (the RDP server) -> socket
  };
  virtual ~BridgeTap() = default;
  // `steady_ns`: std::chrono::steady_clock (CLOCK_MONOTONIC) in nanoseconds when the chunk
  // moved; `channel`: the bus channel of the connection.
  virtual void on_chunk(Direction direction, std::uint32_t channel, std::uint64_t steady_ns,
                        std::span<const std::byte> bytes) = 0;
};

class ConnectionBridge {
 public:
  // Starts pumping; the bridge owns `connection` and `socket` from here on. `tap` (optional)
  // sees every chunk from the first byte on; it is shared so that one tap can serve several
  // bridges (it is then called from each bridge's thread).
  static Result<std::unique_ptr<ConnectionBridge>> start(std::unique_ptr<rdpmux::Connection> connection,
                                                         ringbus::UniqueFd socket,
                                                         std::shared_ptr<BridgeTap> tap = nullptr);
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
  // guest -> socket: sendmsg calls that moved bytes; records whose last byte went out; and the
  // sends among them that ended before the last record offered (a short write: full socket).
  std::uint64_t sends_to_socket() const { return sends_to_socket_.load(std::memory_order_relaxed); }
  std::uint64_t records_to_socket() const { return records_to_socket_.load(std::memory_order_relaxed); }
  std::uint64_t short_sends_to_socket() const { return short_sends_to_socket_.load(std::memory_order_relaxed); }

 private:
  ConnectionBridge(std::unique_ptr<rdpmux::Connection> connection, ringbus::UniqueFd socket,
                   ringbus::UniqueFd stop_fd, std::shared_ptr<BridgeTap> tap);
  void run();
  void set_error(Error error);

  std::unique_ptr<rdpmux::Connection> connection_;
  ringbus::UniqueFd socket_;
  ringbus::UniqueFd stop_fd_;  // eventfd: stop() wakes the poll
  std::shared_ptr<BridgeTap> tap_;  // set before the thread starts, never changed
  std::atomic<bool> stopping_{false};
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> to_socket_{0};
  std::atomic<std::uint64_t> to_guest_{0};
  std::atomic<std::uint64_t> sends_to_socket_{0};
  std::atomic<std::uint64_t> records_to_socket_{0};
  std::atomic<std::uint64_t> short_sends_to_socket_{0};
  mutable std::mutex mutex_;
  std::optional<Error> error_;
  std::thread thread_;
};

}  // namespace vitrine::rdpmux::host
