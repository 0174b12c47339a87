// Connection: one relayed connection to a target in the guest, seen from the host as a byte
// stream over bus channel N (host produces on h2g N, consumes g2h N).
//
// Two ways to use it:
//  - stream calls: read() / write() / shutdown_write() / close(), blocking with a timeout;
//  - zero-copy calls for pumps (e.g. ring <-> socketpair with sendmsg/writev): peek_read() gives
//    the unread bytes of the current record in ring memory, peek_read_many() those of up to
//    kMaxPeekRecords records as iovecs (one sendmsg for all), consume(n) releases them;
//    claim_write(n) gives writable ring memory, commit_write(used) publishes it. A pump that
//    waits on several fds uses wake_fd() with prepare_wait()/finish_wait().
//
// Threads: one thread reads (read/peek_read/peek_read_many/consume) and one writes
// (write/claim_write/...);
// they may differ. Only ONE thread may block at a time (read, write or a prepare_wait sleeper):
// the channel has one host doorbell. close() and the destructor from the owning thread only.
// The HostMux that opened the connection (its ConnectionOwner) must outlive it.
#pragma once

#include <sys/uio.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "vitrine/rdpmux/error.hpp"
#include "vitrine/rdpmux/mux/connection_owner.hpp"
#include "vitrine/ringbus/channel.hpp"
#include "vitrine/ringbus/ring.hpp"

namespace vitrine::rdpmux {

struct ConnectionStats {
  std::uint64_t bytes_read = 0;     // payload bytes consumed from g2h
  std::uint64_t bytes_written = 0;  // payload bytes committed on h2g
  std::uint64_t records_read = 0;
  std::uint64_t whole_pdu_records = 0;  // records the relay marked kDataWholePdus
  // peek_read()/peek_read_many() calls that stopped at kPeekRecordBudget records without bytes
  // (a guest sending only Stamps or empty records) and left the rest for the next call.
  std::uint64_t peek_budget_stops = 0;
  std::uint64_t records_released = 0;  // data records (with bytes) consume() finished
  std::uint64_t releases = 0;          // ring releases consume() made for them (one per call)
};

// Records without stream bytes (Stamps, empty data records) one peek_read() steps over before it
// returns an empty span: a guest that sends nothing else must not keep the reader inside one call
// (a pump's loop checks its stop flag between calls).
inline constexpr std::uint32_t kPeekRecordBudget = 256;

// Data records a Connection holds peeked (read, not yet released) at most: the most iovecs one
// peek_read_many() fills. 64 * 16 bytes of iovec stays on the caller's stack; IOV_MAX is 1024.
inline constexpr std::size_t kMaxPeekRecords = 64;

class Connection {
 public:
  // Made by HostMux::open() once the guest answered Opened: `owner` is that HostMux, `channel`
  // the connection's bus channel; `stamped`: Stamp records follow data records on g2h.
  Connection(ConnectionOwner& owner, ringbus::Channel& channel, bool framed, bool stamped);
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
  // Handles End records itself. Same as peek_read_many() with one iovec.
  Result<std::span<const std::byte>> peek_read();
  // The unread bytes of the next data records, in stream order, as iovecs into ring memory
  // (zero copy: hand them to sendmsg/writev; never write through them). out[0] starts at the
  // first unread byte (the rest of a record consume() finished only partly); every other iovec
  // is one whole record. Fills at most out.size() iovecs and kMaxPeekRecords records, and stops
  // after the record that brings the total to `max_bytes` or more (so less than max_bytes plus
  // one record; max_bytes >= 1). Value: iovecs filled, 0 as peek_read()'s empty span.
  // The records stay held (not released; the guest cannot reuse their bytes) until consume()
  // passes them; a later call gives the held ones again first. Stamp records between them are
  // handed to the owner as they are stepped over (as peek_read() does) and released with the
  // data record before them; an End record behind held records ends the stream (eof()) once
  // consume() has passed them all. A ring fault with records held gives those first; the
  // fault comes with the next call that holds none.
  Result<std::size_t> peek_read_many(std::span<iovec> out,
                                     std::size_t max_bytes = std::numeric_limits<std::size_t>::max());
  // Marks the next n bytes (in stream order, across the records peek_read()/peek_read_many()
  // gave) as read. The records it finishes are released together (one ring release, one
  // notify); a record it ends inside stays held, the next peek starts at its first unread byte.
  // n beyond the held bytes is a programmer error (asserts; the rest is ignored).
  void consume(std::size_t n);
  // Bytes held by peeks and not yet consumed (0 when nothing is held).
  std::size_t held_bytes() const;
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
  // A data record peeked and not yet released. `release_to`: the ring position consume() may
  // release up to once the record is done (its end, or the end of the Stamps / empty records /
  // End record stepped over behind it).
  struct Held {
    const std::byte* data;
    std::uint32_t size;
    std::uint64_t release_to;
  };
  static_assert((kMaxPeekRecords & (kMaxPeekRecords - 1)) == 0, "held_ indexes with a mask");

  Result<void> ensure_open_for_write() const;
  Held& held(std::size_t i) { return held_[(held_first_ + i) & (kMaxPeekRecords - 1)]; }
  const Held& held(std::size_t i) const { return held_[(held_first_ + i) & (kMaxPeekRecords - 1)]; }
  // A record without stream bytes at `end` was stepped over: released now if nothing is held,
  // else with the last held record. True if released now.
  bool step_over(std::uint64_t end);

  ConnectionOwner& owner_;
  ringbus::Channel& channel_;
  bool framed_;
  bool stamped_;  // kFeatureTimestamps: Stamp records follow data records on g2h
  std::uint32_t max_record_;
  // The last data record (stamped_ only): when it was first peeked, and its size; 0 once a
  // stamp took it, so that a stamp must follow a data record directly.
  std::uint64_t data_read_ns_ = 0;
  std::uint64_t data_bytes_ = 0;
  // Held records, oldest first, in a circle of kMaxPeekRecords; held_offset_: bytes of the
  // oldest already consumed (always less than its size).
  std::array<Held, kMaxPeekRecords> held_{};
  std::size_t held_first_ = 0;
  std::size_t held_count_ = 0;
  std::size_t held_offset_ = 0;
  // An End (or unknown) record was peeked behind held records: eof_ once they are consumed.
  bool end_pending_ = false;
  int end_pending_error_ = 0;
  bool eof_ = false;
  int end_error_ = 0;
  bool write_shut_ = false;
  bool closed_ = false;
  bool peek_budget_hit_ = false;  // the last peek stopped at kPeekRecordBudget
  ConnectionStats stats_;
};

}  // namespace vitrine::rdpmux
