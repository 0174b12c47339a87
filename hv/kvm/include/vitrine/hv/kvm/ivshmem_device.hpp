// An ivshmem-compatible PCI device (QEMU docs/specs/ivshmem-spec.txt): vendor 0x1af4, device
// 0x1110, class 0x0500 (RAM). A guest finds it exactly as under QEMU's ivshmem-plain:
//   BAR0  256 bytes of registers: 0 IntrMask, 4 IntrStatus, 8 IVPosition (this VM's peer id,
//         1; the host is peer 0), 12 Doorbell. A 32-bit Doorbell write reaches the host's
//         eventfd in the kernel (ioeventfd: no exit to this process); any other access traps
//         and is emulated here.
//   BAR2  the bus memory (64-bit, prefetchable), mapped straight into the guest as a KVM
//         memory slot: guest loads and stores touch the host's pages with no exit.
//   INTA  the host's doorbell eventfd drives GSI layout::kGsiIvshmem through irqfd (set up by
//         the VM, independent of BAR placement).
// If the guest moves a BAR (Linux keeps firmware placements; a guest may still write BARs),
// config_changed() moves the memory slot, the register range and the ioeventfd with it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "vitrine/hv/kvm/device_bus.hpp"
#include "vitrine/hv/kvm/pci.hpp"

namespace vitrine::hv::kvm {

// What the device needs from the VM; KvmVm implements it with ioctls, tests with a fake.
class GuestMapper {
 public:
  virtual ~GuestMapper() = default;
  virtual Result<void> map_memory(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size, void* host) = 0;
  virtual Result<void> unmap_memory(std::uint32_t slot) = 0;
  // ioeventfd on a 4-byte MMIO write at `gpa` signalling `fd`.
  virtual Result<void> set_mmio_eventfd(std::uint64_t gpa, int fd, bool assign) = 0;
};

class IvshmemDevice final : public PciDevice, public std::enable_shared_from_this<IvshmemDevice> {
 public:
  static constexpr std::uint16_t kVendor = 0x1af4, kDevice = 0x1110;
  static constexpr std::uint32_t kClassRam = 0x050000;
  static constexpr std::uint64_t kBar0Size = 256;
  static constexpr std::uint32_t kRegIntrMask = 0, kRegIntrStatus = 4, kRegIvPosition = 8, kRegDoorbell = 12;
  static constexpr std::uint32_t kPeerId = 1;

  // `memory`: the bus mapping (size a power of two, >= 4 KiB) that becomes BAR2 at
  // `bar2_address`. `guest_doorbell_fd`: the eventfd the host waits on (-1: none).
  // `memory_slot`: the KVM slot number to use for BAR2.
  static Result<std::shared_ptr<IvshmemDevice>> create(std::span<std::byte> memory, std::uint64_t bar0_address,
                                                       std::uint64_t bar2_address, std::uint8_t irq_line,
                                                       int guest_doorbell_fd, std::uint32_t memory_slot,
                                                       DeviceBus& mmio, GuestMapper& mapper);
  // The destructor leaves the bus and the mapper alone (they may be gone already when the VM
  // is torn down); detach() takes the BARs out of a VM that lives on.
  void detach();

  PciConfigSpace& config() override { return config_; }
  void config_changed() override;
  std::string name() const override { return "ivshmem"; }

  // Places the BARs where the config space says (call once after create(), before vCPUs run).
  Result<void> activate();

  std::uint64_t bar0_mapped_at() const { return bar0_at_; }
  std::uint64_t bar2_mapped_at() const { return bar2_at_; }
  std::uint64_t doorbells_trapped() const { return doorbells_trapped_; }

 private:
  class Registers;
  IvshmemDevice(std::span<std::byte> memory, int doorbell_fd, std::uint32_t slot, DeviceBus& mmio,
                GuestMapper& mapper);
  Result<void> place();
  void ring_host();

  PciConfigSpace config_;
  std::span<std::byte> memory_;
  int doorbell_fd_;
  std::uint32_t slot_;
  DeviceBus& mmio_;
  GuestMapper& mapper_;
  std::shared_ptr<Registers> registers_;
  std::uint64_t bar0_at_ = 0;  // 0: not mapped
  std::uint64_t bar2_at_ = 0;
  std::uint64_t doorbells_trapped_ = 0;
};

}  // namespace vitrine::hv::kvm
