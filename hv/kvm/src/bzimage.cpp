#include "vitrine/hv/kvm/bzimage.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "byte_io.hpp"
#include "vitrine/hv/kvm/layout.hpp"

namespace vitrine::hv::kvm {

using detail::load_le;
using detail::store_le;

Result<BzImage> parse_bzimage(std::span<const std::byte> image) {
  // The header fields we read end at pref_address/init_size (0x264); anything shorter is not
  // even a boot sector plus header.
  constexpr std::size_t kMinBytes = boot::kInitSize + 4;
  if (image.size() < kMinBytes) {
    return std::unexpected(invalid(fmt::format(
        "kernel image truncated: {} bytes, a bzImage header alone needs {}", image.size(), kMinBytes)));
  }
  if (load_le<std::uint16_t>(image, boot::kBootFlag) != 0xaa55) {
    return std::unexpected(invalid("not a bzImage: no 0xaa55 boot signature at offset 0x1fe"));
  }
  if (load_le<std::uint32_t>(image, boot::kHeaderMagic) != 0x53726448) {  // "HdrS"
    return std::unexpected(invalid("not a bzImage: no \"HdrS\" setup header at offset 0x202"));
  }
  BzImage k;
  k.version = load_le<std::uint16_t>(image, boot::kVersion);
  if (k.version < boot::kMinVersion) {
    return std::unexpected(invalid(fmt::format(
        "boot protocol {}.{:02} too old: the 64-bit entry needs 2.12 or later", k.version >> 8, k.version & 0xff)));
  }
  k.setup_sects = std::to_integer<std::uint8_t>(image[boot::kSetupSects]);
  if (k.setup_sects == 0) k.setup_sects = 4;  // boot.rst: 0 means 4
  k.loadflags = std::to_integer<std::uint8_t>(image[boot::kLoadflags]);
  k.xloadflags = load_le<std::uint16_t>(image, boot::kXloadflags);
  k.initrd_addr_max = load_le<std::uint32_t>(image, boot::kInitrdAddrMax);
  k.kernel_alignment = load_le<std::uint32_t>(image, boot::kKernelAlignment);
  k.relocatable = std::to_integer<std::uint8_t>(image[boot::kRelocatable]) != 0;
  k.cmdline_size = load_le<std::uint32_t>(image, boot::kCmdlineSize);
  k.pref_address = load_le<std::uint64_t>(image, boot::kPrefAddress);
  k.init_size = load_le<std::uint32_t>(image, boot::kInitSize);
  if ((k.loadflags & boot::kLoadedHigh) == 0) {
    return std::unexpected(invalid("zImage (loaded low) is not supported: LOADED_HIGH is clear"));
  }
  if ((k.xloadflags & boot::kXlfKernel64) == 0) {
    return std::unexpected(invalid("kernel has no 64-bit entry point (XLF_KERNEL_64 clear in xloadflags)"));
  }
  if (!k.relocatable && k.pref_address != layout::kKernelLoad) {
    return std::unexpected(invalid(fmt::format(
        "kernel is not relocatable and wants address {:#x}; this VMM loads at {:#x}", k.pref_address,
        layout::kKernelLoad)));
  }
  const std::size_t header_end = 0x202 + std::to_integer<std::uint8_t>(image[boot::kJump + 1]);
  const std::size_t setup_bytes = (static_cast<std::size_t>(k.setup_sects) + 1) * 512;
  if (header_end <= boot::kHeaderMagic || header_end > setup_bytes) {
    return std::unexpected(invalid(fmt::format("setup header end {:#x} outside the setup sectors", header_end)));
  }
  if (setup_bytes >= image.size()) {
    return std::unexpected(invalid(fmt::format(
        "kernel image truncated: {} setup sectors need {} bytes, file has {}", k.setup_sects, setup_bytes,
        image.size())));
  }
  // Payload (the compressed kernel) must lie inside the protected-mode part.
  const std::uint64_t payload_end = static_cast<std::uint64_t>(load_le<std::uint32_t>(image, boot::kPayloadOffset)) +
                                    load_le<std::uint32_t>(image, boot::kPayloadLength);
  if (setup_bytes + payload_end > image.size()) {
    return std::unexpected(invalid(fmt::format(
        "kernel image truncated: payload ends at {:#x}, file has {:#x} bytes", setup_bytes + payload_end,
        image.size())));
  }
  k.setup_header = image.subspan(boot::kSetupSects, header_end - boot::kSetupSects);
  k.kernel = image.subspan(setup_bytes);
  return k;
}

std::vector<E820Entry> e820_map(std::uint64_t ram_bytes) {
  return {
      {0, layout::kLowRamEnd, boot::kE820Ram},
      {layout::kEbdaStart, layout::kHighRamStart - layout::kEbdaStart, boot::kE820Reserved},
      {layout::kHighRamStart, ram_bytes - layout::kHighRamStart, boot::kE820Ram},
  };
}

Result<std::uint64_t> place_initrd(const BzImage& kernel, std::uint64_t ram_bytes, std::uint64_t initrd_size) {
  const std::uint64_t limit = std::min<std::uint64_t>(ram_bytes, static_cast<std::uint64_t>(kernel.initrd_addr_max) + 1);
  const std::uint64_t kernel_end = layout::kKernelLoad + std::max<std::uint64_t>(kernel.init_size, kernel.kernel.size());
  if (initrd_size > limit) {
    return std::unexpected(invalid(fmt::format("initramfs of {} bytes does not fit below {:#x}", initrd_size, limit)));
  }
  const std::uint64_t addr = (limit - initrd_size) & ~std::uint64_t{0xfff};
  if (addr < kernel_end) {
    return std::unexpected(invalid(fmt::format(
        "initramfs of {} bytes does not fit between the kernel (ends {:#x}) and {:#x}: give the VM more memory",
        initrd_size, kernel_end, limit)));
  }
  return addr;
}

Result<void> check_cmdline(const BzImage& kernel, std::string_view cmdline) {
  const std::uint64_t max = std::min<std::uint64_t>(kernel.cmdline_size, layout::kCmdlineMax - 1);
  if (cmdline.size() > max) {
    return std::unexpected(invalid(fmt::format("kernel command line of {} bytes exceeds {}", cmdline.size(), max)));
  }
  if (cmdline.find('\0') != std::string_view::npos) {
    return std::unexpected(invalid("kernel command line contains a NUL byte"));
  }
  return {};
}

Result<std::vector<std::byte>> build_boot_params(const BzImage& kernel, const BootParamsSpec& spec) {
  if (spec.e820.size() > boot::kE820Max) {
    return std::unexpected(invalid(fmt::format("{} e820 entries, at most {}", spec.e820.size(), boot::kE820Max)));
  }
  if (kernel.setup_header.size() > boot::kZeroPageBytes - boot::kSetupSects) {
    return std::unexpected(invalid("setup header larger than the zero page"));
  }
  std::vector<std::byte> page(boot::kZeroPageBytes);
  std::span<std::byte> zp(page);
  std::memcpy(page.data() + boot::kSetupSects, kernel.setup_header.data(), kernel.setup_header.size());
  zp[boot::kTypeOfLoader] = std::byte{0xff};  // boot.rst: 0xff = undefined loader
  zp[boot::kLoadflags] = std::byte{static_cast<std::uint8_t>(kernel.loadflags | boot::kCanUseHeap)};
  // heap_end_ptr is relative to the real-mode code; unused on the 64-bit path but must be sane.
  store_le<std::uint16_t>(zp, boot::kHeapEndPtr, 0xfe00 - 0x200);
  store_le<std::uint32_t>(zp, boot::kCmdLinePtr, static_cast<std::uint32_t>(spec.cmdline_addr));
  store_le<std::uint32_t>(zp, boot::kExtCmdLinePtr, static_cast<std::uint32_t>(spec.cmdline_addr >> 32));
  store_le<std::uint32_t>(zp, boot::kRamdiskImage, static_cast<std::uint32_t>(spec.initrd_addr));
  store_le<std::uint32_t>(zp, boot::kRamdiskSize, static_cast<std::uint32_t>(spec.initrd_size));
  store_le<std::uint32_t>(zp, boot::kExtRamdiskImage, static_cast<std::uint32_t>(spec.initrd_addr >> 32));
  store_le<std::uint32_t>(zp, boot::kExtRamdiskSize, static_cast<std::uint32_t>(spec.initrd_size >> 32));
  store_le<std::uint64_t>(zp, boot::kAcpiRsdpAddr, spec.acpi_rsdp_addr);
  zp[boot::kE820Entries] = std::byte{static_cast<std::uint8_t>(spec.e820.size())};
  for (std::size_t i = 0; i < spec.e820.size(); ++i) {
    const std::size_t at = boot::kE820Table + i * boot::kE820EntryBytes;
    store_le<std::uint64_t>(zp, at, spec.e820[i].addr);
    store_le<std::uint64_t>(zp, at + 8, spec.e820[i].size);
    store_le<std::uint32_t>(zp, at + 16, spec.e820[i].type);
  }
  return page;
}

std::vector<E820Entry> read_e820(std::span<const std::byte> zp) {
  std::vector<E820Entry> out;
  if (zp.size() < boot::kZeroPageBytes) return out;
  const std::size_t n = std::min<std::size_t>(std::to_integer<std::uint8_t>(zp[boot::kE820Entries]), boot::kE820Max);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = boot::kE820Table + i * boot::kE820EntryBytes;
    out.push_back({load_le<std::uint64_t>(zp, at), load_le<std::uint64_t>(zp, at + 8), load_le<std::uint32_t>(zp, at + 16)});
  }
  return out;
}

}  // namespace vitrine::hv::kvm
