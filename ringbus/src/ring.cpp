// Slow paths of Ring: refreshing and validating the peer's positions, waiting, faults, reset.
#include "vitrine/ringbus/ring.hpp"

#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/base/rate_limiter.hpp"

namespace vitrine::ringbus {
namespace {

using base::Clock;
using base::deadline_after;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

void store_flag(std::uint32_t& flag, std::uint32_t v) {
  std::atomic_ref<std::uint32_t>(flag).store(v, std::memory_order_relaxed);
}

// Spin, then sleep on `mine` with this side armed, until `ready()` or the deadline. `arm()`
// raises this side's waiting flag and re-checks (Ring::arm_readable / arm_writable: the
// hand-shake lives there, once); `disarm()` lowers it.
template <typename Ready, typename Arm, typename Disarm>
Result<bool> wait_for(const void* ring, Ready&& ready, Arm&& arm, Disarm&& disarm, Doorbell& mine,
                      WaitPolicy policy, std::chrono::nanoseconds timeout, Counter& sleeps) {
  auto r = ready();
  if (!r || *r) return r;
  const auto deadline = deadline_after(timeout);
  const auto spin_end = policy.sleep ? deadline_after(std::min(policy.spin, timeout)) : deadline;
  // Each check reads the line the peer is writing; checking on every pause would steal that
  // line from the peer's next store. Back off to at most 16 pauses between checks (~1 us).
  // spin = 0 skips this: the time check comes only every 64 checks, so even a zero spin used
  // to spin ~1000 pauses first (and a "sleep_only" round trip rarely slept).
  std::uint32_t pauses = 1;
  for (std::uint32_t i = 1; !(policy.sleep && policy.spin.count() <= 0); ++i) {
    for (std::uint32_t p = 0; p < pauses; ++p) cpu_relax();
    if (pauses < 16) pauses *= 2;
    r = ready();
    if (!r || *r) return r;
    if ((i & 63) == 0 && Clock::now() >= spin_end) break;
  }
  if (!policy.sleep) return false;
  for (;;) {
    r = arm();
    if (!r || *r) {
      mine.reset_backoff();
      return r;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      disarm();
      return false;
    }
    sleeps.add();
    auto woke = mine.wait(deadline == Clock::time_point::max() ? std::chrono::nanoseconds::max()
                                                               : deadline - now);
    disarm();
    if (!woke) return std::unexpected(woke.error());
    VITRINE_PROBE1(doorbell_woken, ring);
  }
}

}  // namespace

Ring::Ring(RingControl* control, std::uint32_t log2, bool owner, std::string name)
    : control_(control),
      capacity_(std::uint64_t{1} << log2),
      mask_(capacity_ - 1),
      owner_(owner),
      name_(std::move(name)) {
  // Attach where the ring stands: a side that restarts (a relay re-attaching) continues from
  // the published positions. Checked like any other peer value.
  generation_ = std::atomic_ref<std::uint32_t>(control_->generation).load(std::memory_order_acquire);
  const std::uint64_t head = std::atomic_ref<std::uint64_t>(control_->head).load(std::memory_order_acquire);
  const std::uint64_t tail = std::atomic_ref<std::uint64_t>(control_->tail).load(std::memory_order_acquire);
  if (tail < head || tail - head > capacity_ || (head | tail) % kRecordAlign != 0) {
    (void)fault("inconsistent positions at attach (head " + std::to_string(head) + ", tail " +
                std::to_string(tail) + ")");
    return;
  }
  tail_ = tail;
  head_cache_ = head;
  head_ = read_pos_ = head;
  tail_cache_ = head;
}

Result<void> Ring::fault(std::string message) {
  fault_message_ = name_ + ": " + message;
  fault_.store(1, std::memory_order_relaxed);
  counters_.protocol_errors.add();
  VITRINE_PROBE2(ring_fault, this, counters_.protocol_errors.get());
  // The peer can fault a ring again after every reset: a line per fault at most at this rate.
  // fault() runs on the producer's or the consumer's thread: one limiter per thread.
  thread_local base::RateLimiter limit(5, 20);
  if (auto a = limit.admit()) base::log_error("ring fault: {}{}", fault_message_, a.suffix());
  return std::unexpected(Error{Errc::kChannelFault, 0, fault_message_});
}

bool Ring::check_generation() {
  if (owner_) return false;
  // Acquire: the owner zeroed the positions before bumping the generation (release).
  const std::uint32_t g =
      std::atomic_ref<std::uint32_t>(control_->generation).load(std::memory_order_acquire);
  if (g == generation_) return false;
  generation_ = g;
  tail_ = head_cache_ = claim_pos_ = 0;
  claim_open_ = false;
  head_ = read_pos_ = tail_cache_ = 0;
  padding_from_ = ~std::uint64_t{0};
  padding_to_ = 0;
  fault_.store(0, std::memory_order_relaxed);
  fault_message_.clear();
  counters_.resets.add();
  base::log_info("{}: ring reset by the owner (generation {})", name_, g);
  return true;
}

Result<void> Ring::refresh_head() {
  if (check_generation()) return {};
  // Acquire (seq_cst for the wake-up hand-shake, see wait_for; a plain load on x86): the
  // consumer's reads of the space it freed happen before we overwrite it.
  const std::uint64_t h = std::atomic_ref<std::uint64_t>(control_->head).load(std::memory_order_seq_cst);
  if (h < head_cache_ || h > tail_ || h % kRecordAlign != 0) [[unlikely]] {
    return fault("consumer head " + std::to_string(h) + " outside [" + std::to_string(head_cache_) +
                 ", " + std::to_string(tail_) + "] or misaligned");
  }
  head_cache_ = h;
  return {};
}

Result<void> Ring::refresh_tail() {
  if (check_generation()) return {};
  // Acquire (seq_cst for the wake-up hand-shake, see wait_for): pairs with publish_tail();
  // payload and headers below the tail are visible.
  const std::uint64_t t = std::atomic_ref<std::uint64_t>(control_->tail).load(std::memory_order_seq_cst);
  if (t < tail_cache_ || t - head_ > capacity_ || t % kRecordAlign != 0) [[unlikely]] {
    return fault("producer tail " + std::to_string(t) + " outside [" + std::to_string(tail_cache_) +
                 ", " + std::to_string(head_ + capacity_) + "] or misaligned");
  }
  tail_cache_ = t;
  return {};
}

Result<bool> Ring::make_room(std::uint64_t span) {
  if (auto r = refresh_head(); !r) return std::unexpected(r.error());
  const std::uint64_t offset = tail_ & mask_;
  const std::uint64_t pad = (span > capacity_ - offset) ? capacity_ - offset : 0;
  if (tail_ + pad + span - head_cache_ <= capacity_) return true;
  if (pad == 0 || tail_ + pad - head_cache_ > capacity_) return false;
  // The padding alone fits: publish it, so that the record can start at offset 0 as soon as
  // the consumer frees the beginning (otherwise padding + record might never fit at once).
  write_header(tail_, static_cast<std::uint32_t>(pad - sizeof(RecordHeader)), kPaddingType, 0);
  tail_ += pad;
  publish_tail(tail_);
  return tail_ + span - head_cache_ <= capacity_;
}

Result<bool> Ring::writable(std::uint32_t max_payload) {
  if (faulted() && !check_generation())
    return std::unexpected(Error{Errc::kChannelFault, 0, fault_message_});
  const std::uint64_t span = record_span(max_payload);
  if (span > capacity_)
    return std::unexpected(Error{Errc::kClaimTooLarge, 0,
                                 name_ + ": " + std::to_string(max_payload) + " bytes never fit"});
  const std::uint64_t offset = tail_ & mask_;
  const std::uint64_t pad = (span > capacity_ - offset) ? capacity_ - offset : 0;
  if (tail_ + pad + span - head_cache_ <= capacity_) return true;
  return make_room(span);
}

Result<bool> Ring::readable() {
  if (faulted() && !check_generation())
    return std::unexpected(Error{Errc::kChannelFault, 0, fault_message_});
  if (read_pos_ < tail_cache_) return true;
  if (auto r = refresh_tail(); !r) return std::unexpected(r.error());
  return read_pos_ < tail_cache_;
}

bool Ring::notify_consumer(Doorbell& peer) {
  // seq_cst RMW of our own tail (publishes commit_unpublished() records, or rewrites the value
  // commit() published), then the seq_cst load of the consumer's flag in ring_if_waiting(): the
  // producer half of the hand-shake in wait_for. On x86 the RMW is the one locked instruction
  // per notify; batching commits before notifying amortizes it.
  if (std::atomic_ref<std::uint32_t>(control_->generation).load(std::memory_order_relaxed) != generation_)
    check_generation();  // as in publish(): a reset dropped what was unpublished
  std::atomic_ref<std::uint64_t>(control_->tail).exchange(tail_, std::memory_order_seq_cst);
  return ring_if_waiting(control_->consumer_waiting, peer);
}

bool Ring::notify_producer(Doorbell& peer) {
  // Same hand-shake as notify_consumer, for our head and the producer's waiting flag.
  std::atomic_ref<std::uint64_t>(control_->head).fetch_add(0, std::memory_order_seq_cst);
  return ring_if_waiting(control_->producer_waiting, peer);
}

bool Ring::ring_if_waiting(std::uint32_t& flag, Doorbell& peer) {
  std::atomic_ref<std::uint32_t> waiting(flag);
  // One doorbell per sleep: the ring takes the flag down. A peer that is woken (or about to
  // be) needs no second ring, and it raises the flag again (arm_*) before it sleeps again.
  // Leaving the flag up used to ring on every notify until the sleeper ran and lowered it:
  // ~100 eventfd writes per consumer sleep in BM_RingThroughput/64 (docs/ringbus.md).
  // The load first keeps the common case (peer awake) a read of a line the peer rarely writes;
  // the exchange (seq_cst RMW) decides who rings when two notifies race for one arming.
  if (waiting.load(std::memory_order_seq_cst) != 0 && waiting.exchange(0, std::memory_order_seq_cst) != 0) {
    peer.ring();
    VITRINE_PROBE1(doorbell_rung, this);
    counters_.doorbells_rung.add();
    return true;
  }
  counters_.doorbells_suppressed.add();
  return false;
}

Result<bool> Ring::wait_readable(Doorbell& mine, WaitPolicy policy, std::chrono::nanoseconds timeout) {
  return wait_for(this, [this] { return readable(); }, [this] { return arm_readable(); }, [this] { disarm_readable(); },
                  mine, policy, timeout, counters_.sleeps);
}

Result<bool> Ring::wait_writable(std::uint32_t max_payload, Doorbell& mine, WaitPolicy policy,
                                 std::chrono::nanoseconds timeout) {
  publish();  // the room waited for may be behind commit_unpublished() records
  return wait_for(this, [this, max_payload] { return writable(max_payload); },
                  [this, max_payload] { return arm_writable(max_payload); }, [this] { disarm_writable(); }, mine,
                  policy, timeout, counters_.sleeps);
}

Result<bool> Ring::arm_readable() {
  // Published before the shared flag: a thread that drained a shared doorbell in between and
  // does not see us armed yet would not pass the wake-up on (reader_waits_with_records()).
  // tail_cache_ may be older than the tail the re-check below reads: at worst one spurious
  // pass-on, after which the reader re-arms with the newer value.
  armed_tail_.store(tail_cache_, std::memory_order_relaxed);
  reader_armed_.store(true, std::memory_order_seq_cst);
  std::atomic_ref<std::uint32_t>(control_->consumer_waiting).store(1, std::memory_order_seq_cst);
  auto r = readable();
  if (!r || *r) {
    disarm_readable();
    return r;
  }
  armed_tail_.store(tail_cache_, std::memory_order_relaxed);
  return false;
}

void Ring::disarm_readable() {
  store_flag(control_->consumer_waiting, 0);
  reader_armed_.store(false, std::memory_order_relaxed);
}

Result<bool> Ring::arm_writable(std::uint32_t max_payload) {
  // A producer about to sleep for room must not leave records unpublished: the consumer would
  // never see them, and never free the room.
  publish();
  std::atomic_ref<std::uint32_t>(control_->producer_waiting).store(1, std::memory_order_seq_cst);
  auto r = writable(max_payload);
  if (!r || *r) disarm_writable();
  return r;
}

void Ring::disarm_writable() { store_flag(control_->producer_waiting, 0); }

bool Ring::reader_waits_with_records() const {
  if (!reader_armed_.load(std::memory_order_seq_cst)) return false;
  // seq_cst, as a producer loads the flag after publishing: pairs with arm_readable()'s stores.
  const std::uint64_t t = std::atomic_ref<std::uint64_t>(control_->tail).load(std::memory_order_seq_cst);
  return t != armed_tail_.load(std::memory_order_relaxed);
}

void Ring::reset() {
  if (!owner_) {
    base::log_warn("{}: reset() ignored: only the region's owner resets a ring", name_);
    return;
  }
  std::atomic_ref<std::uint64_t>(control_->tail).store(0, std::memory_order_relaxed);
  std::atomic_ref<std::uint64_t>(control_->head).store(0, std::memory_order_relaxed);
  store_flag(control_->producer_waiting, 0);
  store_flag(control_->consumer_waiting, 0);
  // Release: the zeroed positions are visible to a peer that sees the new generation.
  generation_ += 1;
  std::atomic_ref<std::uint32_t>(control_->generation).store(generation_, std::memory_order_release);
  tail_ = head_cache_ = claim_pos_ = 0;
  claim_open_ = false;
  head_ = read_pos_ = tail_cache_ = 0;
  padding_from_ = ~std::uint64_t{0};
  padding_to_ = 0;
  fault_message_.clear();
  fault_.store(0, std::memory_order_relaxed);
  counters_.resets.add();
}

}  // namespace vitrine::ringbus
