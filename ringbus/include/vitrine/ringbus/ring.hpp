// Ring: one single-producer single-consumer byte ring in shared memory (layout.hpp).
//
// Producer (one thread):  try_claim(n) -> Claim; write payload; commit(used, type) | abort();
//                         notify_consumer(doorbell) after one commit or a batch of them.
// Consumer (one thread):  read(handler, limit) -> records handled, released in one batch; or
//                         peek() ... release(); notify_producer(doorbell) after releasing.
// Full (try_claim gives an empty Claim) and empty (read gives 0, peek gives nothing) are values.
//
// Trust: the peer may be a hostile guest. Every position and record header the peer writes is
// read exactly once (an atomic load into a local), checked against what this side knows, and
// never followed outside the data area. A violation moves the ring into the fault state: every
// call then returns Errc::kChannelFault, protocol_errors counts it, and one log line says what
// was wrong. The host recovers with reset(). Payload bytes are the peer's to change at any time:
// handlers must treat a record's payload as volatile input (copy before validating when a value
// is read twice).
//
// Publication order (producer): payload bytes, then the record header (plain stores), then the
// tail (release store). The consumer's acquire load of the tail orders both before its reads.
// The consumer releases with a release store of the head, ordering its payload reads before
// the producer may overwrite the bytes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "vitrine/ringbus/doorbell.hpp"
#include "vitrine/ringbus/error.hpp"
#include "vitrine/ringbus/layout.hpp"
#include "vitrine/perf/probes.hpp"

namespace vitrine::ringbus {

// Process-local statistics of one side of a ring. Single writer (the side's thread), readable
// from any thread: relaxed load+store, no locked instructions on the hot path.
class Counter {
 public:
  void add(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }
  void clear() { v_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

struct RingCounters {
  Counter records;              // produced or consumed, padding excluded
  Counter bytes;                // payload bytes produced or consumed
  Counter doorbells_rung;
  Counter doorbells_suppressed; // notify found the peer awake: no doorbell needed
  Counter times_full;           // try_claim found no space
  Counter sleeps;               // wait_readable/wait_writable slept on the doorbell (after spinning)
  Counter protocol_errors;      // faults caused by the peer
  Counter resets;
};

// A writable span inside the ring. Empty (data == nullptr) means the ring is full right now.
struct Claim {
  std::byte* data = nullptr;
  std::uint32_t capacity = 0;  // payload bytes the caller may write
  explicit operator bool() const { return data != nullptr; }
  std::span<std::byte> span() const { return {data, capacity}; }
};

// A committed record, seen by the consumer. `payload` points into the ring: valid until the
// record is released.
struct RecordView {
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::span<const std::byte> payload;
  std::uint64_t end_position = 0;  // ring position just past this record
  explicit operator bool() const { return payload.data() != nullptr; }
};

// How a side waits: spin for `spin`, then (if `sleep`) set its waiting flag and sleep on its
// doorbell. spin = 0 sleeps whenever the ring is not ready at the first look (no spinning at
// all); sleep = false never sleeps.
struct WaitPolicy {
  std::chrono::nanoseconds spin{std::chrono::microseconds(20)};
  bool sleep = true;

  static WaitPolicy adaptive() { return {}; }
  static WaitPolicy spin_only() { return {std::chrono::nanoseconds::max(), false}; }
  static WaitPolicy sleep_only() { return {std::chrono::nanoseconds(0), true}; }
};

// Which side of the ring this object plays; the owner (host) may reset the ring.
enum class RingRole : std::uint8_t { kProducer, kConsumer };

class Ring {
 public:
  Ring() = default;
  // `control` is followed by (1 << log2) data bytes; the caller (Bus) validated the geometry.
  // `owner`: this side created the region and may reset(). `name` appears in log lines.
  Ring(RingControl* control, std::uint32_t log2, bool owner, std::string name);
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  Ring(Ring&&) = delete;
  Ring& operator=(Ring&&) = delete;

  std::uint64_t capacity() const { return capacity_; }
  // Largest payload a single record can carry.
  std::uint64_t max_payload() const { return capacity_ - sizeof(RecordHeader); }
  // Largest payload that an EMPTY ring takes wherever its positions stand. A record is
  // contiguous, so one spanning more than half the ring fits neither in the space left before
  // the end nor, after a padding record, at the start when the tail stands just past the middle:
  // even with nothing in the ring it never fits there. A producer that waits for room (wait_
  // writable, a claim it retries) must ask for at most this much, or it may wait forever.
  std::uint64_t max_always_fitting_payload() const { return capacity_ / 2 - sizeof(RecordHeader); }
  bool faulted() const { return fault_.load(std::memory_order_relaxed) != 0; }
  const std::string& name() const { return name_; }
  const std::string& last_fault() const { return fault_message_; }
  const RingCounters& counters() const { return counters_; }

  // ---- producer ---------------------------------------------------------------------------
  // Reserves a contiguous span for one record of up to `max_payload` bytes. Empty Claim: full.
  // kClaimTooLarge if the ring can never hold it; kChannelFault in the fault state. Above
  // max_always_fitting_payload() a claim can stay empty on an empty ring (see there).
  Result<Claim> try_claim(std::uint32_t max_payload);
  // Publishes the claimed record with `used` <= claim.capacity payload bytes.
  void commit(std::uint32_t used, std::uint16_t type, std::uint16_t flags = 0);
  // Commits like commit() but leaves the tail unpublished: the record becomes visible with the
  // next publish(), commit() or notify_consumer(). For a producer that commits a burst: a
  // consumer that polls the tail then sees whole bursts and reads finished cache lines, instead
  // of following each record onto the line the producer is still writing (docs/ringbus.md).
  // Records left unpublished when waiting for room are published by wait_writable/arm_writable.
  void commit_unpublished(std::uint32_t used, std::uint16_t type, std::uint16_t flags = 0);
  // Publishes every commit_unpublished() record (release store of the tail).
  void publish();
  // Drops the claim; nothing is published.
  void abort() { claim_open_ = false; }
  // Producer-side check before sleeping: could a record of `max_payload` bytes be claimed now?
  Result<bool> writable(std::uint32_t max_payload);
  // After commits: publishes commit_unpublished() records, then rings `peer` if the consumer is
  // (about to be) asleep and takes its waiting flag down (one ring per sleep). True if rung.
  bool notify_consumer(Doorbell& peer);
  // Blocks per `policy` until writable(max_payload) or `timeout`. Value: true if writable.
  Result<bool> wait_writable(std::uint32_t max_payload, Doorbell& mine, WaitPolicy policy,
                             std::chrono::nanoseconds timeout);

  // ---- consumer ---------------------------------------------------------------------------
  // Calls handler(const RecordView&) for up to `limit` records, then releases them all.
  // Value: records handled (0 = empty).
  template <typename Handler>
  Result<std::size_t> read(Handler&& handler, std::size_t limit = SIZE_MAX);
  // Next record after those already peeked; empty RecordView when there is none.
  Result<RecordView> peek();
  // Frees everything peeked so far (or up to `position`, a RecordView::end_position; a
  // padding record peek() stepped over right after that position is freed with it).
  void release();
  void release_until(std::uint64_t position);
  // Consumer-side check before sleeping: is a record available?
  Result<bool> readable();
  // After releases: rings `peer` if the producer waits for space. True if rung.
  bool notify_producer(Doorbell& peer);
  Result<bool> wait_readable(Doorbell& mine, WaitPolicy policy, std::chrono::nanoseconds timeout);

  // ---- sleeping outside wait_* (an io_uring loop, poll() over several fds) -----------------
  // The hand-shake of wait_readable()/wait_writable() in two halves, for a caller that sleeps
  // its own way on the doorbell's fd (the one place this protocol is written):
  //     auto ready = ring.arm_readable();          // flag up, then look again
  //     if (ready && !*ready) poll(doorbell fd, ...);  // only now is sleeping safe
  //     ring.disarm_readable();
  // arm_*(): a seq_cst store of this side's waiting flag, then the re-check (its loads of the
  // peer's position are seq_cst). The peer's notify_*() does a seq_cst RMW of its position, then
  // a seq_cst load of the flag: in the single total order one of the two sees the other, so no
  // wake-up is lost. A peer that rings takes the flag down (one doorbell per arming): arm again
  // before each sleep. Value true: ready now, do not sleep (the flag is down again). An error: the
  // ring faulted; do not sleep on it. disarm_*() after waking (relaxed: a stale flag costs the
  // peer one needless doorbell, never a lost one). Same thread as the side's other calls.
  Result<bool> arm_readable();
  void disarm_readable();
  Result<bool> arm_writable(std::uint32_t max_payload);
  void disarm_writable();
  // Any thread: this side's reader is armed (asleep, or about to be) and the peer has published
  // past what that reader last saw. Decided from this process's own state and the peer's
  // tail, never from the shared waiting flag (a hostile peer can write that): a thread that
  // drained a doorbell shared by several rings passes the wake-up on only to readers of its own
  // that really wait. A forged tail costs the armed reader one re-check, which validates it.
  bool reader_waits_with_records() const;

  // ---- recovery ---------------------------------------------------------------------------
  // Owner only: clears the fault, empties the ring, bumps the generation so that the peer
  // restarts at position 0 the next time it looks at the ring.
  void reset();

 private:
  std::byte* data() const { return reinterpret_cast<std::byte*>(control_) + kRingDataOffset; }
  Result<void> fault(std::string message);
  bool check_generation();
  Result<void> refresh_head();
  Result<void> refresh_tail();
  Result<RecordView> parse_next();
  Result<bool> make_room(std::uint64_t span);
  // The peer's waiting `flag` is up: take it down and ring `peer` (notify_*).
  bool ring_if_waiting(std::uint32_t& flag, Doorbell& peer);
  void publish_tail(std::uint64_t tail);
  void write_header(std::uint64_t position, std::uint32_t length, std::uint16_t type,
                    std::uint16_t flags);

  // Shared, read-only after construction.
  RingControl* control_ = nullptr;
  std::uint64_t capacity_ = 0;
  std::uint64_t mask_ = 0;
  bool owner_ = false;
  std::string name_;

  // Producer-private state (one cache line apart from the consumer's).
  alignas(64) std::uint64_t tail_ = 0;        // next byte to publish
  std::uint64_t head_cache_ = 0;              // last validated consumer head
  std::uint64_t claim_pos_ = 0;               // ring position of the claimed record
  std::uint32_t claim_max_ = 0;
  bool claim_open_ = false;

  // Consumer-private state.
  alignas(64) std::uint64_t head_ = 0;        // released
  std::uint64_t read_pos_ = 0;                // peeked / handled, not yet released
  std::uint64_t tail_cache_ = 0;              // last validated producer tail
  std::uint64_t padding_from_ = ~std::uint64_t{0};  // last padding record stepped over
  std::uint64_t padding_to_ = 0;

  // Reader's arming as other threads may see it (reader_waits_with_records()).
  std::atomic<bool> reader_armed_{false};
  std::atomic<std::uint64_t> armed_tail_{0};  // the producer tail the armed reader last saw

  alignas(64) std::uint32_t generation_ = 0;
  std::atomic<std::uint32_t> fault_{0};
  std::string fault_message_;
  RingCounters counters_;
};

// ---- inline hot paths ----------------------------------------------------------------------

inline void Ring::write_header(std::uint64_t position, std::uint32_t length, std::uint16_t type,
                               std::uint16_t flags) {
  const std::uint64_t word = std::uint64_t{length} | (std::uint64_t{type} << 32) |
                             (std::uint64_t{flags} << 48);
  // Relaxed: the tail's release store publishes it; atomic so the consumer's single load of
  // the header never tears.
  std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(data() + (position & mask_)))
      .store(word, std::memory_order_relaxed);
}

inline void Ring::publish_tail(std::uint64_t tail) {
  // Release: payload and header stores above become visible before the new tail.
  std::atomic_ref<std::uint64_t>(control_->tail).store(tail, std::memory_order_release);
}

inline Result<Claim> Ring::try_claim(std::uint32_t max_payload) {
  // Relaxed load of a line the owner writes only on reset: an L1 hit on the hot path. A ring
  // reset by the owner must restart this producer at 0 before it publishes anything more.
  if (std::atomic_ref<std::uint32_t>(control_->generation).load(std::memory_order_relaxed) !=
      generation_) [[unlikely]]
    check_generation();
  if (faulted()) [[unlikely]]
    return std::unexpected(Error{Errc::kChannelFault, 0, fault_message_});
  const std::uint64_t span = record_span(max_payload);
  if (span > capacity_) [[unlikely]] {
    return std::unexpected(Error{Errc::kClaimTooLarge, 0,
                                 name_ + ": claim of " + std::to_string(max_payload) +
                                     " bytes exceeds the largest record (" +
                                     std::to_string(capacity_ - sizeof(RecordHeader)) + ")"});
  }
  std::uint64_t offset = tail_ & mask_;
  std::uint64_t pad = (span > capacity_ - offset) ? capacity_ - offset : 0;
  if (tail_ + pad + span - head_cache_ > capacity_) {
    auto room = make_room(span);
    if (!room) [[unlikely]] return std::unexpected(room.error());
    if (!*room) {
      counters_.times_full.add();
      return Claim{};
    }
    offset = tail_ & mask_;
    pad = (span > capacity_ - offset) ? capacity_ - offset : 0;
  }
  if (pad != 0) {
    // Unpublished until commit(); an abort() leaves it in free space, which is harmless.
    write_header(tail_, static_cast<std::uint32_t>(pad - sizeof(RecordHeader)), kPaddingType, 0);
    offset = 0;
  }
  claim_pos_ = tail_ + pad;
  claim_max_ = max_payload;
  claim_open_ = true;
  return Claim{data() + offset + sizeof(RecordHeader), max_payload};
}

inline void Ring::commit_unpublished(std::uint32_t used, std::uint16_t type, std::uint16_t flags) {
  // Programmer errors, not peer faults.
  if (!claim_open_ || used > claim_max_ || type == kPaddingType) [[unlikely]] __builtin_trap();
  write_header(claim_pos_, used, type, flags);
  tail_ = claim_pos_ + record_span(used);
  claim_open_ = false;
  VITRINE_PROBE3(ring_commit, this, tail_, used);
  counters_.records.add();
  counters_.bytes.add(used);
}

inline void Ring::commit(std::uint32_t used, std::uint16_t type, std::uint16_t flags) {
  commit_unpublished(used, type, flags);
  publish_tail(tail_);
}

inline void Ring::publish() {
  // A reset by the owner dropped the unpublished records (check_generation zeroes tail_): never
  // store a tail from before the reset over the owner's zero.
  if (std::atomic_ref<std::uint32_t>(control_->generation).load(std::memory_order_relaxed) != generation_)
      [[unlikely]]
    check_generation();
  publish_tail(tail_);
}

inline Result<RecordView> Ring::parse_next() {
  // Precondition: read_pos_ < tail_cache_ (both validated, 8-aligned).
  for (;;) {
    const std::uint64_t offset = read_pos_ & mask_;
    // One load of the peer-written header into a local; everything below uses the copy.
    const std::uint64_t word =
        std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(data() + offset))
            .load(std::memory_order_relaxed);
    const auto length = static_cast<std::uint32_t>(word);
    const auto type = static_cast<std::uint16_t>(word >> 32);
    const auto flags = static_cast<std::uint16_t>(word >> 48);
    const std::uint64_t span = record_span(length);
    const std::uint64_t available = tail_cache_ - read_pos_;
    if (type == kPaddingType) {
      if (span != capacity_ - offset || span > available) [[unlikely]] {
        auto r = fault("bad padding record at position " + std::to_string(read_pos_) +
                       " (length " + std::to_string(length) + ", " +
                       std::to_string(capacity_ - offset) + " bytes to the end, " +
                       std::to_string(available) + " published)");
        return std::unexpected(r.error());
      }
      // Remember the padding: a release that reaches its start also frees it (release_until),
      // so a consumer that releases record by record never strands the bytes a waiting
      // producer needs.
      padding_from_ = read_pos_;
      read_pos_ += span;
      padding_to_ = read_pos_;
      if (read_pos_ == tail_cache_) return RecordView{};
      continue;
    }
    if (span > capacity_ - offset || span > available) [[unlikely]] {
      auto r = fault("record at position " + std::to_string(read_pos_) + " claims " +
                     std::to_string(length) + " bytes: crosses the end of the ring or the tail (" +
                     std::to_string(capacity_ - offset) + " to the end, " +
                     std::to_string(available) + " published)");
      return std::unexpected(r.error());
    }
    counters_.records.add();
    counters_.bytes.add(length);
    RecordView view{type, flags,
                    std::span<const std::byte>(data() + offset + sizeof(RecordHeader), length),
                    read_pos_ + span};
    read_pos_ += span;
    return view;
  }
}

inline Result<RecordView> Ring::peek() {
  if (faulted() && !check_generation()) [[unlikely]]
    return std::unexpected(Error{Errc::kChannelFault, 0, fault_message_});
  if (read_pos_ == tail_cache_) {
    if (auto r = refresh_tail(); !r) return std::unexpected(r.error());
    if (read_pos_ == tail_cache_) return RecordView{};
  }
  return parse_next();
}

inline void Ring::release_until(std::uint64_t position) {
  if (position == padding_from_ && padding_to_ <= read_pos_) position = padding_to_;
  if (position <= head_) return;
  head_ = position;
  // Release: our reads of the freed payload happen before the producer may reuse the bytes.
  std::atomic_ref<std::uint64_t>(control_->head).store(head_, std::memory_order_release);
  VITRINE_PROBE2(ring_release, this, head_);
}

inline void Ring::release() {
  if (head_ != read_pos_) release_until(read_pos_);
}

template <typename Handler>
Result<std::size_t> Ring::read(Handler&& handler, std::size_t limit) {
  std::size_t handled = 0;
  while (handled < limit) {
    auto next = peek();
    if (!next) [[unlikely]] {
      release();
      return std::unexpected(next.error());
    }
    if (!*next) break;
    handler(static_cast<const RecordView&>(*next));
    ++handled;
  }
  release();
  return handled;
}

}  // namespace vitrine::ringbus
