// CPU and memory state for the Linux 64-bit boot protocol entry (boot.rst "64-bit Boot
// Protocol"): long mode, paging on with an identity map covering the kernel, zero page and
// command line, a GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18), rsi = zero page.
// Also the Intel MultiProcessor Specification 1.4 table that tells Linux about the vCPUs,
// the IOAPIC and the interrupt routing when there is no ACPI.
// Pure functions over guest memory bytes and kvm structures: tests check them without KVM.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>

#include "vitrine/hv/kvm/error.hpp"

namespace vitrine::hv::kvm {

inline constexpr std::uint16_t kBootCs = 0x10;
inline constexpr std::uint16_t kBootDs = 0x18;
inline constexpr std::uint16_t kBootTss = 0x20;

// Writes the GDT, the empty IDT and the identity-mapping page tables (layout.hpp) into
// `guest_ram`, which starts at GPA 0.
Result<void> write_boot_tables(std::span<std::byte> guest_ram);

// Special registers for the 64-bit entry (segments from the GDT above, CR0/CR3/CR4/EFER).
void setup_long_mode_sregs(kvm_sregs& sregs);
// General registers: rip = kernel entry, rsi = zero page.
kvm_regs boot_regs(std::uint64_t entry);

// Writes the MP floating pointer and configuration table at layout::kEbdaStart: `vcpus`
// processors (APIC ids 0..n-1, the first is the BSP), an ISA bus (id 1) with IRQs 0..15 on
// IOAPIC pins 0..15, a PCI bus (id 0) whose slot `pci_slot` INTA goes to pin `pci_gsi`
// (edge, active high: it is driven by irqfd), ExtINT/NMI local interrupts.
Result<void> write_mp_table(std::span<std::byte> guest_ram, unsigned vcpus, std::uint8_t pci_slot,
                            std::uint8_t pci_gsi);

// Sum of bytes mod 256 (MP tables must sum to zero); exposed for tests.
std::uint8_t byte_sum(std::span<const std::byte> bytes);

}  // namespace vitrine::hv::kvm
