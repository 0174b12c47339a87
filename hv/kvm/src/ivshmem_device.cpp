#include "vitrine/hv/kvm/ivshmem_device.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <fmt/format.h>

#include "vitrine/base/log.hpp"

namespace vitrine::hv::kvm {

// BAR0 as seen through MMIO exits (only accesses the ioeventfd did not take).
class IvshmemDevice::Registers final : public BusDevice {
 public:
  explicit Registers(IvshmemDevice& owner) : owner_(owner) {}
  void read(std::uint64_t offset, std::span<std::uint8_t> data) override {
    std::uint32_t v = 0;
    switch (offset) {
      case kRegIntrMask: v = mask_; break;
      case kRegIntrStatus: v = status_; status_ = 0; break;  // spec: reading IntrStatus clears it
      case kRegIvPosition: v = kPeerId; break;
      default: v = 0; break;  // Doorbell is write-only; the rest of the 256 bytes is reserved
    }
    std::memset(data.data(), 0, data.size());
    std::memcpy(data.data(), &v, std::min<std::size_t>(data.size(), 4));
  }
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    std::uint32_t v = 0;
    std::memcpy(&v, data.data(), std::min<std::size_t>(data.size(), 4));
    if (offset == kRegIntrMask) mask_ = v;
    if (offset == kRegIntrStatus) status_ = v;
    if (offset >= kRegDoorbell && offset < kRegDoorbell + 4) owner_.ring_host();
  }
  std::string name() const override { return "ivshmem-bar0"; }

 private:
  IvshmemDevice& owner_;
  std::uint32_t mask_ = 0;
  std::uint32_t status_ = 0;
};

IvshmemDevice::IvshmemDevice(std::span<std::byte> memory, int doorbell_fd, std::uint32_t slot, DeviceBus& mmio,
                             GuestMapper& mapper)
    : config_(kVendor, kDevice, kClassRam, 1),
      memory_(memory),
      doorbell_fd_(doorbell_fd),
      slot_(slot),
      mmio_(mmio),
      mapper_(mapper) {}

Result<std::shared_ptr<IvshmemDevice>> IvshmemDevice::create(std::span<std::byte> memory, std::uint64_t bar0_address,
                                                             std::uint64_t bar2_address, std::uint8_t irq_line,
                                                             int guest_doorbell_fd, std::uint32_t memory_slot,
                                                             DeviceBus& mmio, GuestMapper& mapper) {
  if (memory.size() < 4096 || !std::has_single_bit(memory.size())) {
    return std::unexpected(invalid(fmt::format("ivshmem: shared memory of {} bytes is not a power of two >= 4096",
                                               memory.size())));
  }
  if ((bar2_address & (memory.size() - 1)) != 0 || (bar0_address & (kBar0Size - 1)) != 0) {
    return std::unexpected(invalid(fmt::format("ivshmem: BAR addresses {:#x}/{:#x} not aligned to their sizes",
                                               bar0_address, bar2_address)));
  }
  std::shared_ptr<IvshmemDevice> d(new IvshmemDevice(memory, guest_doorbell_fd, memory_slot, mmio, mapper));
  d->registers_ = std::make_shared<Registers>(*d);
  d->config_.set_subsystem(kVendor, 0x1100);
  d->config_.set_interrupt(1, irq_line);  // INTA
  d->config_.add_mem_bar(0, bar0_address, kBar0Size, false, false);
  d->config_.add_mem_bar(2, bar2_address, memory.size(), true, true);
  // We play firmware: BARs assigned and memory decoding on, as SeaBIOS leaves QEMU's device, so
  // a guest can mmap the sysfs resource files without a driver enabling the device first.
  d->config_.write(pci::kCommand, 2, pci::kCommandMemory);
  return d;
}

void IvshmemDevice::detach() {
  if (bar0_at_ != 0) {
    mmio_.remove(bar0_at_);
    if (doorbell_fd_ >= 0) (void)mapper_.set_mmio_eventfd(bar0_at_ + kRegDoorbell, doorbell_fd_, false);
    bar0_at_ = 0;
  }
  if (bar2_at_ != 0) {
    (void)mapper_.unmap_memory(slot_);
    bar2_at_ = 0;
  }
}

Result<void> IvshmemDevice::activate() { return place(); }

void IvshmemDevice::config_changed() {
  if (auto r = place(); !r) base::log_warn("ivshmem: guest BAR change not applied: {}", r.error().message);
}

Result<void> IvshmemDevice::place() {
  const bool on = config_.memory_enabled();
  std::uint64_t want0 = on ? config_.bar_address(0) : 0;
  std::uint64_t want2 = on ? config_.bar_address(2) : 0;
  if (want0 != bar0_at_) {
    if (bar0_at_ != 0) {
      mmio_.remove(bar0_at_);
      if (doorbell_fd_ >= 0) (void)mapper_.set_mmio_eventfd(bar0_at_ + kRegDoorbell, doorbell_fd_, false);
      bar0_at_ = 0;
    }
    if (want0 != 0) {
      if (auto r = mmio_.insert(registers_, want0, kBar0Size); !r) return r;
      if (doorbell_fd_ >= 0) {
        if (auto r = mapper_.set_mmio_eventfd(want0 + kRegDoorbell, doorbell_fd_, true); !r) {
          mmio_.remove(want0);
          return r;
        }
      }
      bar0_at_ = want0;
    }
  }
  if (want2 != bar2_at_) {
    if (bar2_at_ != 0) {
      if (auto r = mapper_.unmap_memory(slot_); !r) return r;
      bar2_at_ = 0;
    }
    if (want2 != 0) {
      if (auto r = mapper_.map_memory(slot_, want2, memory_.size(), memory_.data()); !r) return r;
      bar2_at_ = want2;
    }
  }
  return {};
}

void IvshmemDevice::ring_host() {
  ++doorbells_trapped_;
  if (doorbell_fd_ < 0) return;
  const std::uint64_t one = 1;
  // eventfd write only fails on counter overflow, which a reader draining it never reaches.
  (void)::write(doorbell_fd_, &one, sizeof(one));
}

}  // namespace vitrine::hv::kvm
