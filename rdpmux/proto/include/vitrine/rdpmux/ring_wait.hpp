// Waiting flags for event loops that sleep on something other than Doorbell::wait (the relay's
// io_uring loop, a host pump that polls a socket and a doorbell fd together).
//
// The ringbus protocol for sleeping (see ringbus/src/ring.cpp wait_for): a seq_cst store of
// this side's flag in the ring's control block, then re-check the ring through Ring::readable()
// / writable() (their loads of the peer's position are seq_cst), sleep only if still not ready,
// clear the flag after waking. The peer does a seq_cst RMW of its position, then a seq_cst load
// of the flag, before deciding to ring: in the single total order of seq_cst operations one of
// the two sees the other, so no wake-up is lost. (Atomics, not fences: TSan checks them.)
#pragma once

#include <atomic>
#include <cstdint>

#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/layout.hpp"

namespace vitrine::rdpmux {

// The control block of one ring of `channel`; `host_to_guest` picks the ring. The geometry is
// the validated private copy the Bus keeps (never re-read from shared memory).
inline ringbus::RingControl* ring_control(ringbus::Bus& bus, std::uint32_t channel, bool host_to_guest) {
  const ringbus::ChannelDesc& d = bus.layout().channels.at(channel);
  return reinterpret_cast<ringbus::RingControl*>(bus.base() + (host_to_guest ? d.h2g_offset : d.g2h_offset));
}

// This side consumes `ring` and is about to sleep until a record arrives.
inline void set_consumer_waiting(ringbus::RingControl* ring, bool waiting) {
  // seq_cst when set (the hand-shake above); relaxed when cleared after waking (a stale 1 costs
  // the peer one unneeded doorbell, never a lost one).
  std::atomic_ref<std::uint32_t>(ring->consumer_waiting)
      .store(waiting ? 1u : 0u, waiting ? std::memory_order_seq_cst : std::memory_order_relaxed);
}
// This side produces on `ring` and is about to sleep until the consumer frees space.
inline void set_producer_waiting(ringbus::RingControl* ring, bool waiting) {
  std::atomic_ref<std::uint32_t>(ring->producer_waiting)
      .store(waiting ? 1u : 0u, waiting ? std::memory_order_seq_cst : std::memory_order_relaxed);
}

}  // namespace vitrine::rdpmux
