// A minimal, well-formed bzImage built in memory, for tests that need a kernel file without
// Debian's: the bzImage parser's tests and the KVM VMM's watchdog test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "vitrine/hv/kvm/bzimage.hpp"

namespace vitrine::hv::kvm::test {

template <typename T>
inline void put(std::vector<std::byte>& b, std::size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}
template <typename T>
inline T get(std::span<const std::byte> b, std::size_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

// A minimal, well-formed bzImage: 4 setup sectors after the boot sector, protocol 2.15, a
// 64 KiB "kernel".
inline std::vector<std::byte> synthetic_bzimage() {
  std::vector<std::byte> img(5 * 512 + 65536);
  img[vitrine::hv::kvm::boot::kSetupSects] = std::byte{4};
  put<std::uint16_t>(img, vitrine::hv::kvm::boot::kBootFlag, 0xaa55);
  img[vitrine::hv::kvm::boot::kJump] = std::byte{0xeb};
  img[vitrine::hv::kvm::boot::kJump + 1] = std::byte{0x6a};  // header ends at 0x26c
  put<std::uint32_t>(img, vitrine::hv::kvm::boot::kHeaderMagic, 0x53726448);
  put<std::uint16_t>(img, vitrine::hv::kvm::boot::kVersion, 0x020f);
  img[vitrine::hv::kvm::boot::kLoadflags] = std::byte{vitrine::hv::kvm::boot::kLoadedHigh};
  put<std::uint32_t>(img, vitrine::hv::kvm::boot::kInitrdAddrMax, 0x7fffffff);
  put<std::uint32_t>(img, vitrine::hv::kvm::boot::kKernelAlignment, 0x200000);
  img[vitrine::hv::kvm::boot::kRelocatable] = std::byte{1};
  put<std::uint16_t>(img, vitrine::hv::kvm::boot::kXloadflags, 0x1f);
  put<std::uint32_t>(img, vitrine::hv::kvm::boot::kCmdlineSize, 2047);
  put<std::uint32_t>(img, vitrine::hv::kvm::boot::kPayloadOffset, 0x100);
  put<std::uint32_t>(img, vitrine::hv::kvm::boot::kPayloadLength, 0x1000);
  put<std::uint64_t>(img, vitrine::hv::kvm::boot::kPrefAddress, 0x1000000);
  put<std::uint32_t>(img, vitrine::hv::kvm::boot::kInitSize, 0x800000);
  return img;
}

// Offset of the protected-mode kernel (what is loaded at 1 MiB) in synthetic_bzimage(): after the
// boot sector and its 4 setup sectors. The 64-bit entry is 0x200 bytes into it.
inline constexpr std::size_t kSyntheticKernelOffset = 5 * 512;

}  // namespace vitrine::hv::kvm::test
