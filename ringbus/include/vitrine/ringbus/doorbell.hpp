// Doorbells: how one side of a ring wakes the other. The ring decides *whether* to ring
// (wakeup suppression, see Ring::notify_consumer); a Doorbell only knows *how*.
//
// Kinds: EventfdDoorbell (sandbox: both processes share the eventfd), PollingDoorbell (no
// notification channel at all, e.g. ivshmem-plain: the waiter sleeps with growing back-off
// and re-checks). VM backends add ivshmem-doorbell and KVM ioeventfd/irqfd kinds in hv/.
#pragma once

#include <chrono>
#include <cstdint>

#include "vitrine/ringbus/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::ringbus {

enum class WakeStatus : std::uint8_t { kWoken, kTimedOut };

class Doorbell {
 public:
  virtual ~Doorbell() = default;
  // Wakes a waiter (possibly in another process). Any thread; never blocks.
  virtual void ring() = 0;
  // Sleeps until rung or until `timeout` passes. May return kWoken spuriously: the caller
  // re-checks its condition. The waiting side only; one waiter at a time.
  virtual Result<WakeStatus> wait(std::chrono::nanoseconds timeout) = 0;
  // The condition the waiter slept for came true: back-off based kinds start over.
  virtual void reset_backoff() {}
  // A pollable fd that becomes readable when rung, or -1.
  virtual int fd() const { return -1; }
};

// Counting eventfd shared by both sides (EFD_NONBLOCK; the wait polls then drains it).
class EventfdDoorbell final : public Doorbell {
 public:
  static Result<EventfdDoorbell> create();
  explicit EventfdDoorbell(UniqueFd fd) : fd_(std::move(fd)) {}

  void ring() override;
  Result<WakeStatus> wait(std::chrono::nanoseconds timeout) override;
  int fd() const override { return fd_.get(); }
  // Consumes pending rings without sleeping (for event loops that polled fd()).
  void drain();

 private:
  UniqueFd fd_;
};

// No wake-up path: wait() sleeps for a back-off step (1 us doubling to max_step) and returns
// kWoken so that the caller re-checks. ring() does nothing.
class PollingDoorbell final : public Doorbell {
 public:
  explicit PollingDoorbell(std::chrono::nanoseconds max_step = std::chrono::microseconds(500))
      : max_step_(max_step) {}
  void ring() override {}
  Result<WakeStatus> wait(std::chrono::nanoseconds timeout) override;
  void reset_backoff() override { step_ = std::chrono::nanoseconds(1000); }

 private:
  std::chrono::nanoseconds max_step_;
  std::chrono::nanoseconds step_{1000};
};

}  // namespace vitrine::ringbus
