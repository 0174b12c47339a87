// Guest-physical memory map of a Vitrine KVM guest: every address the VMM puts something at,
// in one place (Firecracker's arch/x86_64/layout.rs idea). Addresses are guest-physical (GPA)
// unless a name says otherwise.
//
//   0x0000_0000  +---------------------------+
//                | real-mode IVT / BDA       |  untouched (zero)
//   0x0000_0500  | GDT                       |
//   0x0000_0520  | IDT (empty, limit 0)      |
//   0x0000_7000  | boot_params (zero page)   |
//   0x0000_8ff0  | initial stack top         |
//   0x0000_9000  | PML4, PDPT, 4 x PD        |  identity map of the first 4 GiB, 2 MiB pages
//   0x0002_0000  | kernel command line       |
//   0x0009_fc00  | MP table (EBDA)           |  not RAM in the e820 map (up to 1 MiB)
//   0x000e_0000  | ACPI RSDP, tables         |  in the BIOS area Linux scans for the RSDP
//   0x0010_0000  | protected-mode kernel     |  bzImage payload, 64-bit entry at +0x200
//                | ...                       |
//                | initramfs                 |  page-aligned, at the top of RAM
//   ram end      +---------------------------+  at most kMaxRamEnd
//   0xc000_0000  | PCI MMIO (32-bit BARs)    |  ivshmem BAR0 (doorbell registers)
//   0xfec0_0000  | IOAPIC                    |  in-kernel irqchip
//   0xfee0_0000  | local APIC                |  in-kernel irqchip
//   0xfffb_d000  | KVM TSS (3 pages)         |  KVM_SET_TSS_ADDR (needed on Intel only)
//   0x1_0000_0000| PCI MMIO (64-bit BARs)    |  ivshmem BAR2 (the bus), aligned to its size
#pragma once

#include <cstdint>

namespace vitrine::hv::kvm::layout {

inline constexpr std::uint64_t kGdtStart = 0x500;      // 5 descriptors, see x86_boot.cpp
inline constexpr std::uint64_t kIdtStart = 0x520;      // loaded with limit 0: any fault -> triple
inline constexpr std::uint64_t kZeroPage = 0x7000;     // struct boot_params, 4 KiB
inline constexpr std::uint64_t kBootStackTop = 0x8ff0; // rsp at entry (the kernel sets its own)
inline constexpr std::uint64_t kPml4Start = 0x9000;    // 1 page
inline constexpr std::uint64_t kPdptStart = 0xa000;    // 1 page
inline constexpr std::uint64_t kPdStart = 0xb000;      // 4 pages (0xb000..0xefff), 1 GiB each
inline constexpr std::uint64_t kIdentityMapBytes = 4ull << 30;
inline constexpr std::uint64_t kCmdlineStart = 0x20000;
inline constexpr std::uint64_t kCmdlineMax = 0x10000;  // also capped by the kernel's cmdline_size
inline constexpr std::uint64_t kEbdaStart = 0x9fc00;   // end of low RAM; the MP table lives here
inline constexpr std::uint64_t kLowRamEnd = kEbdaStart;
inline constexpr std::uint64_t kAcpiStart = 0xe0000;   // RSDP (16-byte aligned), then the tables
inline constexpr std::uint64_t kAcpiEnd = 0xf0000;
inline constexpr std::uint64_t kHighRamStart = 0x100000;  // 1 MiB
inline constexpr std::uint64_t kKernelLoad = 0x100000;    // bzImage protected-mode code
inline constexpr std::uint64_t kKernel64EntryOffset = 0x200;  // boot protocol 2.12, 64-bit entry
inline constexpr std::uint64_t kMaxRamEnd = 0xc0000000;   // RAM stays below the PCI hole
inline constexpr std::uint64_t kMinRamBytes = 32ull << 20;

inline constexpr std::uint64_t kPciMmio32Start = 0xc0000000;
inline constexpr std::uint64_t kPciMmio32End = 0xfec00000;
inline constexpr std::uint64_t kIvshmemBar0 = kPciMmio32Start;  // 256 bytes of registers
inline constexpr std::uint64_t kIoapicStart = 0xfec00000;
inline constexpr std::uint64_t kLapicStart = 0xfee00000;
inline constexpr std::uint64_t kKvmTssStart = 0xfffbd000;
inline constexpr std::uint64_t kPciMmio64Start = 0x100000000ull;  // ivshmem BAR2
inline constexpr std::uint64_t kMaxBusBytes = 64ull << 30;

// Port I/O map (ISA conventions Linux probes without ACPI).
inline constexpr std::uint16_t kPortI8042Data = 0x60;
inline constexpr std::uint16_t kPortI8042Command = 0x64;
inline constexpr std::uint16_t kPortCmosIndex = 0x70;   // 0x70..0x71
inline constexpr std::uint16_t kPortCom1 = 0x3f8;       // 0x3f8..0x3ff
inline constexpr std::uint16_t kPortPciConfig = 0xcf8;  // conf1: 0xcf8 address, 0xcfc data
inline constexpr std::uint16_t kPortAcpiPm1aEvt = 0x600;  // PM1a status (2 bytes), enable (2 bytes)
inline constexpr std::uint16_t kPortAcpiPm1aCnt = 0x604;  // PM1a control (2 bytes): SLP_TYP, SLP_EN

// Interrupt lines (GSIs of the in-kernel IOAPIC; 0..15 are also the PIC's).
inline constexpr std::uint32_t kGsiCom1 = 4;
inline constexpr std::uint32_t kGsiAcpiSci = 9;   // ACPI SCI (FADT SCI_INT); level, active high (MADT)
inline constexpr std::uint32_t kGsiIvshmem = 16;  // PCI INTA of the ivshmem device, edge, high
inline constexpr std::uint32_t kIoapicPins = 24;

// PCI topology: bus 0, one function per device.
inline constexpr std::uint8_t kPciSlotHostBridge = 0;
inline constexpr std::uint8_t kPciSlotIvshmem = 1;

inline constexpr unsigned kMaxVcpus = 16;

}  // namespace vitrine::hv::kvm::layout
