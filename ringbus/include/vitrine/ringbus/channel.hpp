// Channel: the two rings of one bus channel seen from one side. The host produces on
// host->guest and consumes guest->host; the guest the reverse. Channel 0 carries the control
// protocol (rdpmux/control), channel N >= 1 one RDP connection each.
//
// Doorbells: `wake_me` is the doorbell this side sleeps on (for records on rx and for space on
// tx); `wake_peer` is the one the peer sleeps on. Both are optional (polling without them).
#pragma once

#include <cstdint>

#include "vitrine/ringbus/doorbell.hpp"
#include "vitrine/ringbus/ring.hpp"

namespace vitrine::ringbus {

enum class Side : std::uint8_t { kHost, kGuest };

class Channel {
 public:
  Channel(std::uint32_t id, Side side, RingControl* h2g, std::uint32_t h2g_log2, RingControl* g2h,
          std::uint32_t g2h_log2);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  std::uint32_t id() const { return id_; }
  Side side() const { return side_; }
  Ring& tx() { return side_ == Side::kHost ? h2g_ : g2h_; }
  Ring& rx() { return side_ == Side::kHost ? g2h_ : h2g_; }

  // Non-owning; the doorbells must outlive the channel's use.
  void set_doorbells(Doorbell* wake_me, Doorbell* wake_peer) {
    wake_me_ = wake_me;
    wake_peer_ = wake_peer;
  }
  Doorbell* wake_me() const { return wake_me_; }
  Doorbell* wake_peer() const { return wake_peer_; }

  // After commits on tx(): wake the peer's consumer if it sleeps.
  void notify_sent() {
    if (wake_peer_) tx().notify_consumer(*wake_peer_);
  }
  // After releases on rx(): wake the peer's producer if it waits for space.
  void notify_released() {
    if (wake_peer_) rx().notify_producer(*wake_peer_);
  }
  // Waits for a record on rx() / space on tx(), polling if no doorbell is set.
  Result<bool> wait_readable(WaitPolicy policy, std::chrono::nanoseconds timeout);
  Result<bool> wait_writable(std::uint32_t max_payload, WaitPolicy policy,
                             std::chrono::nanoseconds timeout);

  // Claims, copies `payload` in, commits and notifies. For small control messages; bulk data
  // uses tx().try_claim() and writes in place. Value: false if the ring is full.
  Result<bool> try_send(std::uint16_t type, std::span<const std::byte> payload,
                        std::uint16_t flags = 0);

  bool faulted() { return h2g_.faulted() || g2h_.faulted(); }
  // Host only: resets both rings after a fault (see Ring::reset).
  void reset() {
    h2g_.reset();
    g2h_.reset();
  }

 private:
  Doorbell& waiter();

  std::uint32_t id_;
  Side side_;
  Ring h2g_;
  Ring g2h_;
  Doorbell* wake_me_ = nullptr;
  Doorbell* wake_peer_ = nullptr;
  PollingDoorbell polling_;
};

}  // namespace vitrine::ringbus
