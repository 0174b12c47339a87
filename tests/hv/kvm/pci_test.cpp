// PCI configuration space through the conf1 ports, BAR sizing, and the ivshmem device's BAR
// placement with a fake GuestMapper.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "vitrine/hv/kvm/ivshmem_device.hpp"
#include "vitrine/hv/kvm/layout.hpp"
#include "vitrine/hv/kvm/pci.hpp"

namespace kvm = vitrine::hv::kvm;
namespace pci = vitrine::hv::kvm::pci;
namespace layout = vitrine::hv::kvm::layout;

namespace {

struct FakeMapper final : kvm::GuestMapper {
  std::vector<std::string> calls;
  std::uint64_t slot_gpa = 0;
  std::uint64_t eventfd_gpa = 0;
  kvm::Result<void> map_memory(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size, void*) override {
    calls.push_back("map " + std::to_string(slot) + " " + std::to_string(gpa) + " " + std::to_string(size));
    slot_gpa = gpa;
    return {};
  }
  kvm::Result<void> unmap_memory(std::uint32_t slot) override {
    calls.push_back("unmap " + std::to_string(slot));
    slot_gpa = 0;
    return {};
  }
  kvm::Result<void> set_mmio_eventfd(std::uint64_t gpa, int, bool assign) override {
    calls.push_back(std::string(assign ? "ioeventfd+ " : "ioeventfd- ") + std::to_string(gpa));
    eventfd_gpa = assign ? gpa : 0;
    return {};
  }
};

// Config access through the conf1 ports, as a guest does it.
struct Conf1 {
  kvm::PciHostBridge& bridge;
  std::uint32_t read(std::uint8_t slot, std::uint8_t reg, unsigned size = 4) {
    const std::uint32_t a = kvm::PciHostBridge::address(0, slot, 0, reg);
    bridge.write(0, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&a), 4));
    std::uint32_t v = 0;
    bridge.read(4 + (reg & 3), std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&v), size));
    return v;
  }
  void write(std::uint8_t slot, std::uint8_t reg, std::uint32_t v, unsigned size = 4) {
    const std::uint32_t a = kvm::PciHostBridge::address(0, slot, 0, reg);
    bridge.write(0, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&a), 4));
    bridge.write(4 + (reg & 3), std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&v), size));
  }
};

}  // namespace

TEST(PciConfigSpace, IdsAndReadOnlyFields) {
  kvm::PciConfigSpace c(0x1af4, 0x1110, 0x050000, 1);
  EXPECT_EQ(c.read(pci::kVendorId, 2), 0x1af4u);
  EXPECT_EQ(c.read(pci::kDeviceId, 2), 0x1110u);
  EXPECT_EQ(c.read(pci::kVendorId, 4), 0x11101af4u);
  EXPECT_EQ(c.read(0x08, 4), 0x05000001u);  // class, subclass, prog-if, revision
  c.write(pci::kVendorId, 4, 0xffffffff);   // read-only
  EXPECT_EQ(c.read(pci::kVendorId, 4), 0x11101af4u);
  c.write(pci::kCommand, 2, 0xffff);  // only the defined command bits stick
  EXPECT_EQ(c.read(pci::kCommand, 2), 0x0407u);
  EXPECT_EQ(c.read(0x3, 4), 0xffffffffu);   // crosses a dword: invalid
  EXPECT_EQ(c.read(300, 1), 0xffffffffu);
}

TEST(PciConfigSpace, Bar32SizingAndRestore) {
  kvm::PciConfigSpace c(1, 2, 0, 0);
  c.add_mem_bar(0, 0xc0000000, 256, false, false);
  EXPECT_EQ(c.read(pci::kBar0, 4), 0xc0000000u);
  c.write(pci::kBar0, 4, 0xffffffff);
  EXPECT_EQ(c.read(pci::kBar0, 4), 0xffffff00u);  // size = ~value + 1 = 256
  EXPECT_EQ(c.bar_address(0), 0u);                // sizing pattern, not an address
  c.write(pci::kBar0, 4, 0xc0000000);
  EXPECT_EQ(c.bar_address(0), 0xc0000000u);
}

TEST(PciConfigSpace, Bar64SizingAcrossTwoRegisters) {
  kvm::PciConfigSpace c(1, 2, 0, 0);
  c.add_mem_bar(2, 0x100000000ull, 1ull << 20, true, true);
  EXPECT_EQ(c.read(pci::kBar0 + 8, 4), 0x0000000cu);  // 64-bit | prefetchable, low address 0
  EXPECT_EQ(c.read(pci::kBar0 + 12, 4), 0x1u);
  c.write(pci::kBar0 + 8, 4, 0xffffffff);
  c.write(pci::kBar0 + 12, 4, 0xffffffff);
  EXPECT_EQ(c.read(pci::kBar0 + 8, 4), 0xfff0000cu);
  EXPECT_EQ(c.read(pci::kBar0 + 12, 4), 0xffffffffu);
  const std::uint64_t sized =
      (std::uint64_t{c.read(pci::kBar0 + 12, 4)} << 32) | (c.read(pci::kBar0 + 8, 4) & ~0xfu);
  EXPECT_EQ(~sized + 1, 1ull << 20);
  c.write(pci::kBar0 + 8, 4, 0x00000000);
  c.write(pci::kBar0 + 12, 4, 0x2);
  EXPECT_EQ(c.bar_address(2), 0x200000000ull);
}

TEST(PciHostBridge, Conf1ProbeAndEnumeration) {
  kvm::PciHostBridge bridge;
  Conf1 conf{bridge};
  // Linux's pci_check_type1: the address register reads back what was written.
  const std::uint32_t a = 0x80000000;
  bridge.write(0, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&a), 4));
  std::uint32_t back = 0;
  bridge.read(0, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&back), 4));
  EXPECT_EQ(back, 0x80000000u);
  // Slot 0 is a host bridge (class 06/00), other slots are empty (all-ones).
  EXPECT_EQ(conf.read(0, 0x08) >> 16, 0x0600u);
  EXPECT_EQ(conf.read(5, 0), 0xffffffffu);
  EXPECT_EQ(conf.read(0, 0, 2), 0x8086u);
  EXPECT_EQ(conf.read(0, 2, 2), 0x1237u);
  // Enable bit clear: no config cycle.
  const std::uint32_t off = 0;
  bridge.write(0, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&off), 4));
  std::uint32_t v = 0;
  bridge.read(4, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&v), 4));
  EXPECT_EQ(v, 0xffffffffu);
}

TEST(Ivshmem, IdentityBarsAndPlacement) {
  std::vector<std::byte> mem(1 << 16);
  kvm::DeviceBus mmio("mmio");
  FakeMapper mapper;
  const int efd = ::eventfd(0, EFD_NONBLOCK);
  auto dev = kvm::IvshmemDevice::create(mem, layout::kIvshmemBar0, layout::kPciMmio64Start, 16, efd, 1, mmio, mapper);
  ASSERT_TRUE(dev) << dev.error().message;
  ASSERT_TRUE((*dev)->activate());
  kvm::PciHostBridge bridge;
  ASSERT_TRUE(bridge.attach(1, *dev));
  EXPECT_FALSE(bridge.attach(1, *dev));
  Conf1 conf{bridge};
  EXPECT_EQ(conf.read(1, 0), 0x11101af4u);
  EXPECT_EQ(conf.read(1, 0x2c), 0x11001af4u);
  EXPECT_EQ(conf.read(1, 0x3c) >> 8 & 0xff, 1u);  // INTA
  EXPECT_EQ(mapper.slot_gpa, layout::kPciMmio64Start);
  EXPECT_EQ(mapper.eventfd_gpa, layout::kIvshmemBar0 + 12);

  // Linux's BAR sizing: memory decoding off, all-ones, read, restore, decoding on.
  conf.write(1, pci::kCommand, 0, 2);
  EXPECT_EQ(mapper.slot_gpa, 0u);
  conf.write(1, 0x18, 0xffffffff);
  conf.write(1, 0x1c, 0xffffffff);
  EXPECT_EQ(conf.read(1, 0x18) & ~0xfu, 0xffff0000u);  // 64 KiB
  conf.write(1, 0x18, 0);
  conf.write(1, 0x1c, 1);
  conf.write(1, pci::kCommand, pci::kCommandMemory, 2);
  EXPECT_EQ(mapper.slot_gpa, layout::kPciMmio64Start);

  // The guest moves BAR0: the register range and the ioeventfd follow.
  conf.write(1, 0x10, 0xd0000000);
  EXPECT_EQ((*dev)->bar0_mapped_at(), 0xd0000000u);
  EXPECT_EQ(mapper.eventfd_gpa, 0xd000000cu);
  std::uint32_t pos = 0;
  EXPECT_TRUE(mmio.read(0xd0000008, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&pos), 4)));
  EXPECT_EQ(pos, kvm::IvshmemDevice::kPeerId);
  EXPECT_FALSE(mmio.read(layout::kIvshmemBar0 + 8, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&pos), 4)));

  // A doorbell write that reaches the device (not taken by the ioeventfd) still rings the host.
  const std::uint16_t half = 1;
  EXPECT_TRUE(mmio.write(0xd000000c, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&half), 2)));
  std::uint64_t count = 0;
  EXPECT_EQ(::read(efd, &count, 8), 8);
  EXPECT_EQ(count, 1u);
  (*dev)->detach();
  EXPECT_EQ(mapper.slot_gpa, 0u);
  EXPECT_EQ(mapper.eventfd_gpa, 0u);
  EXPECT_FALSE(mmio.read(0xd0000008, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&pos), 4)));
  ::close(efd);
}

TEST(Ivshmem, RejectsBadSizesAndAlignment) {
  std::vector<std::byte> odd(12288);
  kvm::DeviceBus mmio("mmio");
  FakeMapper mapper;
  EXPECT_FALSE(kvm::IvshmemDevice::create(odd, layout::kIvshmemBar0, layout::kPciMmio64Start, 16, -1, 1, mmio, mapper));
  std::vector<std::byte> mem(8192);
  EXPECT_FALSE(kvm::IvshmemDevice::create(mem, layout::kIvshmemBar0, layout::kPciMmio64Start + 4096, 16, -1, 1, mmio,
                                          mapper));
}
