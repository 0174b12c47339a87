// The doorbells of one bus, in the order both sides agree on, so that fds can travel (inherited
// with --doorbell-fds, or in a ringbus handoff) without further description:
//
//   fds[0]      guest: the relay's one event loop sleeps on it; the host rings it for any channel
//   fds[1 + i]  host, channel i: the host thread that waits on channel i sleeps on it
//   (exactly one host fd: shared by every channel; then only one host thread may wait at a time)
//
// No fds at all: every side polls (ivshmem-plain in a VM, where no notification path exists).
// ring_only(): the guest of an ivshmem-doorbell VM polls (no interrupt driver) but rings the host
// with an MMIO write (hv::IvshmemHostDoorbell), which QEMU or vitrine-kvm turn into the host's
// eventfd: without it a host thread sleeping on that eventfd would only see guest records when
// its poll timed out.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "vitrine/rdpmux/error.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/doorbell.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::rdpmux {

class BusDoorbells {
 public:
  // No doorbells: both sides poll.
  BusDoorbells() = default;
  // 1 guest + `host_count` host eventfds (host_count: the bus's channel_count, or 1 to share).
  static Result<BusDoorbells> create_eventfds(std::uint32_t host_count);
  // Takes ownership of received eventfds in the order above (at least 2, or none).
  static Result<BusDoorbells> from_fds(std::vector<ringbus::UniqueFd> fds);
  // Guest side only: nothing to sleep on (polling() stays true, guest() is nullptr), every
  // channel's wake_peer is `host` (shared by all channels).
  static BusDoorbells ring_only(std::unique_ptr<ringbus::Doorbell> host);

  BusDoorbells(BusDoorbells&&) noexcept = default;
  BusDoorbells& operator=(BusDoorbells&&) noexcept = default;

  bool polling() const { return bells_.empty(); }
  // Raw fds in wire order, for a handoff or for inheriting (still owned here).
  std::vector<int> fds() const;
  // Duplicates of every fd (for the other side in the same process, or before a fork).
  Result<std::vector<ringbus::UniqueFd>> dup_fds() const;
  // nullptr when polling.
  ringbus::EventfdDoorbell* guest() const;
  // ring_only()'s doorbell (nullptr otherwise).
  ringbus::Doorbell* host_ringer() const { return host_ringer_.get(); }
  ringbus::EventfdDoorbell* host(std::uint32_t channel) const;
  std::uint32_t host_count() const { return bells_.empty() ? 0 : static_cast<std::uint32_t>(bells_.size() - 1); }

  // Sets wake_me / wake_peer on every channel of `bus` for the bus's side. The doorbells must
  // outlive the bus's use. kInvalidArgument when host doorbells are neither 1 nor one per channel.
  Result<void> apply(ringbus::Bus& bus) const;

 private:
  std::vector<std::unique_ptr<ringbus::EventfdDoorbell>> bells_;
  std::unique_ptr<ringbus::Doorbell> host_ringer_;
};

}  // namespace vitrine::rdpmux
