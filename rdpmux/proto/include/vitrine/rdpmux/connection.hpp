// Connection: one relayed connection to a target in the guest, seen from the host as a byte
// stream over bus channel N (host produces on h2g N, consumes g2h N).
//
// Two ways to use it:
//  - stream calls: read() / write() / shutdown_write() / close(), blocking with a timeout;
//  - zero-copy calls for pumps (e.g. ring <-> socketpair with readv/writev): peek_read() gives
//    the unread bytes of the current record in ring memory, consume(n) releases them;
//    claim_write(n) gives writable ring memory, commit_write(used) publishes it. A pump that
//    waits on several fds uses wake_fd() with prepare_wait()/finish_wait().
//
// Threads: one thread reads (read/peek_read/consume) and one writes (write/claim_write/...);
// they may differ. Only ONE thread may block at a time (read, write or a prepare_wait sleeper):
// the channel has one host doorbell. close() and the destructor from the owning thread only.
// The HostMux that opened the connection must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "vitrine/rdpmux/error.hpp"
#include "vitrine/ringbus/channel.hpp"
#include "vitrine/ringbus/ring.hpp"

namespace vitrine::rdpmux {

class HostMux;

struct ConnectionStats {
  std::uint64_t bytes_read = 0;     // payload bytes consumed from g2h
  std::uint64_t bytes_written = 0;  // payload bytes committed on h2g
  std::uint64_t records_read = 0;
  std::uint64_t whole_pdu_records = 0;  // records the relay marked kDataWholePdus
  // peek_read() calls that stopped at kPeekRecordBudget records without bytes (a guest sending
  // only Stamps or empty records) and left the rest for the next call.
  std::uint64_t peek_budget_stops = 0;
};

// Records without stream bytes (Stamps, empty data records) one peek_read() steps over before it
// returns an empty span: a guest that sends nothing else must not keep the reader inside one call
// (a pump's loop checks its stop flag between calls).
inline constexpr std::uint32_t kPeekRecordBudget = 256;

class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  std::uint32_t channel_id() const { return channel_.id(); }
  ringbus::Channel& channel() { return channel_; }
  const ConnectionStats& stats() const { return stats_; }

  // ---- stream -------------------------------------------------------------------------------
  // Copies up to out.size() bytes. Value: bytes read, 0 at a clean end of stream (the guest's
  // socket sent FIN). kPeerClosed (sys_errno = guest errno) when the guest's side failed;
  // kTimeout when nothing arrived in time.
  Result<std::size_t> read(std::span<std::byte> out, std::chrono::nanoseconds timeout);
  // Writes all of `in` (in records of at most max_record() bytes). kPeerClosed once the guest
  // closed the connection; kTimeout if the ring stayed full (some bytes may have been sent).
  Result<void> write(std::span<const std::byte> in, std::chrono::nanoseconds timeout);
  // Half-close: the guest shuts down the socket's write side after sending every byte before.
  Result<void> shutdown_write(std::chrono::nanoseconds timeout = std::chrono::seconds(5));
  // Ends the connection (abort if still open); the channel is reused once the guest confirms.
  void close();

  bool eof() const { return eof_; }          // the guest's End record has been read
  int end_error() const { return end_error_; }  // errno carried by it (0 = clean)
  bool guest_closed() const;                 // the guest reported Closed for this connection

  // ---- zero copy ----------------------------------------------------------------------------
  // The unread bytes of the next data record, in ring memory, valid until consume() finishes
  // them. Empty span: nothing now (or eof()), or kPeekRecordBudget records without bytes were
  // stepped over and more wait (prepare_wait() then says "ready": call again without sleeping).
  // Handles End records itself.
  Result<std::span<const std::byte>> peek_read();
  // Marks n bytes of the span from peek_read() as read; a finished record is released.
  void consume(std::size_t n);
  // Writable ring memory for one record of up to `max` bytes; empty Claim when full.
  Result<ringbus::Claim> claim_write(std::uint32_t max);
  void commit_write(std::uint32_t used);
  void abort_write() { channel_.tx().abort(); }
  std::uint32_t max_record() const { return max_record_; }
  bool framed() const { return framed_; }  // the guest frames g2h records at PDU boundaries

  // ---- waiting in a caller's poll loop ------------------------------------------------------
  // The host doorbell fd of this channel (-1 when the bus polls).
  int wake_fd() const;
  // Arms the ring flags for what the caller waits for; true if already satisfied (do not
  // sleep, call finish_wait()). Else sleep on wake_fd() (and other fds), then finish_wait().
  bool prepare_wait(bool readable, bool writable);
  void finish_wait();

 private:
  friend class HostMux;
  Connection(HostMux& mux, ringbus::Channel& channel, bool framed, bool stamped);
  Result<void> ensure_open_for_write() const;
  void release_peeked();

  HostMux& mux_;
  ringbus::Channel& channel_;
  bool framed_;
  bool stamped_;  // kFeatureTimestamps: Stamp records follow data records on g2h
  std::uint32_t max_record_;
  // The last data record (stamped_ only): when it was first peeked, and its size; 0 once a
  // stamp took it, so that a stamp must follow a data record directly.
  std::uint64_t data_read_ns_ = 0;
  std::uint64_t data_bytes_ = 0;
  ringbus::RecordView current_{};  // data record being read
  std::size_t current_offset_ = 0;
  bool eof_ = false;
  int end_error_ = 0;
  bool write_shut_ = false;
  bool closed_ = false;
  bool peek_budget_hit_ = false;  // the last peek_read() stopped at kPeekRecordBudget
  ConnectionStats stats_;
};

}  // namespace vitrine::rdpmux
