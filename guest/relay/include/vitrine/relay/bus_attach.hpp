// How vitrine-guest reaches the bus (platform part):
//  - inherited fds (sandbox backend): the region's fd and the doorbell eventfds;
//  - a ringbus handoff socket (SCM_RIGHTS, see ringbus/handoff.hpp);
//  - a file, e.g. /dev/shm/NAME for development (doorbells optional);
//  - an ivshmem PCI device in a VM (vendor 0x1af4, device 0x1110): BAR2 (the bus) and BAR0
//    (registers) mmapped through /sys/bus/pci/devices/<bdf>/resource{2,0}. The relay polls
//    (no interrupt driver); with a doorbell server (ivshmem-doorbell, vitrine-kvm: IVPosition
//    >= 0) it rings the host through BAR0's Doorbell register, else (ivshmem-plain) both poll.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vitrine/ringbus/ivshmem_guest.hpp"
#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/error.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::relay {

using rdpmux::Result;

struct IvshmemDevice {
  std::string bdf;        // e.g. 0000:00:04.0
  std::string resource2;  // path of the BAR2 file
  std::uint64_t size = 0; // bytes of BAR2
};

// Ivshmem devices under <sysfs_root>/bus/pci/devices, sorted by address. Devices whose
// vendor/device files are unreadable are skipped; a missing devices folder is an empty list.
Result<std::vector<IvshmemDevice>> find_ivshmem_devices(const std::string& sysfs_root = "/sys");

struct AttachedBus {
  // ivshmem: owns the BAR mappings the bus and the doorbell use (declared first: freed last).
  std::unique_ptr<ringbus::IvshmemGuestDevice> device;
  ringbus::Bus bus;
  rdpmux::BusDoorbells doorbells;
  std::string description;
};

// Takes ownership of the fds.
Result<std::unique_ptr<AttachedBus>> attach_inherited(int bus_fd, const std::vector<int>& doorbell_fds);
Result<std::unique_ptr<AttachedBus>> attach_handoff(int socket_fd, std::chrono::milliseconds timeout);
Result<std::unique_ptr<AttachedBus>> attach_file(const std::string& path, const std::vector<int>& doorbell_fds);
// `bdf` empty: the first ivshmem device found.
Result<std::unique_ptr<AttachedBus>> attach_ivshmem(const std::string& sysfs_root, const std::string& bdf);

// "3,4,5" -> {3, 4, 5}; kInvalidArgument on anything else.
Result<std::vector<int>> parse_fd_list(const std::string& text);

}  // namespace vitrine::relay
