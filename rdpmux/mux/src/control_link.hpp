// ControlLink: channel 0 of the bus seen from the host. It sends the host's requests (waiting
// for room until the caller's deadline), one-try sends that never wait, the replies a guest
// provokes (dropped and counted when the ring is full), ErrorReplies for bad guest messages, and
// one budgeted turn over what the guest wrote. It knows no message's meaning: a turn hands each
// decoded message to the caller's handler.
//
// Threads: every call with the HostMux control lock held (nothing here locks).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "mux_detail.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/rate_limiter.hpp"
#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/error.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/doorbell.hpp"

namespace vitrine::rdpmux {

class ControlLink {
 public:
  // `options` supplies the turn's budgets (poll_record_budget, poll_time_budget).
  ControlLink(ringbus::Bus& bus, const BusDoorbells& doorbells, const HostMuxOptions& options,
              HostMuxCounters& counters);
  ControlLink(const ControlLink&) = delete;
  ControlLink& operator=(const ControlLink&) = delete;

  // Waits for room until `deadline` (the caller's timeout): for the host's own requests only.
  Result<void> send(const ControlMessage& message, base::Clock::time_point deadline);
  // One try, never a wait. Value: false when the control ring is full.
  Result<bool> try_send(const ControlMessage& message);
  // A reply the guest provoked (Pong, ErrorReply): sent if there is room now, else dropped and
  // counted (replies_dropped).
  void reply(const ControlMessage& message);
  // A bad guest message: counted (protocol_errors), logged at a bounded rate, answered with an
  // ErrorReply (through reply()).
  void protocol_error(std::uint16_t type, std::uint32_t code, const std::string& text);

  // One turn: decodes pending guest messages, at most the budget of them, and calls
  // handle(const ControlMessage&) for each valid one (a malformed one gets protocol_error()).
  // Value: true when it stopped at the budget with messages left. A faulted ring is counted and
  // reset (we own the region), and its error returned.
  template <typename Handler>
  Result<bool> drain(Handler&& handle);

  // Sleeps until the guest writes on channel 0 or `timeout` passes. With one host doorbell
  // shared by every channel it polls the ring instead (see the .cpp).
  Result<void> wait_readable(std::chrono::nanoseconds timeout);

  // The eventfd the guest rings for channel 0 when it is channel 0's own; -1 otherwise (a
  // polling bus, or one host doorbell shared by every channel).
  int wake_fd() const;

  // Whether to log a line the guest can trigger at will, for every part under the control lock
  // (this link, HostMux, ChannelTable, CatalogReceiver): one budget for the mux, so that a guest
  // varying its fault does not multiply the lines. Append the admission's suffix() to the line.
  base::RateLimiter::Admission admit_guest_line() { return guest_lines_.admit(); }

 private:
  ringbus::Bus& bus_;
  const BusDoorbells& doorbells_;
  const HostMuxOptions& options_;
  HostMuxCounters& counters_;
  // Control waits on a shared host doorbell poll with this instead (wait_readable()).
  ringbus::PollingDoorbell shared_bell_wait_{std::chrono::microseconds(200)};
  base::RateLimiter guest_lines_{detail::kGuestLogPerSecond, detail::kGuestLogBurst};
};

template <typename Handler>
Result<bool> ControlLink::drain(Handler&& handle) {
  ringbus::Channel& ch = bus_.channel(kControlChannel);
  ringbus::Ring& rx = ch.rx();
  const std::uint32_t budget = std::max<std::uint32_t>(options_.poll_record_budget, 1);
  const auto until = base::Clock::now() + options_.poll_time_budget;
  std::uint32_t handled = 0;
  for (;;) {
    if (handled == budget || (handled != 0 && base::Clock::now() >= until)) {
      if (handled % 64 != 0) ch.notify_released();
      // Records left (or a fault, which the next turn's peek reports): the caller comes back
      // at once. A padding record alone reads as one record left: one empty turn, no harm.
      auto left = rx.readable();
      if (left && !*left) return false;
      counters_.budget_deferrals.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    auto r = rx.peek();
    if (!r) {
      // The guest broke the control ring (the ring logged it): reset it (we own the region).
      counters_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
      ch.reset();
      return std::unexpected(from_bus(r.error()));
    }
    if (!*r) break;
    const std::uint16_t type = r->type;
    // Copied out of the ring and validated, then released: the handler (and the replies it
    // sends) run on the private copy.
    auto m = decode_control(type, r->payload);
    rx.release_until(r->end_position);
    // A producer waiting for space hears of it every 64 records, not once per record.
    if (++handled % 64 == 0) ch.notify_released();
    if (!m) {
      protocol_error(type, m.error().code == Errc::kUnknownType ? kErrUnknownType : kErrMalformed,
                     m.error().message);
      continue;
    }
    handle(*m);
  }
  // peek() may have stepped over a padding record at the wrap: free it with the rest.
  rx.release();
  if (handled % 64 != 0) ch.notify_released();
  return false;
}

}  // namespace vitrine::rdpmux
