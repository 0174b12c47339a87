// fuzz-libs: vitrine_hv_kvm
// libFuzzer target: hv/kvm's bzImage parser and zero-page builder on arbitrary files. Every
// input must give a value or a clear error, never a read outside the buffer.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vitrine/hv/kvm/bzimage.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace kvm = vitrine::hv::kvm;
  auto k = kvm::parse_bzimage(std::span(reinterpret_cast<const std::byte*>(data), size));
  if (!k) return 0;
  const std::uint64_t ram = 64ull << 20;
  auto at = kvm::place_initrd(*k, ram, size);
  kvm::BootParamsSpec spec{0x20000, 10, at ? *at : 0, at ? size : 0, kvm::e820_map(ram)};
  auto zp = kvm::build_boot_params(*k, spec);
  if (zp) (void)kvm::read_e820(*zp);
  (void)kvm::check_cmdline(*k, "console=ttyS0");
  return 0;
}
