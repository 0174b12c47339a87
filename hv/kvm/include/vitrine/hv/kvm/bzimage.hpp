// The x86 Linux boot protocol (Documentation/arch/x86/boot.rst): parsing and checking a
// bzImage's setup header, and building the zero page (struct boot_params) the 64-bit entry
// point expects. Pure functions over bytes: unit tests feed real and broken images.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/hv/kvm/error.hpp"

namespace vitrine::hv::kvm {

// Offsets into the zero page / the image's first sectors (boot.rst "The real-mode kernel header").
namespace boot {
inline constexpr std::size_t kSetupSects = 0x1f1;
inline constexpr std::size_t kBootFlag = 0x1fe;      // 0xaa55
inline constexpr std::size_t kJump = 0x200;          // its second byte + 0x202 = header end
inline constexpr std::size_t kHeaderMagic = 0x202;   // "HdrS"
inline constexpr std::size_t kVersion = 0x206;
inline constexpr std::size_t kTypeOfLoader = 0x210;
inline constexpr std::size_t kLoadflags = 0x211;
inline constexpr std::size_t kCode32Start = 0x214;
inline constexpr std::size_t kRamdiskImage = 0x218;
inline constexpr std::size_t kRamdiskSize = 0x21c;
inline constexpr std::size_t kHeapEndPtr = 0x224;
inline constexpr std::size_t kCmdLinePtr = 0x228;
inline constexpr std::size_t kInitrdAddrMax = 0x22c;
inline constexpr std::size_t kKernelAlignment = 0x230;
inline constexpr std::size_t kRelocatable = 0x234;
inline constexpr std::size_t kXloadflags = 0x236;
inline constexpr std::size_t kCmdlineSize = 0x238;
inline constexpr std::size_t kPayloadOffset = 0x248;
inline constexpr std::size_t kPayloadLength = 0x24c;
inline constexpr std::size_t kPrefAddress = 0x258;
inline constexpr std::size_t kInitSize = 0x260;
// boot_params fields outside the setup header.
inline constexpr std::size_t kAcpiRsdpAddr = 0x070;     // boot_params.acpi_rsdp_addr (u64)
inline constexpr std::size_t kExtRamdiskImage = 0x0c0;
inline constexpr std::size_t kExtRamdiskSize = 0x0c4;
inline constexpr std::size_t kExtCmdLinePtr = 0x0c8;
inline constexpr std::size_t kE820Entries = 0x1e8;
inline constexpr std::size_t kE820Table = 0x2d0;
inline constexpr std::size_t kE820Max = 128;
inline constexpr std::size_t kE820EntryBytes = 20;
inline constexpr std::size_t kZeroPageBytes = 4096;

inline constexpr std::uint8_t kLoadedHigh = 0x01;
inline constexpr std::uint8_t kCanUseHeap = 0x80;
inline constexpr std::uint16_t kXlfKernel64 = 0x01;
inline constexpr std::uint16_t kMinVersion = 0x020c;  // 2.12: xloadflags, 64-bit entry
inline constexpr std::uint32_t kE820Ram = 1;
inline constexpr std::uint32_t kE820Reserved = 2;
}  // namespace boot

struct BzImage {
  std::uint16_t version = 0;         // boot protocol, e.g. 0x020f
  std::uint8_t setup_sects = 0;      // 512-byte sectors of real-mode code after the boot sector
  std::uint8_t loadflags = 0;
  std::uint16_t xloadflags = 0;
  std::uint32_t initrd_addr_max = 0; // highest byte address an initramfs may end at
  std::uint32_t kernel_alignment = 0;
  bool relocatable = false;
  std::uint32_t cmdline_size = 0;    // max command line length without the NUL
  std::uint32_t init_size = 0;       // bytes the kernel needs from its load address on
  std::uint64_t pref_address = 0;
  std::span<const std::byte> setup_header;  // bytes 0x1f1 .. end of header, copied to the zero page
  std::span<const std::byte> kernel;        // protected-mode code, loaded at layout::kKernelLoad
};

// Checks `image` (the whole file) and returns views into it. Errors name what is wrong:
// truncated file, no 0xaa55 / "HdrS" signature (not a bzImage), boot protocol older than 2.12,
// no 64-bit entry point, setup sectors past the end of the file.
Result<BzImage> parse_bzimage(std::span<const std::byte> image);

struct E820Entry {
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
  std::uint32_t type = 0;
};

// What the zero page describes besides the copied header. Addresses are guest-physical.
struct BootParamsSpec {
  std::uint64_t cmdline_addr = 0;
  std::uint32_t cmdline_bytes = 0;   // without the NUL
  std::uint64_t initrd_addr = 0;     // 0: no initramfs
  std::uint64_t initrd_size = 0;
  std::vector<E820Entry> e820;
  std::uint64_t acpi_rsdp_addr = 0;  // boot_params.acpi_rsdp_addr; 0: none (Linux scans the BIOS area)
};

// The e820 map of a guest with `ram_bytes` of RAM starting at GPA 0 (low RAM up to the EBDA,
// then 1 MiB .. ram end). ram_bytes must be within [kMinRamBytes, kMaxRamEnd].
std::vector<E820Entry> e820_map(std::uint64_t ram_bytes);

// Where the initramfs goes: page-aligned, as high as both RAM and the kernel's initrd_addr_max
// allow, and above the kernel's init_size. Error when it does not fit.
Result<std::uint64_t> place_initrd(const BzImage& kernel, std::uint64_t ram_bytes, std::uint64_t initrd_size);

// Checks the command line against the kernel's cmdline_size and the layout's buffer.
Result<void> check_cmdline(const BzImage& kernel, std::string_view cmdline);

// Builds the 4 KiB zero page: the image's setup header, loader fields, command line pointer,
// initramfs, e820 table.
Result<std::vector<std::byte>> build_boot_params(const BzImage& kernel, const BootParamsSpec& spec);

// Reads back the e820 table of a zero page (tests, and a debug dump).
std::vector<E820Entry> read_e820(std::span<const std::byte> zero_page);

}  // namespace vitrine::hv::kvm
