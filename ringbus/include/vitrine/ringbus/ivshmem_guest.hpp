// Guest side of the qemu backend's bus: finds the ivshmem PCI device (vendor 0x1af4, device
// 0x1110) under /sys/bus/pci/devices, maps BAR2 (the bus region) and BAR0 (registers), and
// offers the doorbell pair a guest Channel needs. No kernel module is involved: sysfs
// resource files are mmappable (read() on them gives EIO). Linked statically into guest
// programs (library vitrine::ringbus_ivshmem: std + ringbus headers only). One way a guest
// attaches to the bus, so it lives with the bus (hv/ is the host's VMM and never runs here).
//
// BAR0 registers (QEMU docs/specs/ivshmem-spec "Device Registers"), 32-bit:
//   0 IntrMask   4 IntrStatus   8 IVPosition (own peer id, -1 without server)   12 Doorbell
// A Doorbell write of (peer id << 16 | vector) interrupts that peer: the host is peer 0 and
// listens on vector 0 (see hv/qemu ivshmem_server.hpp).
//
// Guest doorbell: interrupts would need a kernel driver (uio_pci_generic handles INTx only and
// the device is MSI-X by default), so the guest waits by polling with adaptive back-off
// (IvshmemPollDoorbell); the guest -> host direction is a real doorbell (one MMIO write).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "vitrine/ringbus/doorbell.hpp"
#include "vitrine/ringbus/error.hpp"

namespace vitrine::ringbus {

inline constexpr std::uint16_t kIvshmemVendor = 0x1af4;
inline constexpr std::uint16_t kIvshmemDevice = 0x1110;
inline constexpr std::uint32_t kIvshmemHostPeer = 0;  // our server gives the host id 0

class IvshmemGuestDevice {
 public:
  // The first ivshmem device under `sysfs_root` (default /sys/bus/pci/devices).
  static Result<IvshmemGuestDevice> open_first(
      const std::string& sysfs_root = "/sys/bus/pci/devices");
  // The ivshmem device `name` (a PCI address such as 0000:00:04.0; empty: the first).
  static Result<IvshmemGuestDevice> open(const std::string& sysfs_root, const std::string& name);
  IvshmemGuestDevice(IvshmemGuestDevice&&) noexcept;
  IvshmemGuestDevice& operator=(IvshmemGuestDevice&&) = delete;
  ~IvshmemGuestDevice();

  void* shared_memory() const { return bar2_; }
  std::size_t shared_size() const { return bar2_size_; }
  const std::string& pci_address() const { return address_; }
  // Own peer id from IVPosition; -1 for ivshmem-plain (no server).
  std::int32_t own_id() const;
  // Rings `peer`'s `vector` (one MMIO write). No-op without BAR0.
  void ring(std::uint32_t peer, std::uint16_t vector) const;

 private:
  IvshmemGuestDevice() = default;
  std::string address_;
  void* bar2_ = nullptr;
  std::size_t bar2_size_ = 0;
  volatile std::uint32_t* bar0_ = nullptr;
  std::size_t bar0_size_ = 0;
};

// The guest's wake_peer: ring() interrupts the host (peer 0, vector 0); wait() is not used by
// a Channel on its wake_peer and just polls.
class IvshmemHostDoorbell final : public ringbus::Doorbell {
 public:
  explicit IvshmemHostDoorbell(const IvshmemGuestDevice& device) : device_(device) {}
  void ring() override { device_.ring(kIvshmemHostPeer, 0); }
  Result<ringbus::WakeStatus> wait(std::chrono::nanoseconds timeout) override;

 private:
  const IvshmemGuestDevice& device_;
};

// The guest's wake_me: adaptive back-off. Spins (cpu pause) for the first `spin` after a
// reset, then sleeps 1 us doubling to `max_step`, and starts over when reset_backoff() says
// the condition came true. Under TCG a spin costs host CPU that the VM could use, so the
// spin phase is short.
class IvshmemPollDoorbell final : public ringbus::Doorbell {
 public:
  explicit IvshmemPollDoorbell(std::chrono::nanoseconds spin = std::chrono::microseconds(50),
                               std::chrono::nanoseconds max_step = std::chrono::milliseconds(1))
      : spin_(spin), max_step_(max_step) {}
  void ring() override {}
  Result<ringbus::WakeStatus> wait(std::chrono::nanoseconds timeout) override;
  void reset_backoff() override {
    step_ = std::chrono::nanoseconds(0);
    spun_ = std::chrono::nanoseconds(0);
  }

 private:
  std::chrono::nanoseconds spin_;
  std::chrono::nanoseconds max_step_;
  std::chrono::nanoseconds step_{0};
  std::chrono::nanoseconds spun_{0};
};

}  // namespace vitrine::ringbus
