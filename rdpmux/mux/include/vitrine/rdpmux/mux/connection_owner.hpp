// ConnectionOwner: what a Connection asks of the mux that opened it, and nothing more. HostMux
// implements it; a test can implement it to drive a Connection without a control channel.
//
// Threads: guest_closed(), deliver_stamp(), pass_on_shared_wakeup() and host_doorbell() are
// called from a connection's reader or writer thread and must not wait for a control call;
// poll() never waits either (HostMux::poll()); connection_closed() may wait for the control lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vitrine/ringbus/doorbell.hpp"

namespace vitrine::rdpmux {

class ConnectionOwner {
 public:
  // Whether the guest reported Closed for `channel` (acquire: the records it committed before
  // Closed are visible after a true).
  virtual bool guest_closed(std::uint32_t channel) const = 0;
  // The Connection on `channel` is closed or destroyed: the owner ends it with the guest and
  // frees the channel once the guest confirms. Called once per connection.
  virtual void connection_closed(std::uint32_t channel) = 0;
  // One kRecordStamp payload read on `channel`, after a data record of `data_bytes` first read
  // at `read_ns` (host CLOCK_MONOTONIC; 0: the stamp did not follow a data record). The payload
  // is guest-written: the owner validates it.
  virtual void deliver_stamp(std::uint32_t channel, std::span<const std::byte> payload,
                             std::uint64_t data_bytes, std::uint64_t read_ns) = 0;
  // After a wait that may have drained a host doorbell shared by several channels.
  virtual void pass_on_shared_wakeup(std::uint32_t drained_by) = 0;
  // Lets the owner handle control messages (Closed, ...) while a writer waits for room.
  virtual bool poll() = 0;
  // The host doorbell of `channel`; nullptr when the bus polls.
  virtual ringbus::EventfdDoorbell* host_doorbell(std::uint32_t channel) const = 0;

 protected:
  ~ConnectionOwner() = default;
};

}  // namespace vitrine::rdpmux
