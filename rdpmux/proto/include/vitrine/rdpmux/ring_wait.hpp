// Waiting flags for event loops that sleep on something other than Doorbell::wait (the relay's
// io_uring loop, a host pump that polls a socket and a doorbell fd together).
//
// The ringbus protocol for sleeping (see ringbus/src/ring.cpp wait_for): set this side's flag
// in the ring's control block, seq_cst fence, re-check the ring, sleep only if still not
// ready, clear the flag after waking. The peer does position store -> fence -> flag load before
// deciding to ring, so one of the two always sees the other: no lost wake-up.
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
  // Relaxed: ordered by wait_fence() before the re-check; cleared after waking (a stale 1
  // costs the peer one unneeded doorbell, never a lost one).
  std::atomic_ref<std::uint32_t>(ring->consumer_waiting).store(waiting ? 1u : 0u, std::memory_order_relaxed);
}
// This side produces on `ring` and is about to sleep until the consumer frees space.
inline void set_producer_waiting(ringbus::RingControl* ring, bool waiting) {
  std::atomic_ref<std::uint32_t>(ring->producer_waiting).store(waiting ? 1u : 0u, std::memory_order_relaxed);
}
// Between setting flags and re-checking the rings.
inline void wait_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace vitrine::rdpmux
