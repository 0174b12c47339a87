// PCI: a type-0 configuration space with BAR sizing (PCI Local Bus 3.0, 6.2.5.1), the devices
// that own one, and the host bridge on the conf1 ports (0xcf8 address, 0xcfc..0xcff data).
// Only bus 0, function 0 of each slot exists; other addresses read as all-ones (no device).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "vitrine/hv/kvm/device_bus.hpp"

namespace vitrine::hv::kvm {

namespace pci {
inline constexpr std::uint16_t kVendorId = 0x00, kDeviceId = 0x02, kCommand = 0x04, kStatus = 0x06,
                               kRevision = 0x08, kClassProg = 0x09, kHeaderType = 0x0e, kBar0 = 0x10,
                               kSubsystemVendor = 0x2c, kSubsystemId = 0x2e, kInterruptLine = 0x3c,
                               kInterruptPin = 0x3d;
inline constexpr std::uint16_t kCommandIo = 0x1, kCommandMemory = 0x2, kCommandMaster = 0x4,
                               kCommandIntxDisable = 0x400;
inline constexpr std::uint32_t kBarMem64 = 0x4, kBarPrefetch = 0x8;
inline constexpr unsigned kBars = 6;
}  // namespace pci

// 256 bytes of type-0 header with writable-bit masks. BARs are memory BARs of a power-of-two
// size; a 64-bit BAR uses two slots.
class PciConfigSpace {
 public:
  PciConfigSpace(std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code, std::uint8_t revision);

  void set_subsystem(std::uint16_t vendor, std::uint16_t id);
  void set_interrupt(std::uint8_t pin, std::uint8_t line);
  // Declares BAR `index` (64-bit: index and index + 1) at `address`, `size` a power of two >= 16.
  void add_mem_bar(unsigned index, std::uint64_t address, std::uint64_t size, bool is_64bit, bool prefetchable);

  // Dword-aligned register access; `offset` 0..255, size 1, 2 or 4, not crossing a dword.
  std::uint32_t read(std::uint16_t offset, unsigned size) const;
  void write(std::uint16_t offset, unsigned size, std::uint32_t value);

  // The address BAR `index` decodes now (the guest may have moved it), 0 if the guest wrote
  // all-ones (sizing) and not yet an address.
  std::uint64_t bar_address(unsigned index) const;
  std::uint64_t bar_size(unsigned index) const { return bar_size_[index]; }
  bool memory_enabled() const { return (read(pci::kCommand, 2) & pci::kCommandMemory) != 0; }

 private:
  std::array<std::uint8_t, 256> bytes_{};
  std::array<std::uint8_t, 256> writable_{};  // per-bit write masks
  std::array<std::uint64_t, pci::kBars> bar_size_{};
  std::array<bool, pci::kBars> bar_64_{};
};

class PciDevice {
 public:
  virtual ~PciDevice() = default;
  virtual PciConfigSpace& config() = 0;
  // Called after every config write (BAR moves, command register): the device re-places its
  // BARs. Runs on a vCPU thread with the host bridge's lock held.
  virtual void config_changed() {}
  virtual std::string name() const = 0;
};

// The conf1 mechanism. Slot 0 is the bridge itself (a host bridge class device: Linux's
// pci_sanity_check looks for one before trusting conf1).
class PciHostBridge final : public BusDevice {
 public:
  PciHostBridge();
  // Error if the slot is taken or out of range.
  Result<void> attach(std::uint8_t slot, std::shared_ptr<PciDevice> device);

  void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  std::string name() const override { return "pci-host-bridge"; }

  static constexpr std::uint32_t address(std::uint8_t bus, std::uint8_t slot, std::uint8_t fn, std::uint8_t reg) {
    return 0x80000000u | (std::uint32_t{bus} << 16) | (std::uint32_t{slot} << 11) | (std::uint32_t{fn} << 8) |
           (reg & 0xfcu);
  }

 private:
  PciDevice* selected() const;
  std::uint32_t address_ = 0;
  std::array<std::shared_ptr<PciDevice>, 32> slots_{};
};

}  // namespace vitrine::hv::kvm
