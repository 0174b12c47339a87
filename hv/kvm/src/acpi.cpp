#include "vitrine/hv/kvm/acpi.hpp"

#include <cstring>
#include <fmt/format.h>
#include <string_view>

#include "byte_io.hpp"
#include "vitrine/hv/kvm/layout.hpp"
#include "vitrine/hv/kvm/x86_boot.hpp"

namespace vitrine::hv::kvm::acpi {
namespace {

using detail::store_le;

constexpr std::size_t kFacsBytes = 64;

// Growable little-endian byte sink.
struct Bytes {
  std::vector<std::byte> v;
  void u8(std::uint8_t x) { v.push_back(std::byte{x}); }
  void u16(std::uint16_t x) { u8(std::uint8_t(x)); u8(std::uint8_t(x >> 8)); }
  void u32(std::uint32_t x) { u16(std::uint16_t(x)); u16(std::uint16_t(x >> 16)); }
  void u64(std::uint64_t x) { u32(std::uint32_t(x)); u32(std::uint32_t(x >> 32)); }
  void str(std::string_view s) { for (char c : s) u8(static_cast<std::uint8_t>(c)); }
  void append(const std::vector<std::byte>& o) { v.insert(v.end(), o.begin(), o.end()); }
};

// AML PkgLength (ACPI 6.4 20.2.4) of a package whose contents (after the PkgLength) are
// `body` bytes: the encoded length counts itself.
void pkg_length(Bytes& out, std::size_t body) {
  if (body + 1 < 0x40) {
    out.u8(static_cast<std::uint8_t>(body + 1));
  } else if (body + 2 < 0x1000) {
    const std::size_t n = body + 2;
    out.u8(static_cast<std::uint8_t>(0x40 | (n & 0xf)));
    out.u8(static_cast<std::uint8_t>(n >> 4));
  } else {
    const std::size_t n = body + 3;
    out.u8(static_cast<std::uint8_t>(0x80 | (n & 0xf)));
    out.u8(static_cast<std::uint8_t>(n >> 4));
    out.u8(static_cast<std::uint8_t>(n >> 12));
  }
}

// Op, PkgLength, body.
std::vector<std::byte> package_op(std::initializer_list<std::uint8_t> op, const std::vector<std::byte>& body) {
  Bytes b;
  for (auto o : op) b.u8(o);
  pkg_length(b, body.size());
  b.append(body);
  return b.v;
}

// Name(seg, value-bytes): NameOp 0x08, a 4-character NameSeg (or a rooted path), the data.
std::vector<std::byte> aml_name(std::string_view name, const std::vector<std::byte>& value) {
  Bytes b;
  b.u8(0x08);
  b.str(name);
  b.append(value);
  return b.v;
}

// Resource template of the host bridge (ACPI 6.4 6.4.3.5 address space descriptors): bus 0,
// I/O below and above the conf1 ports, the 32-bit MMIO hole and the 64-bit BAR window.
std::vector<std::byte> host_bridge_resources(const AcpiSpec& spec) {
  Bytes r;
  auto word_space = [&](std::uint8_t type, std::uint8_t specific, std::uint16_t min, std::uint16_t max) {
    r.u8(0x88);  // Word Address Space Descriptor
    r.u16(13);
    r.u8(type);  // 1 = I/O, 2 = bus numbers
    r.u8(0x0c);  // producer, min and max fixed
    r.u8(specific);
    r.u16(0);    // granularity
    r.u16(min);
    r.u16(max);
    r.u16(0);    // translation
    r.u16(static_cast<std::uint16_t>(max - min + 1));
  };
  word_space(2, 0, 0, 0);             // bus numbers 0..0
  word_space(1, 0x03, 0x0000, 0x0cf7);  // I/O, ISA and non-ISA ranges
  word_space(1, 0x03, 0x0d00, 0xffff);
  r.u8(0x87);  // DWord Address Space Descriptor: memory
  r.u16(23);
  r.u8(0);
  r.u8(0x0c);
  r.u8(0x01);  // read-write, non-cacheable
  r.u32(0);
  r.u32(static_cast<std::uint32_t>(spec.pci_mmio32_start));
  r.u32(static_cast<std::uint32_t>(spec.pci_mmio32_end - 1));
  r.u32(0);
  r.u32(static_cast<std::uint32_t>(spec.pci_mmio32_end - spec.pci_mmio32_start));
  r.u8(0x8a);  // QWord Address Space Descriptor: memory above 4 GiB (the bus BAR)
  r.u16(43);
  r.u8(0);
  r.u8(0x0c);
  r.u8(0x01);
  r.u64(0);
  r.u64(spec.pci_mmio64_start);
  r.u64(spec.pci_mmio64_end - 1);
  r.u64(0);
  r.u64(spec.pci_mmio64_end - spec.pci_mmio64_start);
  r.u8(0x79);  // End Tag, checksum 0 = "treat as checksummed"
  r.u8(0x00);
  // Buffer(n) { bytes }: BufferOp, PkgLength, BufferSize (WordConst), the bytes.
  Bytes body;
  body.u8(0x0b);
  body.u16(static_cast<std::uint16_t>(r.v.size()));
  body.append(r.v);
  return package_op({0x11}, body.v);
}

void header(Bytes& t, std::string_view signature, std::uint8_t revision) {
  t.str(signature);
  t.u32(0);  // length, patched by finish()
  t.u8(revision);
  t.u8(0);   // checksum, patched by finish()
  t.str("VITRIN");
  t.str("VITRINEK");
  t.u32(1);
  t.str("VTRN");
  t.u32(1);
}

std::vector<std::byte> finish(Bytes t) {
  store_le<std::uint32_t>(t.v, 4, static_cast<std::uint32_t>(t.v.size()));
  t.v[9] = std::byte{static_cast<std::uint8_t>(-byte_sum(t.v))};
  return t.v;
}

// Generic Address Structure (ACPI 6.4 5.2.3.2) in system I/O space.
void gas_io(Bytes& t, std::uint8_t bit_width, std::uint8_t access_size, std::uint64_t port) {
  t.u8(1);  // system I/O
  t.u8(bit_width);
  t.u8(0);
  t.u8(access_size);  // 2 = word
  t.u64(port);
}

std::vector<std::byte> fadt(std::uint64_t facs, std::uint64_t dsdt) {
  Bytes t;
  header(t, "FACP", 6);
  t.u32(static_cast<std::uint32_t>(facs));  // 36 FIRMWARE_CTRL
  t.u32(static_cast<std::uint32_t>(dsdt));  // 40 DSDT
  t.u8(0);                                  // 44 reserved
  t.u8(0);                                  // 45 preferred PM profile: unspecified
  t.u16(layout::kGsiAcpiSci);               // 46 SCI_INT
  t.u32(0);                                 // 48 SMI_CMD: none, always in ACPI mode
  t.u8(0); t.u8(0); t.u8(0); t.u8(0);       // 52 ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
  t.u32(layout::kPortAcpiPm1aEvt);          // 56 PM1a_EVT_BLK
  t.u32(0);                                 // 60 PM1b_EVT_BLK
  t.u32(layout::kPortAcpiPm1aCnt);          // 64 PM1a_CNT_BLK
  t.u32(0); t.u32(0);                       // 68 PM1b_CNT_BLK, 72 PM2_CNT_BLK
  t.u32(0);                                 // 76 PM_TMR_BLK: none
  t.u32(0); t.u32(0);                       // 80 GPE0_BLK, 84 GPE1_BLK
  t.u8(4); t.u8(2);                         // 88 PM1_EVT_LEN, 89 PM1_CNT_LEN
  t.u8(0); t.u8(0); t.u8(0); t.u8(0);       // 90 PM2_CNT_LEN, PM_TMR_LEN, GPE0_BLK_LEN, GPE1_BLK_LEN
  t.u8(0); t.u8(0);                         // 94 GPE1_BASE, CST_CNT
  t.u16(101); t.u16(1001);                  // 96 P_LVL2_LAT, P_LVL3_LAT: > 100 / 1000 = unsupported
  t.u16(0); t.u16(0);                       // 100 FLUSH_SIZE, FLUSH_STRIDE
  t.u8(0); t.u8(0);                         // 104 DUTY_OFFSET, DUTY_WIDTH
  t.u8(0); t.u8(0); t.u8(0x32);             // 106 DAY_ALRM, MON_ALRM, CENTURY (CMOS index)
  t.u16(0x0001);                            // 109 IAPC_BOOT_ARCH: legacy ISA devices; no 8042 announced
  t.u8(0);                                  // 111 reserved
  // 112 flags: WBINVD (0), PROC_C1 (2), PWR_BUTTON (4) and SLP_BUTTON (5) = no fixed buttons.
  t.u32((1u << 0) | (1u << 2) | (1u << 4) | (1u << 5));
  for (int i = 0; i < 12; ++i) t.u8(0);     // 116 RESET_REG: none (reboot=k or triple fault)
  t.u8(0);                                  // 128 RESET_VALUE
  t.u16(0);                                 // 129 ARM_BOOT_ARCH
  t.u8(4);                                  // 131 FADT minor version: 6.4
  t.u64(facs);                              // 132 X_FIRMWARE_CTRL
  t.u64(dsdt);                              // 140 X_DSDT
  gas_io(t, 32, 2, layout::kPortAcpiPm1aEvt);  // 148 X_PM1a_EVT_BLK
  for (int i = 0; i < 12; ++i) t.u8(0);        // 160 X_PM1b_EVT_BLK
  gas_io(t, 16, 2, layout::kPortAcpiPm1aCnt);  // 172 X_PM1a_CNT_BLK
  for (int i = 0; i < 12 * 6; ++i) t.u8(0);    // 184 X_PM1b_CNT, X_PM2_CNT, X_PM_TMR, X_GPE0, X_GPE1, SLEEP_CONTROL
  for (int i = 0; i < 12; ++i) t.u8(0);        // 256 SLEEP_STATUS_REG
  t.str("VITRINEK");                           // 268 hypervisor vendor identity
  return finish(std::move(t));
}

std::vector<std::byte> madt(unsigned vcpus) {
  Bytes t;
  header(t, "APIC", 5);
  t.u32(static_cast<std::uint32_t>(layout::kLapicStart));
  t.u32(1);  // PCAT_COMPAT: there are 8259 PICs (KVM's irqchip has them)
  for (unsigned i = 0; i < vcpus; ++i) {  // Processor Local APIC (5.2.12.2)
    t.u8(0);
    t.u8(8);
    t.u8(static_cast<std::uint8_t>(i));  // ACPI processor UID
    t.u8(static_cast<std::uint8_t>(i));  // APIC id
    t.u32(1);                            // enabled
  }
  t.u8(1);  // I/O APIC (5.2.12.3)
  t.u8(12);
  t.u8(static_cast<std::uint8_t>(vcpus));  // IOAPIC id after the CPUs', as in the MP table
  t.u8(0);
  t.u32(static_cast<std::uint32_t>(layout::kIoapicStart));
  t.u32(0);  // GSI base
  t.u8(2);   // Interrupt Source Override (5.2.12.5): ISA IRQ 9 (SCI) -> GSI 9, level, high
  t.u8(10);
  t.u8(0);   // bus: ISA
  t.u8(static_cast<std::uint8_t>(layout::kGsiAcpiSci));
  t.u32(layout::kGsiAcpiSci);
  t.u16(0x000d);  // polarity 01 = active high, trigger 11 = level
  t.u8(4);   // Local APIC NMI (5.2.12.7): LINT1 of every processor
  t.u8(6);
  t.u8(0xff);
  t.u16(0);
  t.u8(1);
  return finish(std::move(t));
}

}  // namespace

std::vector<std::byte> dsdt_aml(const AcpiSpec& spec) {
  // Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_UID, Zero) Name (_CRS, ...) }
  Bytes dev;
  dev.str("PCI0");
  dev.append(aml_name("_HID", {std::byte{0x0c}, std::byte{0x41}, std::byte{0xd0}, std::byte{0x0a}, std::byte{0x03}}));
  dev.append(aml_name("_UID", {std::byte{0x00}}));
  dev.append(aml_name("_CRS", host_bridge_resources(spec)));
  Bytes scope;
  scope.str("\\_SB_");
  scope.append(package_op({0x5b, 0x82}, dev.v));  // DeviceOp
  Bytes aml;
  aml.append(package_op({0x10}, scope.v));  // ScopeOp
  // Name (\_S5, Package (4) { 5, 5, 0, 0 }): SLP_TYPa, SLP_TYPb, reserved.
  Bytes pkg;
  pkg.u8(4);  // NumElements
  pkg.u8(0x0a); pkg.u8(kS5SleepType);  // BytePrefix
  pkg.u8(0x0a); pkg.u8(kS5SleepType);
  pkg.u8(0x00); pkg.u8(0x00);           // ZeroOp
  aml.append(aml_name("\\_S5_", package_op({0x12}, pkg.v)));
  return aml.v;
}

Result<std::uint64_t> write_acpi_tables(std::span<std::byte> ram, const AcpiSpec& spec) {
  if (spec.vcpus == 0 || spec.vcpus > layout::kMaxVcpus) {
    return std::unexpected(invalid(fmt::format("ACPI: {} vCPUs, must be 1..{}", spec.vcpus, layout::kMaxVcpus)));
  }
  if (spec.pci_mmio32_end <= spec.pci_mmio32_start || spec.pci_mmio32_end > (1ull << 32) ||
      spec.pci_mmio64_end <= spec.pci_mmio64_start) {
    return std::unexpected(invalid("ACPI: empty or misplaced PCI windows"));
  }
  auto align = [](std::uint64_t a, std::uint64_t to) { return (a + to - 1) & ~(to - 1); };
  const std::uint64_t rsdp = layout::kAcpiStart;
  const std::uint64_t facs = align(rsdp + 36, 64);  // FACS must be 64-byte aligned
  Bytes dsdt_t;
  header(dsdt_t, "DSDT", 2);
  dsdt_t.append(dsdt_aml(spec));
  const auto dsdt_bytes = finish(std::move(dsdt_t));
  const std::uint64_t dsdt = align(facs + kFacsBytes, 16);
  const std::uint64_t fadt_at = align(dsdt + dsdt_bytes.size(), 16);
  const auto fadt_bytes = fadt(facs, dsdt);
  const std::uint64_t madt_at = align(fadt_at + fadt_bytes.size(), 16);
  const auto madt_bytes = madt(spec.vcpus);
  const std::uint64_t rsdt_at = align(madt_at + madt_bytes.size(), 16);
  Bytes rsdt_t;
  header(rsdt_t, "RSDT", 1);
  rsdt_t.u32(static_cast<std::uint32_t>(fadt_at));
  rsdt_t.u32(static_cast<std::uint32_t>(madt_at));
  const auto rsdt_bytes = finish(std::move(rsdt_t));
  const std::uint64_t xsdt_at = align(rsdt_at + rsdt_bytes.size(), 16);
  Bytes xsdt_t;
  header(xsdt_t, "XSDT", 1);
  xsdt_t.u64(fadt_at);
  xsdt_t.u64(madt_at);
  const auto xsdt_bytes = finish(std::move(xsdt_t));
  const std::uint64_t end = xsdt_at + xsdt_bytes.size();
  if (end > layout::kAcpiEnd || ram.size() < layout::kAcpiEnd) {
    return std::unexpected(invalid(fmt::format("ACPI tables end at {:#x}, past {:#x} or guest RAM", end, layout::kAcpiEnd)));
  }
  std::memset(ram.data() + rsdp, 0, end - rsdp);
  auto put = [&](std::uint64_t at, const std::vector<std::byte>& b) { std::memcpy(ram.data() + at, b.data(), b.size()); };
  put(dsdt, dsdt_bytes);
  put(fadt_at, fadt_bytes);
  put(madt_at, madt_bytes);
  put(rsdt_at, rsdt_bytes);
  put(xsdt_at, xsdt_bytes);
  // FACS (5.2.10): no checksum; version 2; no waking vector (no S3 here).
  std::span<std::byte> f = ram.subspan(facs, kFacsBytes);
  std::memcpy(f.data(), "FACS", 4);
  store_le<std::uint32_t>(f, 4, kFacsBytes);
  f[32] = std::byte{2};
  // RSDP (5.2.5.3), revision 2: checksum over the first 20 bytes, extended over all 36.
  std::span<std::byte> p = ram.subspan(rsdp, 36);
  std::memcpy(p.data(), "RSD PTR ", 8);
  std::memcpy(p.data() + 9, "VITRIN", 6);
  p[15] = std::byte{2};
  store_le<std::uint32_t>(p, 16, static_cast<std::uint32_t>(rsdt_at));
  store_le<std::uint32_t>(p, 20, 36);
  store_le<std::uint64_t>(p, 24, xsdt_at);
  p[8] = std::byte{static_cast<std::uint8_t>(-byte_sum(p.first(20)))};
  p[32] = std::byte{static_cast<std::uint8_t>(-byte_sum(p))};
  return rsdp;
}

}  // namespace vitrine::hv::kvm::acpi
