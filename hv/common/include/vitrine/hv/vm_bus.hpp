// VmBus: the host's end of one VM's bus: the region (a memfd whose size is the config's
// power-of-two bus.size, so that it can be an ivshmem BAR) and the two doorbell eventfds.
//
// Doorbell convention (ivshmem peers, sandbox env vars); handoffs carry them in
// rdpmux::BusDoorbells wire order: wake_guest first, then wake_host (one, shared by channels).
//   wake_guest  the guest sleeps on it; the host rings it   (ivshmem: the VM's vector 0)
//   wake_host   the host sleeps on it; the guest rings it   (ivshmem: peer 0, vector 0)
#pragma once

#include <cstdint>
#include <memory>

#include "vitrine/hv/vm_config.hpp"
#include "vitrine/hv/error.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/doorbell.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::hv {


// The fds that travel to vitrine-vmm (ringbus handoff) and on into the VM.
struct BusFds {
  ringbus::UniqueFd region;
  std::uint64_t region_size = 0;
  ringbus::UniqueFd wake_host;
  ringbus::UniqueFd wake_guest;
};

class VmBus {
 public:
  // Host: a sealed memfd of config.bus_size bytes holding a formatted region with the config's
  // channels; channels get the doorbells (host side: wake_me = wake_host).
  static Result<VmBus> create(const VmConfig& config);

  ringbus::Bus& bus() { return bus_; }
  ringbus::EventfdDoorbell& wake_host() { return *wake_host_; }
  ringbus::EventfdDoorbell& wake_guest() { return *wake_guest_; }
  int region_fd() const { return region_.get(); }
  std::uint64_t region_size() const { return region_size_; }
  // Duplicates of the fds, for a handoff or a child process.
  Result<BusFds> dup_fds() const;

 private:
  VmBus(ringbus::Bus bus, ringbus::UniqueFd region, std::uint64_t size, ringbus::EventfdDoorbell host,
        ringbus::EventfdDoorbell guest);

  ringbus::Bus bus_;
  ringbus::UniqueFd region_;
  std::uint64_t region_size_;
  // Heap-held: the channels keep pointers to them across moves of VmBus.
  std::unique_ptr<ringbus::EventfdDoorbell> wake_host_;
  std::unique_ptr<ringbus::EventfdDoorbell> wake_guest_;
};

// fcntl(F_DUPFD_CLOEXEC) into a UniqueFd.
Result<ringbus::UniqueFd> dup_fd(int fd);

}  // namespace vitrine::hv
