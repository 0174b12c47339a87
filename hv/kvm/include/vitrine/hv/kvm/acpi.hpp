// Minimal ACPI tables for a Vitrine KVM guest (ACPI 6.4): enough that Linux powers the VM off
// with `poweroff -f` and learns its vCPUs and interrupt controllers from ACPI.
//
//   RSDP (rev 2) -> RSDT / XSDT -> FADT -> FACS, DSDT
//                                  MADT
//   FADT  PM1a event block at ports layout::kPortAcpiPm1aEvt (4 bytes), PM1a control block at
//         layout::kPortAcpiPm1aCnt (2 bytes), SCI on GSI layout::kGsiAcpiSci, no SMI command
//         port (the platform is always in ACPI mode), no PM timer, no GPE blocks, no i8042
//         announced (Linux then skips its probe; `reboot=k` still resets through port 0x64).
//   DSDT  \_SB.PCI0 (PNP0A03, the conf1 host bridge) with its windows in _CRS, and \_S5 =
//         Package {5, 5, 0, 0}: Linux writes SLP_TYP 5 | SLP_EN to PM1a control to power off,
//         which AcpiPmDevice turns into the end of the VM.
//   MADT  one enabled local APIC per vCPU (APIC id = ACPI UID = index), the IOAPIC with GSI
//         base 0, an override that makes the SCI (ISA IRQ 9) level / active high, LINT1 = NMI.
// Pure functions over guest memory: tests check every checksum and field without KVM.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vitrine/hv/kvm/error.hpp"

namespace vitrine::hv::kvm::acpi {

// The sleep type value of S5 in the DSDT (SLP_TYPa), as AcpiPmDevice expects it.
inline constexpr std::uint16_t kS5SleepType = 5;

struct AcpiSpec {
  unsigned vcpus = 1;
  std::uint64_t pci_mmio32_start = 0;  // host bridge windows announced in _CRS
  std::uint64_t pci_mmio32_end = 0;    // exclusive
  std::uint64_t pci_mmio64_start = 0;
  std::uint64_t pci_mmio64_end = 0;    // exclusive
};

// Writes every table into `guest_ram` (starts at GPA 0) at layout::kAcpiStart and returns the
// RSDP's guest-physical address (for boot_params.acpi_rsdp_addr; it is also 16-byte aligned in
// the BIOS area, where Linux scans for it).
Result<std::uint64_t> write_acpi_tables(std::span<std::byte> guest_ram, const AcpiSpec& spec);

// The DSDT's AML body (after the 36-byte header), exposed for tests.
std::vector<std::byte> dsdt_aml(const AcpiSpec& spec);

}  // namespace vitrine::hv::kvm::acpi
