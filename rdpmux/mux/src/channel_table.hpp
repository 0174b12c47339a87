// ChannelTable: the host's view of the bus's connection channels 1..N-1 (slot 0 is the control
// channel and never changes): which are free, being opened, open, or abandoned (an open() that
// timed out before the guest answered), and the Close messages owed to the guest. A channel is
// free again only once both sides are done with it: the host closed its Connection and the
// guest sent Closed.
//
// Each guest message is checked against the slot's state; on_*() say when it does not fit (the
// caller answers with a protocol error). A Close that finds the control ring full is kept and
// sent by flush_closes(), never waited for.
//
// Threads: every call with the HostMux control lock held, except guest_closed(), which a
// Connection's threads call lock-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::rdpmux {

class ControlLink;

class ChannelTable {
 public:
  ChannelTable(ringbus::Bus& bus, ControlLink& link, HostMuxCounters& counters);
  ChannelTable(const ChannelTable&) = delete;
  ChannelTable& operator=(const ChannelTable&) = delete;

  std::uint32_t size() const { return static_cast<std::uint32_t>(slots_.size()); }
  std::uint32_t free_count() const;
  // The first free connection channel other than `reserved` (the surface channel, or 0); 0 when
  // every one is busy.
  std::uint32_t find_free(std::uint32_t reserved) const;

  // open(): `channel` (free) is being opened with `request`; then one of these.
  void begin_open(std::uint32_t channel, std::uint32_t request);
  void mark_open(std::uint32_t channel);
  void mark_free(std::uint32_t channel);
  // The open() gave up before the guest answered: Opened is then closed at once, OpenFailed
  // frees the slot.
  void mark_abandoned(std::uint32_t channel);

  enum class Answer : std::uint8_t {
    kUnexpected,  // not for a channel being opened with that request: a protocol error
    kOpened,      // the channel is open now
    kClosing,     // the open was abandoned: a Close was requested
    kForCaller,   // OpenFailed for the open() that waits for `awaited_request`: its to handle
    kFreed,       // OpenFailed for an abandoned open: the slot is free
  };
  Answer on_opened(const OpenedMsg& opened);
  Answer on_open_failed(const OpenFailedMsg& failed, std::uint32_t awaited_request);
  // false: the channel is not open (a protocol error).
  bool on_closed(const ClosedMsg& closed);

  // The Connection on `channel` is closed or gone: ends it with the guest, never waiting.
  void connection_closed(std::uint32_t channel);
  // Lock-free: the guest sent Closed for `channel` (acquire, see on_closed()).
  bool guest_closed(std::uint32_t channel) const {
    return slots_[channel].guest_closed.load(std::memory_order_acquire);
  }

  // Sends the kept Close messages that fit now.
  void flush_closes();
  // Drops what the guest wrote on `channel`: at most one ring's worth of records (the most it can
  // hold), so that a guest writing on after Closed cannot keep the caller here.
  void discard_rx(std::uint32_t channel);

 private:
  enum class State : std::uint8_t { kFree, kOpening, kOpen, kAbandoned, kControl };
  struct Slot {
    State state = State::kFree;
    std::uint32_t request_id = 0;
    bool host_closed = false;                 // the Connection is gone or closed
    bool close_requested = false;             // a Close was sent, or waits in close_pending
    bool close_pending = false;               // a Close waits for room on the control ring
    std::atomic<bool> guest_closed{false};    // the guest sent Closed
    int closed_error = 0;
    std::string closed_text;
  };

  Slot* slot_for(std::uint32_t channel);
  // Close for `channel` now if there is room, else kept (close_pending) for flush_closes().
  void request_close(std::uint32_t channel);
  void maybe_free(std::uint32_t channel);

  ringbus::Bus& bus_;
  ControlLink& link_;
  HostMuxCounters& counters_;
  std::vector<Slot> slots_;  // index = channel id; slot 0 is the control channel
  std::uint32_t pending_closes_ = 0;  // slots with close_pending
};

}  // namespace vitrine::rdpmux
