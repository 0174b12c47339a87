// HostMux: the host side of the relay protocol. It owns control channel 0 of a host-side Bus,
// allocates connection channels 1..N-1, and opens connections to targets in the guest:
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
// channel's state; a bad one is counted, logged and answered with an ErrorReply.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/connection.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/error.hpp"
#include "vitrine/rdpmux/target.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::rdpmux {

struct HostMuxOptions {
  std::uint32_t features = kKnownFeatures;  // offered in Hello
};

struct HostMuxCounters {
  std::atomic<std::uint64_t> protocol_errors{0};  // malformed / unexpected guest messages
  std::atomic<std::uint64_t> error_replies{0};    // ErrorReply messages received from the guest
  std::atomic<std::uint64_t> opens{0};
  std::atomic<std::uint64_t> open_failures{0};
};

class HostMux {
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

  // Handles pending guest messages without blocking (Closed, Ping, ErrorReply, ...).
  void poll();

  std::uint32_t channel_count() const { return static_cast<std::uint32_t>(slots_.size()); }
  std::uint32_t free_channels() const;
  const HostMuxCounters& counters() const { return counters_; }
  const BusDoorbells& doorbells() const { return doorbells_; }
  ringbus::Bus& bus() { return bus_; }

 private:
  friend class Connection;
  enum class SlotState : std::uint8_t { kFree, kOpening, kOpen, kAbandoned, kControl };
  struct Slot {
    SlotState state = SlotState::kFree;
    std::uint32_t request_id = 0;
    bool host_closed = false;                 // the Connection is gone or closed
    std::atomic<bool> guest_closed{false};    // the guest sent Closed
    int closed_error = 0;
    std::string closed_text;
  };

  HostMux(ringbus::Bus& bus, BusDoorbells doorbells, HostMuxOptions options);
  // All below: mutex_ held.
  Result<void> send(const ControlMessage& message, std::chrono::steady_clock::time_point deadline);
  // Handles every pending message; returns when the control rx ring is empty.
  Result<void> drain_control();
  void handle(const ControlMessage& message);
  void protocol_error(std::uint16_t type, std::uint32_t code, const std::string& text);
  // Waits until `done()` (checked after each drain) or the deadline.
  template <typename Done>
  Result<void> wait_until(Done&& done, std::chrono::steady_clock::time_point deadline);
  void discard_rx(std::uint32_t channel);
  void maybe_free(std::uint32_t channel);
  // From Connection (takes the mutex).
  void connection_closed(std::uint32_t channel);

  ringbus::Bus& bus_;
  BusDoorbells doorbells_;
  HostMuxOptions options_;
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;  // index = channel id; slot 0 is the control channel
  std::atomic<bool> ready_{false};
  HelloReplyMsg hello_reply_{};
  std::uint32_t next_request_ = 1;
  // Replies awaited by one blocked caller (mutex_ held throughout its wait).
  std::optional<ControlMessage> open_reply_;
  std::uint32_t open_request_ = 0;
  std::optional<PongMsg> pong_;
  std::optional<StatsReplyMsg> stats_reply_;
  std::atomic<std::uint32_t> live_connections_{0};
  HostMuxCounters counters_;
};

}  // namespace vitrine::rdpmux
