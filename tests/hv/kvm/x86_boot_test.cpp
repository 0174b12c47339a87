// Boot tables: identity map, GDT, long-mode registers, MP table checksums and entries.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vitrine/hv/kvm/layout.hpp"
#include "vitrine/hv/kvm/x86_boot.hpp"

namespace kvm = vitrine::hv::kvm;
namespace layout = vitrine::hv::kvm::layout;

namespace {
template <typename T>
T get(const std::vector<std::byte>& b, std::size_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}
}  // namespace

TEST(X86Boot, IdentityMapsFourGiBWithTwoMiBPages) {
  std::vector<std::byte> ram(2 << 20);
  ASSERT_TRUE(kvm::write_boot_tables(ram));
  const auto pml4 = get<std::uint64_t>(ram, layout::kPml4Start);
  EXPECT_EQ(pml4 & ~0xfffull, layout::kPdptStart);
  EXPECT_EQ(pml4 & 3, 3u);
  // Walk a few addresses: GPA -> PDPT -> PD -> 2 MiB page base.
  for (std::uint64_t gpa : {0x0ull, 0x100000ull, 0x7fffffffull, 0xfee00000ull, 0xffffffffull}) {
    const auto pdpte = get<std::uint64_t>(ram, layout::kPdptStart + 8 * (gpa >> 30));
    const auto pde = get<std::uint64_t>(ram, (pdpte & ~0xfffull) + 8 * ((gpa >> 21) & 511));
    EXPECT_NE(pde & 0x80, 0u) << "2 MiB page bit";
    EXPECT_EQ(pde & ~0x1fffffull, gpa & ~0x1fffffull) << std::hex << gpa;
  }
}

TEST(X86Boot, GdtAndSregsFollowTheBootProtocol) {
  std::vector<std::byte> ram(2 << 20);
  ASSERT_TRUE(kvm::write_boot_tables(ram));
  const auto code = get<std::uint64_t>(ram, layout::kGdtStart + kvm::kBootCs);
  EXPECT_EQ(code, 0x00af9b000000ffffull);  // L=1, present, execute/read
  kvm_sregs s{};
  kvm::setup_long_mode_sregs(s);
  EXPECT_EQ(s.cs.selector, 0x10);
  EXPECT_EQ(s.ds.selector, 0x18);
  EXPECT_EQ(s.cs.l, 1);
  EXPECT_EQ(s.cs.db, 0);
  EXPECT_EQ(s.cs.limit, 0xffffffffu);
  EXPECT_EQ(s.ds.type, 3);
  EXPECT_EQ(s.cr3, layout::kPml4Start);
  EXPECT_NE(s.cr0 & 0x80000001ull, 0u);
  EXPECT_NE(s.cr4 & 0x20, 0u);
  EXPECT_EQ(s.efer & 0x500, 0x500u);
  const kvm_regs r = kvm::boot_regs(0x100200);
  EXPECT_EQ(r.rip, 0x100200u);
  EXPECT_EQ(r.rsi, layout::kZeroPage);
  EXPECT_EQ(r.rflags, 2u);
}

TEST(X86Boot, MpTableChecksumsAndEntries) {
  std::vector<std::byte> ram(2 << 20);
  ASSERT_TRUE(kvm::write_mp_table(ram, 4, layout::kPciSlotIvshmem, layout::kGsiIvshmem));
  std::span<const std::byte> fp(ram.data() + layout::kEbdaStart, 16);
  EXPECT_EQ(std::memcmp(fp.data(), "_MP_", 4), 0);
  EXPECT_EQ(kvm::byte_sum(fp), 0);
  const auto table = get<std::uint32_t>(ram, layout::kEbdaStart + 4);
  EXPECT_EQ(std::memcmp(ram.data() + table, "PCMP", 4), 0);
  const auto len = get<std::uint16_t>(ram, table + 4);
  EXPECT_EQ(kvm::byte_sum(std::span<const std::byte>(ram.data() + table, len)), 0);
  EXPECT_LE(table + len, layout::kHighRamStart);
  const auto count = get<std::uint16_t>(ram, table + 34);
  // Walk the entries: 4 processors (the first the BSP), 2 buses, 1 IOAPIC, the PCI route.
  std::size_t off = table + 44;
  int cpus = 0, bsp = 0, buses = 0, ioapics = 0, pci_routes = 0;
  for (unsigned i = 0; i < count; ++i) {
    const auto type = std::to_integer<std::uint8_t>(ram[off]);
    if (type == 0) {
      ++cpus;
      if ((std::to_integer<std::uint8_t>(ram[off + 3]) & 2) != 0) ++bsp;
      off += 20;
      continue;
    }
    if (type == 1) ++buses;
    if (type == 2) ++ioapics;
    if (type == 3 && std::to_integer<std::uint8_t>(ram[off + 4]) == 0 &&
        std::to_integer<std::uint8_t>(ram[off + 7]) == layout::kGsiIvshmem) {
      ++pci_routes;
      EXPECT_EQ(std::to_integer<std::uint8_t>(ram[off + 5]), layout::kPciSlotIvshmem << 2);
    }
    off += 8;
  }
  EXPECT_EQ(off, table + len);
  EXPECT_EQ(cpus, 4);
  EXPECT_EQ(bsp, 1);
  EXPECT_EQ(buses, 2);
  EXPECT_EQ(ioapics, 1);
  EXPECT_EQ(pci_routes, 1);
  EXPECT_FALSE(kvm::write_mp_table(ram, 0, 1, 16));
  EXPECT_FALSE(kvm::write_mp_table(ram, 99, 1, 16));
}
