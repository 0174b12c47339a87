#include "vitrine/hv/kvm/pci.hpp"

#include <bit>
#include <cassert>
#include <cstring>
#include <fmt/format.h>

namespace vitrine::hv::kvm {

PciConfigSpace::PciConfigSpace(std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code,
                               std::uint8_t revision) {
  std::memcpy(&bytes_[pci::kVendorId], &vendor, 2);
  std::memcpy(&bytes_[pci::kDeviceId], &device, 2);
  bytes_[pci::kRevision] = revision;
  bytes_[pci::kClassProg] = static_cast<std::uint8_t>(class_code);
  bytes_[pci::kClassProg + 1] = static_cast<std::uint8_t>(class_code >> 8);
  bytes_[pci::kClassProg + 2] = static_cast<std::uint8_t>(class_code >> 16);
  // Command: I/O, memory, bus master and INTx disable are writable; everything else reads back
  // what the device set.
  writable_[pci::kCommand] = 0x07;
  writable_[pci::kCommand + 1] = 0x04;
  writable_[pci::kInterruptLine] = 0xff;
  writable_[0x0c] = 0xff;  // cache line size
  writable_[0x0d] = 0xff;  // latency timer
}

void PciConfigSpace::set_subsystem(std::uint16_t vendor, std::uint16_t id) {
  std::memcpy(&bytes_[pci::kSubsystemVendor], &vendor, 2);
  std::memcpy(&bytes_[pci::kSubsystemId], &id, 2);
}

void PciConfigSpace::set_interrupt(std::uint8_t pin, std::uint8_t line) {
  bytes_[pci::kInterruptPin] = pin;
  bytes_[pci::kInterruptLine] = line;
}

void PciConfigSpace::add_mem_bar(unsigned index, std::uint64_t address, std::uint64_t size, bool is_64bit,
                                 bool prefetchable) {
  assert(index + (is_64bit ? 1u : 0u) < pci::kBars && std::has_single_bit(size) && size >= 16);
  assert((address & (size - 1)) == 0);
  bar_size_[index] = size;
  bar_64_[index] = is_64bit;
  const std::uint64_t flags = (is_64bit ? pci::kBarMem64 : 0) | (prefetchable ? pci::kBarPrefetch : 0);
  const std::uint64_t value = address | flags;
  // Address bits below the size are hard-wired to zero: writing all-ones reads back ~(size-1),
  // which is how the guest learns the size.
  const std::uint64_t mask = ~(size - 1) & ~std::uint64_t{0xf};
  const unsigned words = is_64bit ? 2 : 1;
  for (unsigned w = 0; w < words; ++w) {
    const std::uint32_t v = static_cast<std::uint32_t>(value >> (32 * w));
    const std::uint32_t m = static_cast<std::uint32_t>(mask >> (32 * w));
    std::memcpy(&bytes_[pci::kBar0 + 4 * (index + w)], &v, 4);
    std::memcpy(&writable_[pci::kBar0 + 4 * (index + w)], &m, 4);
  }
}

std::uint32_t PciConfigSpace::read(std::uint16_t offset, unsigned size) const {
  if (offset >= 256 || (size != 1 && size != 2 && size != 4) || (offset & 3u) + size > 4) return 0xffffffffu;
  std::uint32_t v = 0;
  std::memcpy(&v, &bytes_[offset], size);
  return v;
}

void PciConfigSpace::write(std::uint16_t offset, unsigned size, std::uint32_t value) {
  if (offset >= 256 || (size != 1 && size != 2 && size != 4) || (offset & 3u) + size > 4) return;
  for (unsigned i = 0; i < size; ++i) {
    const std::uint8_t b = static_cast<std::uint8_t>(value >> (8 * i));
    const std::uint8_t m = writable_[offset + i];
    bytes_[offset + i] = static_cast<std::uint8_t>((bytes_[offset + i] & ~m) | (b & m));
  }
}

std::uint64_t PciConfigSpace::bar_address(unsigned index) const {
  if (index >= pci::kBars || bar_size_[index] == 0) return 0;
  std::uint64_t v = read(static_cast<std::uint16_t>(pci::kBar0 + 4 * index), 4) & ~0xfull;
  if (bar_64_[index]) v |= std::uint64_t{read(static_cast<std::uint16_t>(pci::kBar0 + 4 * (index + 1)), 4)} << 32;
  const std::uint64_t all_ones = ~(bar_size_[index] - 1) & (bar_64_[index] ? ~0xfull : 0xfffffff0ull);
  return v == all_ones ? 0 : v;
}

namespace {
// Slot 0: the host bridge's own function (Intel 440FX-like ids; class 0x0600 host bridge).
class HostBridgeFunction final : public PciDevice {
 public:
  HostBridgeFunction() : config_(0x8086, 0x1237, 0x060000, 2) {}
  PciConfigSpace& config() override { return config_; }
  std::string name() const override { return "host-bridge"; }

 private:
  PciConfigSpace config_;
};
}  // namespace

PciHostBridge::PciHostBridge() { slots_[0] = std::make_shared<HostBridgeFunction>(); }

Result<void> PciHostBridge::attach(std::uint8_t slot, std::shared_ptr<PciDevice> device) {
  if (slot >= slots_.size()) return std::unexpected(invalid(fmt::format("PCI slot {} out of range", slot)));
  if (slots_[slot]) {
    return std::unexpected(invalid(fmt::format("PCI slot {} already holds {}", slot, slots_[slot]->name())));
  }
  slots_[slot] = std::move(device);
  return {};
}

PciDevice* PciHostBridge::selected() const {
  if ((address_ & 0x80000000u) == 0) return nullptr;  // enable bit clear: no config cycle
  const unsigned bus = (address_ >> 16) & 0xff, slot = (address_ >> 11) & 0x1f, fn = (address_ >> 8) & 0x7;
  if (bus != 0 || fn != 0) return nullptr;
  return slots_[slot].get();
}

void PciHostBridge::read(std::uint64_t offset, std::span<std::uint8_t> data) {
  std::uint32_t v = 0xffffffffu;
  if (offset == 0 && data.size() == 4) {
    v = address_;
  } else if (offset >= 4 && offset + data.size() <= 8) {
    if (PciDevice* d = selected()) {
      v = d->config().read(static_cast<std::uint16_t>((address_ & 0xfc) + (offset - 4)),
                           static_cast<unsigned>(data.size()));
    }
  }
  std::memcpy(data.data(), &v, std::min<std::size_t>(data.size(), 4));
}

void PciHostBridge::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  std::uint32_t v = 0;
  std::memcpy(&v, data.data(), std::min<std::size_t>(data.size(), 4));
  if (offset == 0 && data.size() == 4) {
    // Bits 1:0 are reserved (type-0 cycles); byte writes to 0xcf8..0xcfb are the obsolete conf2
    // probe and are ignored, so Linux's pci_check_type1 sees conf1.
    address_ = v & ~3u;
  } else if (offset >= 4 && offset + data.size() <= 8) {
    if (PciDevice* d = selected()) {
      d->config().write(static_cast<std::uint16_t>((address_ & 0xfc) + (offset - 4)),
                        static_cast<unsigned>(data.size()), v);
      d->config_changed();
    }
  }
}

}  // namespace vitrine::hv::kvm
