// HostMux: the host side of the relay protocol (the host runtime; the wire codecs it speaks are
// rdpmux/proto's). It owns control channel 0 of a host-side Bus, allocates connection channels
// 1..N-1, and opens connections to targets in the guest:
//
//   auto mux = HostMux::create(bus, std::move(doorbells));       // sends Hello
//   auto conn = (*mux)->open(Target::tcp(3389), {.framed = true}); // Open -> Opened
//   conn->write(...); conn->read(...);                            // a byte stream
//
// Threads: every method may be called from any thread; control-channel work is serialized by
// an internal mutex (a thread blocked in open()/stats()/ping() holds it while it waits, so
// control calls run one at a time). Connections are used by their own threads (connection.hpp).
// The Bus must outlive the HostMux, and the HostMux every Connection it opened.
//
// Trust: every guest message is decoded with decode_control() and checked against the
// channel's state; a bad one is counted, logged (the first few, then every 1024th) and answered
// with an ErrorReply.
//
// The guest never decides how long a call waits. Each turn over guest messages (a poll(), or one
// step of a control call's wait) stops after poll_record_budget messages or poll_time_budget,
// whichever comes first, and leaves the rest on the ring for the next turn; a reply the guest
// provokes (Pong, ErrorReply) goes out only if the host->guest control ring has room now, else it
// is dropped and counted; a Close that finds that ring full waits inside the mux, not in
// Connection::close(), and leaves with the next poll() or control call. So poll() never waits,
// and the blocking control calls (open, ping, stats, sync_clock, request_catalog, wait_ready)
// return at their own deadline however much the guest sends. (Connection::close() still takes
// the control lock: behind a control call on another thread it waits up to that call's timeout.)
//
// Application catalogue (kFeatureCatalog, offered only when on_catalog_fragment is set): the
// guest sends its catalogue after HelloReply, after request_catalog() and on every change.
// Fragments reach on_catalog_fragment only in order (control_layout.hpp checks them all); the
// callback joins them with CatalogReassembler (vitrine/rdpmux/catalog_wire.hpp). An event loop that is not
// otherwise busy with the mux sleeps on control_wake_fd() to get them:
//
//   for (;;) {
//     if (mux.arm_control_wake()) ::poll({mux.control_wake_fd(), POLLIN, ...}, timeout);
//     mux.poll();   // delivers fragments, answers pings, frees closed channels (a budget of them)
//   }
//
// poll() handles a budget of messages per call; arm_control_wake() returns false while any are
// left, so that this loop calls poll() again without sleeping and never loses a wake-up.
//
// Timestamps (kFeatureTimestamps, offered only when on_stamp is set): the guest relay stamps
// every data record it commits (control_layout.hpp, "Timestamps"). Each Connection pairs a stamp
// with the data record before it and the time it first read that record, and hands the result,
// converted to the host's clock, to on_stamp. The conversion comes from ClockProbe/ClockReply
// round trips (clock_sync.hpp): sync_clock() once after wait_ready(), then poll() probes again
// every clock_probe_interval so that a drifting guest clock is followed. Stamps that arrive
// before the first estimate are counted (stamps_unsynced), not delivered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/clock_sync.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/error.hpp"
#include "vitrine/rdpmux/mux/connection.hpp"
#include "vitrine/rdpmux/mux/connection_owner.hpp"
#include "vitrine/rdpmux/target.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/doorbell.hpp"

namespace vitrine::rdpmux {

// HostMux's parts (rdpmux/mux/src): one class each.
class CatalogReceiver;
class ChannelTable;
class ClockProber;
class ControlLink;

// One stamped data record on its way from the guest's socket to the host's reader, every time
// in the host's clock (CLOCK_MONOTONIC ns). guest_receive_to_commit_ns is measured on the guest's
// clock alone (exact); the others carry the clock estimate's uncertainty.
struct GuestStamp {
  std::uint32_t channel = 0;
  std::uint64_t bytes = 0;                       // payload of the stamped data record
  std::uint64_t receive_ns = 0;                  // the relay's receive completed
  std::uint64_t commit_ns = 0;                   // the relay committed the record
  std::uint64_t read_ns = 0;                     // the host's reader first peeked it
  std::uint64_t guest_receive_to_commit_ns = 0;
  std::uint64_t clock_uncertainty_ns = 0;        // +- of receive_ns and commit_ns
  // Commit -> host read; 0 when the clock error makes it come out negative.
  std::uint64_t commit_to_read_ns() const { return read_ns > commit_ns ? read_ns - commit_ns : 0; }
};

struct HostMuxOptions {
  // Offered in Hello. kFeatureCatalog is offered only when on_catalog_fragment is set.
  std::uint32_t features = kKnownFeatures;
  // One CatalogFragment record payload (CatalogFragmentHeader + bytes, already checked: magic,
  // sizes, and that it continues the catalogue in order), for CatalogReassembler::add.
  // Called on whichever thread drains the control channel (poll(), or a thread inside open(),
  // ping(), stats(), wait_ready() or request_catalog()) with the control lock held: it must not
  // call back into the HostMux, and should only copy or reassemble (no blocking). The span is
  // valid for the call only.
  std::function<void(std::span<const std::byte>)> on_catalog_fragment;
  // Stamped data records (kFeatureTimestamps, offered only when this is set). Called on the
  // thread that reads the connection (peek_read/read), without any HostMux lock; must be quick.
  std::function<void(const GuestStamp&)> on_stamp;
  // How often poll() sends a ClockProbe once timestamps are negotiated.
  std::chrono::milliseconds clock_probe_interval{2000};
  // One turn over guest control messages (a poll() call, or one step of a control call's wait)
  // handles at most this many (0 counts as 1) and stops starting new ones once poll_time_budget
  // has passed (at least one is handled per turn; a message costs microseconds unless
  // on_catalog_fragment is slow). What is left stays on the ring for the next turn. The UI thread
  // calls poll() between frames: keep the time budget well under a frame.
  std::uint32_t poll_record_budget = 256;
  std::chrono::microseconds poll_time_budget{2000};
};

struct HostMuxCounters {
  std::atomic<std::uint64_t> protocol_errors{0};  // malformed / unexpected guest messages
  std::atomic<std::uint64_t> error_replies{0};    // ErrorReply messages received from the guest
  std::atomic<std::uint64_t> opens{0};
  std::atomic<std::uint64_t> open_failures{0};
  std::atomic<std::uint64_t> catalog_fragments{0};  // delivered to on_catalog_fragment
  std::atomic<std::uint64_t> catalogs_complete{0};  // fragment sequences that reached total_size
  std::atomic<std::uint64_t> stamps{0};             // delivered to on_stamp
  std::atomic<std::uint64_t> stamps_unsynced{0};    // dropped: no clock estimate yet
  std::atomic<std::uint64_t> bad_stamps{0};         // malformed, or not right after a data record
  std::atomic<std::uint64_t> clock_samples{0};      // ClockReply round trips used
  // Turns over control messages (poll(), or a step of a control call's wait) that stopped at
  // poll_record_budget or poll_time_budget with messages still waiting: a guest that sends
  // faster than the host handles (a flood) makes this climb.
  std::atomic<std::uint64_t> budget_deferrals{0};
  // Replies the guest provoked (Pong, ErrorReply) dropped because the host->guest control ring
  // was full (the guest does not read it); never waited for.
  std::atomic<std::uint64_t> replies_dropped{0};
  // Close messages that found the host->guest control ring full: kept in the mux and sent by a
  // later poll() or control call (the channel stays busy until the guest confirms).
  std::atomic<std::uint64_t> closes_deferred{0};
  std::atomic<std::uint64_t> catalogs_abandoned{0};  // a new catalogue started before one was complete
};

class HostMux final : public ConnectionOwner {
 public:
  // `bus` is the host side; `doorbells` are applied to it (and kept). Sends Hello.
  static Result<std::unique_ptr<HostMux>> create(ringbus::Bus& bus, BusDoorbells doorbells,
                                                 HostMuxOptions options = {});
  ~HostMux();
  HostMux(const HostMux&) = delete;
  HostMux& operator=(const HostMux&) = delete;

  // Waits for the guest's HelloReply (open() does this itself).
  Result<HelloReplyMsg> wait_ready(std::chrono::nanoseconds timeout);
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // Opens a connection to `target` inside the guest on a free channel. kOpenFailed carries the
  // guest's errno and text; kNoFreeChannel when all channels are busy.
  Result<std::unique_ptr<Connection>> open(const Target& target, OpenOptions options = {});

  // Round trip over the control channel. Value: measured latency.
  Result<std::chrono::nanoseconds> ping(std::chrono::nanoseconds timeout);
  Result<StatsReplyMsg> stats(std::chrono::nanoseconds timeout);

  // Asks the guest to send its whole catalogue again (answered with CatalogFragments, which
  // arrive through on_catalog_fragment). Does not wait for them. kInvalidArgument when the
  // catalogue was not negotiated (no callback, or a relay started with --no-catalog), kTimeout
  // when the guest is not ready within `timeout` or does not read the control channel.
  Result<void> request_catalog(std::chrono::nanoseconds timeout = std::chrono::seconds(1));
  // Whether HelloReply accepted kFeatureCatalog (false before the guest answered).
  bool catalog_negotiated() const;

  // Timestamps: `rounds` ClockProbe round trips one after the other (each adds a sample);
  // value: the estimate after them. kInvalidArgument when timestamps were not negotiated
  // (no on_stamp, or an older relay), kTimeout when the guest does not answer in time.
  Result<ClockEstimate> sync_clock(std::chrono::nanoseconds timeout, int rounds = 8);
  // The current estimate (any thread); nullopt before the first ClockReply.
  std::optional<ClockEstimate> clock_estimate() const;
  bool timestamps_negotiated() const;

  // Handles pending guest messages without blocking (Closed, Ping, ErrorReply, CatalogFragment
  // ...), at most one turn's budget of them (poll_record_budget, poll_time_budget), and sends
  // what is due (a ClockProbe, Close messages that found the control ring full). Any thread; it
  // never waits for the guest, nor for another thread: when one is inside a control call, that
  // thread drains instead (and rings control_wake_fd() when it is done). Value: true when the
  // budget ran out with messages left: call poll() again without sleeping (arm_control_wake()
  // also returns false then; an event loop built on it needs nothing more).
  bool poll() override;

  // For an event loop that sleeps until the guest writes on the control channel: the eventfd
  // the guest rings for channel 0 (BusDoorbells::host(0)), -1 when the bus polls (no doorbells:
  // then call poll() periodically). With one host doorbell shared by every channel this fd is
  // also the connections' doorbell; prefer one doorbell per channel (create_eventfds(channels)).
  int control_wake_fd() const;
  // Call right before sleeping on control_wake_fd(): sets the host's waiting flag on the
  // guest->host control ring (the guest rings the doorbell only when it is set) and re-checks.
  // true: sleep (nothing pending); false: messages are already there (ones a budgeted poll()
  // left included), call poll() now. The next poll() clears the flag and drains the eventfd. A
  // control call on another thread (which may consume the wake-up, and drains the channel
  // itself) rings the fd again when it releases the control lock. Sleep with a bounded timeout
  // (100-500 ms): a loop that arms in the instant that call unlocks may be woken only by the
  // timeout (then poll() catches up).
  bool arm_control_wake();

  std::uint32_t channel_count() const { return bus_.channel_count(); }
  std::uint32_t free_channels() const;
  const HostMuxCounters& counters() const { return counters_; }
  const BusDoorbells& doorbells() const { return doorbells_; }
  ringbus::Bus& bus() { return bus_; }

  // From a thread that just drained the SHARED host doorbell (one eventfd for all channels: a
  // Connection's reader, the display's surface receiver): the wake-up may have been meant for
  // another sleeper, so ring once more if any other channel's reader sleeps while records wait
  // for it. Lock-free (ring atomics only).
  void pass_on_shared_wakeup(std::uint32_t drained_by) override;

 private:
  // ConnectionOwner: what a Connection asks of the mux (connection_owner.hpp).
  bool guest_closed(std::uint32_t channel) const override;
  void connection_closed(std::uint32_t channel) override;  // takes the control lock
  // No control lock: handed to the clock prober, which has a lock of its own.
  void deliver_stamp(std::uint32_t channel, std::span<const std::byte> payload, std::uint64_t data_bytes,
                     std::uint64_t read_ns) override;
  ringbus::EventfdDoorbell* host_doorbell(std::uint32_t channel) const override;

  HostMux(ringbus::Bus& bus, BusDoorbells doorbells, HostMuxOptions options);
  // All below: mutex_ held.
  // One turn of the link over guest messages, each to handle().
  Result<bool> drain_control();
  void handle(const ControlMessage& message);
  void handle_hello_reply(const HelloReplyMsg& reply);
  // Waits until `done()` (checked after each turn of drain_control()) or the deadline.
  template <typename Done>
  Result<void> wait_until(Done&& done, std::chrono::steady_clock::time_point deadline);
  // wait_until(ready()), with the message a caller gets when the relay never answers Hello.
  Result<void> wait_until_ready(std::chrono::steady_clock::time_point deadline);
  // After a control call: hands the control doorbell back to an armed event loop.
  void rewake_event_loop();
  // The control lock of every control call: unlocking rewakes an armed event loop.
  class ControlLock {
   public:
    explicit ControlLock(HostMux& mux);
    ~ControlLock();
    ControlLock(const ControlLock&) = delete;
    ControlLock& operator=(const ControlLock&) = delete;

   private:
    HostMux& mux_;
    std::unique_lock<std::mutex> lock_;
  };

  ringbus::Bus& bus_;
  BusDoorbells doorbells_;
  HostMuxOptions options_;
  HostMuxCounters counters_;
  mutable std::mutex mutex_;  // the control lock
  // The parts (private to rdpmux/mux), each under mutex_ unless its header says otherwise; they
  // keep references to bus_, doorbells_, options_ and counters_ above.
  std::unique_ptr<ControlLink> link_;          // channel 0: sends, replies, one budgeted turn
  std::unique_ptr<ChannelTable> channels_;     // connection channels and the Closes owed
  std::unique_ptr<ClockProber> clock_;         // ClockProbe round trips, stamps to host time
  std::unique_ptr<CatalogReceiver> catalog_;   // catalogue fragments, in order
  std::atomic<bool> ready_{false};
  std::atomic<std::uint32_t> accepted_features_{0};  // hello_reply_.features, for any thread
  HelloReplyMsg hello_reply_{};
  std::uint32_t next_request_ = 1;
  // Replies awaited by one blocked caller (mutex_ held throughout its wait).
  std::optional<ControlMessage> open_reply_;
  std::uint32_t open_request_ = 0;
  std::optional<PongMsg> pong_;
  std::optional<StatsReplyMsg> stats_reply_;
  std::atomic<bool> loop_armed_{false};  // an event loop sleeps on control_wake_fd()
  std::atomic<std::uint32_t> live_connections_{0};
};

}  // namespace vitrine::rdpmux
