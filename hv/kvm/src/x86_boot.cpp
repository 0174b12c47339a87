#include "vitrine/hv/kvm/x86_boot.hpp"

#include <cstring>
#include <vector>
#include <fmt/format.h>

#include "byte_io.hpp"
#include "vitrine/hv/kvm/layout.hpp"

namespace vitrine::hv::kvm {

using detail::store_le;

namespace {
constexpr std::uint64_t kPresent = 1, kWritable = 2, kPageSize = 0x80;
constexpr std::uint64_t kCr0Pe = 1, kCr0Et = 0x10, kCr0Pg = 0x80000000;
constexpr std::uint64_t kCr4Pae = 0x20;
constexpr std::uint64_t kEferLme = 0x100, kEferLma = 0x400;

// A GDT entry from the classic fields (Intel SDM vol. 3 3.4.5).
constexpr std::uint64_t gdt_entry(std::uint16_t flags, std::uint32_t base, std::uint32_t limit) {
  return ((std::uint64_t{base} & 0xff000000) << 32) | ((std::uint64_t{flags} & 0xf0ff) << 40) |
         ((std::uint64_t{limit} & 0x000f0000) << 32) | ((std::uint64_t{base} & 0x00ffffff) << 16) |
         (std::uint64_t{limit} & 0x0000ffff);
}

// Index = selector >> 3: 0 null, 1 unused, 2 __BOOT_CS, 3 __BOOT_DS, 4 TSS.
constexpr std::uint64_t kGdt[] = {
    0,
    0,
    gdt_entry(0xa09b, 0, 0xfffff),  // code: present, DPL 0, execute/read, accessed, L=1, G=1
    gdt_entry(0xc093, 0, 0xfffff),  // data: present, read/write, accessed, D/B=1, G=1
    gdt_entry(0x808b, 0, 0xfffff),  // 32-bit busy TSS (only so TR is valid)
};

kvm_segment segment_from_gdt(std::uint64_t entry, std::uint16_t selector) {
  kvm_segment s{};
  s.base = static_cast<std::uint32_t>(((entry >> 16) & 0xffffff) | (((entry >> 56) & 0xff) << 24));
  const std::uint32_t limit = static_cast<std::uint32_t>((entry & 0xffff) | (((entry >> 48) & 0xf) << 16));
  s.g = static_cast<std::uint8_t>((entry >> 55) & 1);
  s.limit = s.g != 0 ? (limit << 12) | 0xfff : limit;  // KVM wants the byte-granular limit
  s.selector = selector;
  s.type = static_cast<std::uint8_t>((entry >> 40) & 0xf);
  s.present = static_cast<std::uint8_t>((entry >> 47) & 1);
  s.dpl = static_cast<std::uint8_t>((entry >> 45) & 3);
  s.db = static_cast<std::uint8_t>((entry >> 54) & 1);
  s.s = static_cast<std::uint8_t>((entry >> 44) & 1);
  s.l = static_cast<std::uint8_t>((entry >> 53) & 1);
  s.avl = static_cast<std::uint8_t>((entry >> 52) & 1);
  s.unusable = s.present != 0 ? 0 : 1;
  return s;
}
}  // namespace

Result<void> write_boot_tables(std::span<std::byte> ram) {
  const std::uint64_t pd_pages = layout::kIdentityMapBytes >> 30;
  if (ram.size() < layout::kPdStart + pd_pages * 4096) {
    return std::unexpected(invalid("guest RAM too small for the boot page tables"));
  }
  for (std::size_t i = 0; i < std::size(kGdt); ++i) store_le<std::uint64_t>(ram, layout::kGdtStart + 8 * i, kGdt[i]);
  store_le<std::uint64_t>(ram, layout::kIdtStart, 0);
  std::memset(ram.data() + layout::kPml4Start, 0, 4096 * (2 + pd_pages));
  store_le<std::uint64_t>(ram, layout::kPml4Start, layout::kPdptStart | kPresent | kWritable);
  for (std::uint64_t g = 0; g < pd_pages; ++g) {
    const std::uint64_t pd = layout::kPdStart + g * 4096;
    store_le<std::uint64_t>(ram, layout::kPdptStart + 8 * g, pd | kPresent | kWritable);
    for (std::uint64_t i = 0; i < 512; ++i) {
      const std::uint64_t phys = (g << 30) | (i << 21);
      store_le<std::uint64_t>(ram, pd + 8 * i, phys | kPresent | kWritable | kPageSize);  // 2 MiB page
    }
  }
  return {};
}

void setup_long_mode_sregs(kvm_sregs& sregs) {
  sregs.gdt.base = layout::kGdtStart;
  sregs.gdt.limit = sizeof(kGdt) - 1;
  sregs.idt.base = layout::kIdtStart;
  sregs.idt.limit = 0;  // no IDT until the kernel loads its own: an early fault is a triple fault
  const kvm_segment code = segment_from_gdt(kGdt[kBootCs >> 3], kBootCs);
  const kvm_segment data = segment_from_gdt(kGdt[kBootDs >> 3], kBootDs);
  sregs.cs = code;
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.tr = segment_from_gdt(kGdt[kBootTss >> 3], kBootTss);
  sregs.cr0 = kCr0Pe | kCr0Et | kCr0Pg;
  sregs.cr3 = layout::kPml4Start;
  sregs.cr4 = kCr4Pae;
  sregs.efer = kEferLme | kEferLma;
}

kvm_regs boot_regs(std::uint64_t entry) {
  kvm_regs r{};
  r.rflags = 0x2;  // bit 1 is reserved and always set; interrupts off
  r.rip = entry;
  r.rsp = layout::kBootStackTop;
  r.rbp = layout::kBootStackTop;
  r.rsi = layout::kZeroPage;  // boot.rst: "%rsi must hold the base address of struct boot_params"
  return r;
}

std::uint8_t byte_sum(std::span<const std::byte> bytes) {
  std::uint8_t s = 0;
  for (std::byte b : bytes) s = static_cast<std::uint8_t>(s + std::to_integer<std::uint8_t>(b));
  return s;
}

Result<void> write_mp_table(std::span<std::byte> ram, unsigned vcpus, std::uint8_t pci_slot, std::uint8_t pci_gsi) {
  if (vcpus == 0 || vcpus > layout::kMaxVcpus) {
    return std::unexpected(invalid(fmt::format("{} vCPUs: must be 1..{}", vcpus, layout::kMaxVcpus)));
  }
  constexpr std::uint8_t kIsaBus = 1, kPciBus = 0;
  const std::uint8_t ioapic_id = static_cast<std::uint8_t>(vcpus);  // after the CPUs' APIC ids
  std::vector<std::byte> entries;
  auto put = [&](std::initializer_list<std::uint8_t> bytes) {
    for (auto b : bytes) entries.push_back(std::byte{b});
  };
  auto put32 = [&](std::uint32_t v) { put({std::uint8_t(v), std::uint8_t(v >> 8), std::uint8_t(v >> 16), std::uint8_t(v >> 24)}); };
  std::uint16_t count = 0;
  for (unsigned i = 0; i < vcpus; ++i) {  // processor entries (MP spec 4.3.1), 20 bytes
    put({0, std::uint8_t(i), 0x14, std::uint8_t(0x01 | (i == 0 ? 0x02 : 0))});  // enabled (+BSP)
    put32(0x600);  // cpu signature: family 6
    put32(0x201);  // features: FPU, APIC
    put32(0);
    put32(0);
    ++count;
  }
  put({1, kPciBus, 'P', 'C', 'I', ' ', ' ', ' '});  // bus entries (4.3.2)
  put({1, kIsaBus, 'I', 'S', 'A', ' ', ' ', ' '});
  count += 2;
  put({2, ioapic_id, 0x11, 0x01});  // I/O APIC entry (4.3.3): version 0x11, enabled
  put32(static_cast<std::uint32_t>(layout::kIoapicStart));
  ++count;
  // I/O interrupt assignments (4.3.4). irqflag 0 = conforms to the bus (ISA: edge, high).
  put({3, 3, 0, 0, kIsaBus, 0, ioapic_id, 0});  // ExtINT from the PIC on pin 0
  ++count;
  // ISA IRQ i on pin i, IRQ 0 (the PIT) included: KVM's default GSI routing sends GSI i to
  // IOAPIC pin i, and Linux's check_timer needs an INT entry for IRQ 0 besides the ExtINT one.
  for (std::uint8_t irq = 0; irq < 16; ++irq) {
    put({3, 0, 0, 0, kIsaBus, irq, ioapic_id, irq});
    ++count;
  }
  // PCI: source irq = slot << 2 | pin (0 = INTA); flags 0x5 = active high (1) | edge (1 << 2),
  // because irqfd delivers edges.
  put({3, 0, 0x05, 0, kPciBus, std::uint8_t(pci_slot << 2), ioapic_id, pci_gsi});
  ++count;
  // Local interrupt assignments (4.3.5): ExtINT on LINT0, NMI on LINT1 of every local APIC.
  put({4, 3, 0, 0, kIsaBus, 0, 0xff, 0});
  put({4, 1, 0, 0, kIsaBus, 0, 0xff, 1});
  count += 2;

  constexpr std::size_t kFloatBytes = 16, kHeaderBytes = 44;
  const std::uint64_t table = layout::kEbdaStart + kFloatBytes;
  const std::size_t table_len = kHeaderBytes + entries.size();
  if (table + table_len > layout::kHighRamStart || ram.size() < layout::kHighRamStart) {
    return std::unexpected(invalid("MP table does not fit in the EBDA"));
  }
  std::span<std::byte> fp = ram.subspan(layout::kEbdaStart, kFloatBytes);
  std::memset(fp.data(), 0, kFloatBytes);
  std::memcpy(fp.data(), "_MP_", 4);
  store_le<std::uint32_t>(fp, 4, static_cast<std::uint32_t>(table));
  fp[8] = std::byte{1};  // length in 16-byte units
  fp[9] = std::byte{4};  // spec revision 1.4
  fp[10] = std::byte{static_cast<std::uint8_t>(-byte_sum(fp))};

  std::span<std::byte> hdr = ram.subspan(table, table_len);
  std::memset(hdr.data(), 0, kHeaderBytes);
  std::memcpy(hdr.data(), "PCMP", 4);
  store_le<std::uint16_t>(hdr, 4, static_cast<std::uint16_t>(table_len));
  hdr[6] = std::byte{4};
  std::memcpy(hdr.data() + 8, "VITRINE ", 8);
  std::memcpy(hdr.data() + 16, "KVM VMM     ", 12);
  store_le<std::uint16_t>(hdr, 34, count);
  store_le<std::uint32_t>(hdr, 36, static_cast<std::uint32_t>(layout::kLapicStart));
  std::memcpy(hdr.data() + kHeaderBytes, entries.data(), entries.size());
  hdr[7] = std::byte{static_cast<std::uint8_t>(-byte_sum(hdr))};
  return {};
}

}  // namespace vitrine::hv::kvm
