// ACPI tables (acpi.hpp) and the PM1a power-off port (acpi_pm.hpp), without KVM. When iasl
// (acpica-tools) is installed, the tables are also disassembled by ACPICA's own compiler.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vitrine/hv/kvm/acpi.hpp"
#include "vitrine/hv/kvm/acpi_pm.hpp"
#include "vitrine/hv/kvm/layout.hpp"
#include "vitrine/hv/kvm/x86_boot.hpp"

namespace kvm = vitrine::hv::kvm;
namespace layout = kvm::layout;

namespace {

template <typename T>
T load(const std::vector<std::byte>& ram, std::uint64_t at) {
  T v{};
  std::memcpy(&v, ram.data() + at, sizeof v);
  return v;
}

kvm::acpi::AcpiSpec spec(unsigned vcpus) {
  kvm::acpi::AcpiSpec s;
  s.vcpus = vcpus;
  s.pci_mmio32_start = layout::kPciMmio32Start;
  s.pci_mmio32_end = layout::kPciMmio32End;
  s.pci_mmio64_start = layout::kPciMmio64Start;
  s.pci_mmio64_end = layout::kPciMmio64Start + layout::kMaxBusBytes;
  return s;
}

struct Tables {
  std::vector<std::byte> ram = std::vector<std::byte>(2u << 20);
  std::uint64_t rsdp = 0;
  std::uint64_t xsdt = 0;

  std::string sig(std::uint64_t at) const { return std::string(reinterpret_cast<const char*>(ram.data() + at), 4); }
  std::span<const std::byte> table(std::uint64_t at) const { return {ram.data() + at, load<std::uint32_t>(ram, at + 4)}; }
  // The XSDT entry with this signature.
  std::uint64_t find(const std::string& s) const {
    const std::uint32_t len = load<std::uint32_t>(ram, xsdt + 4);
    for (std::uint64_t e = xsdt + 36; e + 8 <= xsdt + len; e += 8) {
      const auto at = load<std::uint64_t>(ram, e);
      if (sig(at) == s) return at;
    }
    return 0;
  }
};

Tables build(unsigned vcpus) {
  Tables t;
  auto r = kvm::acpi::write_acpi_tables(t.ram, spec(vcpus));
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  t.rsdp = r.value_or(0);
  t.xsdt = load<std::uint64_t>(t.ram, t.rsdp + 24);
  return t;
}

}  // namespace

TEST(Acpi, RsdpIsInTheBiosScanAreaWithBothChecksums) {
  Tables t = build(1);
  EXPECT_EQ(t.rsdp, layout::kAcpiStart);
  EXPECT_EQ(t.rsdp % 16, 0u);
  EXPECT_GE(t.rsdp, 0xe0000u);
  EXPECT_LT(t.rsdp, 0x100000u);
  EXPECT_EQ(std::memcmp(t.ram.data() + t.rsdp, "RSD PTR ", 8), 0);
  EXPECT_EQ(kvm::byte_sum({t.ram.data() + t.rsdp, 20}), 0);
  EXPECT_EQ(kvm::byte_sum({t.ram.data() + t.rsdp, 36}), 0);
  EXPECT_EQ(std::to_integer<int>(t.ram[t.rsdp + 15]), 2);  // revision: XSDT present
  EXPECT_EQ(t.sig(t.xsdt), "XSDT");
  EXPECT_EQ(t.sig(load<std::uint32_t>(t.ram, t.rsdp + 16)), "RSDT");
}

TEST(Acpi, EveryTableChecksumsToZeroAndStaysInItsArea) {
  Tables t = build(4);
  for (std::string s : {"FACP", "APIC"}) {
    const std::uint64_t at = t.find(s);
    ASSERT_NE(at, 0u) << s;
    EXPECT_EQ(kvm::byte_sum(t.table(at)), 0) << s;
    EXPECT_LE(at + t.table(at).size(), layout::kAcpiEnd) << s;
  }
  const std::uint64_t fadt = t.find("FACP");
  const std::uint64_t dsdt = load<std::uint64_t>(t.ram, fadt + 140);
  EXPECT_EQ(dsdt, load<std::uint32_t>(t.ram, fadt + 40));
  EXPECT_EQ(t.sig(dsdt), "DSDT");
  EXPECT_EQ(kvm::byte_sum(t.table(dsdt)), 0);
  const std::uint64_t facs = load<std::uint64_t>(t.ram, fadt + 132);
  EXPECT_EQ(t.sig(facs), "FACS");
  EXPECT_EQ(facs % 64, 0u);
  EXPECT_EQ(kvm::byte_sum(t.table(t.xsdt)), 0);
}

TEST(Acpi, FadtPointsAtThePm1aPortsTheVmmTraps) {
  Tables t = build(1);
  const std::uint64_t f = t.find("FACP");
  EXPECT_EQ(t.table(f).size(), 276u);
  EXPECT_EQ(load<std::uint16_t>(t.ram, f + 46), layout::kGsiAcpiSci);
  EXPECT_EQ(load<std::uint32_t>(t.ram, f + 48), 0u);  // no SMI_CMD: always in ACPI mode
  EXPECT_EQ(load<std::uint32_t>(t.ram, f + 56), layout::kPortAcpiPm1aEvt);
  EXPECT_EQ(load<std::uint32_t>(t.ram, f + 64), layout::kPortAcpiPm1aCnt);
  EXPECT_EQ(std::to_integer<int>(t.ram[f + 88]), 4);
  EXPECT_EQ(std::to_integer<int>(t.ram[f + 89]), 2);
  EXPECT_EQ(load<std::uint64_t>(t.ram, f + 172 + 4), layout::kPortAcpiPm1aCnt);  // X_PM1a_CNT_BLK
  EXPECT_EQ(load<std::uint32_t>(t.ram, f + 112) & (1u << 20), 0u);               // not HW-reduced
}

TEST(Acpi, MadtListsEveryVcpuAndTheIoapic) {
  for (unsigned n : {1u, 2u, 16u}) {
    Tables t = build(n);
    const std::uint64_t m = t.find("APIC");
    const auto tab = t.table(m);
    unsigned cpus = 0, ioapics = 0, overrides = 0;
    for (std::size_t at = 44; at + 2 <= tab.size();) {
      const int type = std::to_integer<int>(tab[at]), len = std::to_integer<int>(tab[at + 1]);
      ASSERT_GE(len, 2);
      if (type == 0) {
        EXPECT_EQ(std::to_integer<unsigned>(tab[at + 3]), cpus);  // APIC id
        EXPECT_EQ(std::to_integer<int>(tab[at + 4]) & 1, 1);      // enabled
        ++cpus;
      }
      if (type == 1) {
        ++ioapics;
        std::uint32_t addr = 0;
        std::memcpy(&addr, tab.data() + at + 4, 4);
        EXPECT_EQ(addr, layout::kIoapicStart);
      }
      if (type == 2) ++overrides;
      at += static_cast<std::size_t>(len);
    }
    EXPECT_EQ(cpus, n);
    EXPECT_EQ(ioapics, 1u);
    EXPECT_EQ(overrides, 1u);
  }
}

TEST(Acpi, DsdtHasTheS5PackageAndTheHostBridge) {
  const auto aml = kvm::acpi::dsdt_aml(spec(1));
  const std::string s(reinterpret_cast<const char*>(aml.data()), aml.size());
  // Name (\_S5, Package (4) { 5, 5, 0, 0 })
  const std::string s5 = std::string("\x08\\_S5_\x12\x08\x04\x0a\x05\x0a\x05\x00\x00", 14);
  EXPECT_NE(s.find(s5), std::string::npos);
  EXPECT_NE(s.find(std::string("_HID\x0c\x41\xd0\x0a\x03", 9)), std::string::npos);  // EisaId PNP0A03
  EXPECT_NE(s.find("PCI0"), std::string::npos);
}

TEST(Acpi, RejectsBadSpecs) {
  std::vector<std::byte> ram(2u << 20);
  EXPECT_FALSE(kvm::acpi::write_acpi_tables(ram, spec(0)).has_value());
  EXPECT_FALSE(kvm::acpi::write_acpi_tables(ram, spec(layout::kMaxVcpus + 1)).has_value());
  std::vector<std::byte> small(0x90000);
  EXPECT_FALSE(kvm::acpi::write_acpi_tables(small, spec(1)).has_value());
}

TEST(Acpi, IaslDisassemblesTheTablesWithoutErrors) {
  if (std::system("command -v iasl >/dev/null 2>&1") != 0) GTEST_SKIP() << "iasl (acpica-tools) not installed";
  Tables t = build(2);
  char tmpl[] = "/tmp/hv-acpi-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  const std::uint64_t fadt = t.find("FACP");
  const std::uint64_t dsdt = load<std::uint64_t>(t.ram, fadt + 140);
  for (auto [name, at] : {std::pair{"dsdt", dsdt}, {"facp", fadt}, {"apic", t.find("APIC")}}) {
    const auto tab = t.table(at);
    std::ofstream(dir / (std::string(name) + ".dat"), std::ios::binary)
        .write(reinterpret_cast<const char*>(tab.data()), static_cast<std::streamsize>(tab.size()));
    const std::string cmd = "cd " + dir.string() + " && iasl -d " + name + ".dat > " + name + ".out 2>&1";
    const int rc = std::system(cmd.c_str());
    std::stringstream out, dsl;
    out << std::ifstream(dir / (std::string(name) + ".out")).rdbuf();
    dsl << std::ifstream(dir / (std::string(name) + ".dsl")).rdbuf();
    EXPECT_EQ(rc, 0) << name << ":\n" << out.str();
    EXPECT_EQ(dsl.str().find("**** "), std::string::npos) << name << " (iasl warnings):\n" << dsl.str();
    if (std::string(name) == "dsdt") {
      EXPECT_NE(dsl.str().find("PNP0A03"), std::string::npos) << dsl.str();
      EXPECT_NE(dsl.str().find("Name (\\_S5, Package (0x04)"), std::string::npos) << dsl.str();
      EXPECT_NE(dsl.str().find("QWordMemory"), std::string::npos) << dsl.str();
    }
    if (std::string(name) == "facp") {
      EXPECT_NE(dsl.str().find("PM1A Control Block Address : 00000604"), std::string::npos) << dsl.str();
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(AcpiPm, SleepTypeFiveWithSlpEnPowersOff) {
  int offs = 0;
  kvm::AcpiPmDevice pm([&] { ++offs; });
  std::uint8_t b[2];
  pm.read(4, b);
  EXPECT_EQ(b[0] & 1, 1);  // SCI_EN: always in ACPI mode
  // What ACPICA's acpi_hw_legacy_sleep does: SLP_TYP first, then SLP_EN in a second write.
  const std::uint16_t typ = kvm::acpi::kS5SleepType << kvm::AcpiPmDevice::kSlpTypShift;
  const std::uint8_t w1[2] = {std::uint8_t(typ), std::uint8_t(typ >> 8)};
  pm.write(4, w1);
  EXPECT_EQ(offs, 0);
  const std::uint16_t en = typ | kvm::AcpiPmDevice::kSlpEn;
  const std::uint8_t w2[2] = {std::uint8_t(en), std::uint8_t(en >> 8)};
  pm.write(4, w2);
  EXPECT_EQ(offs, 1);
  EXPECT_EQ(pm.control() & kvm::AcpiPmDevice::kSlpEn, 0);  // write-only bit
}

TEST(AcpiPm, OtherSleepTypesAndOtherRegistersDoNotPowerOff) {
  int offs = 0;
  kvm::AcpiPmDevice pm([&] { ++offs; });
  const std::uint16_t s3 = (3u << kvm::AcpiPmDevice::kSlpTypShift) | kvm::AcpiPmDevice::kSlpEn;
  const std::uint8_t w[2] = {std::uint8_t(s3), std::uint8_t(s3 >> 8)};
  pm.write(4, w);
  const std::uint8_t en[2] = {0x21, 0x01};
  pm.write(2, en);  // PM1 enable
  const std::uint8_t sts[2] = {0xff, 0xff};
  pm.write(0, sts);  // write-1-to-clear status
  EXPECT_EQ(offs, 0);
  EXPECT_EQ(pm.enable(), 0x0121);
  std::uint8_t r4[4];
  pm.read(0, r4);  // 32-bit read across status and enable
  EXPECT_EQ(r4[0], 0);
  EXPECT_EQ(r4[2], 0x21);
  EXPECT_EQ(r4[3], 0x01);
  // Byte-wise write of the high control byte alone (SLP_TYP 5 | SLP_EN) also counts.
  const std::uint8_t hi[1] = {std::uint8_t(((5u << 10) | (1u << 13)) >> 8)};
  pm.write(5, hi);
  EXPECT_EQ(offs, 1);
  // Garbage everywhere, any width: never a crash.
  for (std::uint64_t off = 0; off < kvm::AcpiPmDevice::kBytes; ++off) {
    std::uint8_t g[4] = {0xde, 0xad, 0xbe, 0xef};
    pm.write(off, std::span<const std::uint8_t>(g, std::min<std::size_t>(4, kvm::AcpiPmDevice::kBytes - off)));
    pm.read(off, std::span<std::uint8_t>(g, std::min<std::size_t>(4, kvm::AcpiPmDevice::kBytes - off)));
  }
}
