// fuzz-libs: vitrine_hv_kvm
// libFuzzer target: the vCPU exit decoder and the device buses behind it, on a kvm_run page
// filled with arbitrary bytes (a hostile guest or a confused kernel): decoding must stay inside
// the page, and dispatching the decoded access to the port/MMIO devices must never crash.
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "vitrine/base/log.hpp"
#include "vitrine/hv/kvm/device_bus.hpp"
#include "vitrine/hv/kvm/layout.hpp"
#include "vitrine/hv/kvm/legacy_devices.hpp"
#include "vitrine/hv/kvm/pci.hpp"
#include "vitrine/hv/kvm/uart8250.hpp"
#include "vitrine/hv/kvm/vcpu_exit.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace kvm = vitrine::hv::kvm;
  namespace layout = vitrine::hv::kvm::layout;
  static const bool quiet = [] {
    vitrine::base::set_log_sink([](vitrine::base::LogLevel, std::string_view) {});
    return true;
  }();
  (void)quiet;
  static kvm::DeviceBus pio("pio");
  static kvm::DeviceBus mmio("mmio");
  static const bool wired = [] {
    (void)pio.insert(std::make_shared<kvm::Uart8250>(nullptr, nullptr), layout::kPortCom1, 8);
    (void)pio.insert(std::make_shared<kvm::CmosRtc>(), layout::kPortCmosIndex, 2);
    (void)pio.insert(std::make_shared<kvm::PciHostBridge>(), layout::kPortPciConfig, 8);
    return true;
  }();
  (void)wired;
  constexpr std::size_t kPage = 4096;
  std::vector<std::byte> page(kPage);
  std::memcpy(page.data(), data, size < kPage ? size : kPage);
  auto* run = reinterpret_cast<kvm_run*>(page.data());
  const kvm::VcpuExit exit = kvm::decode_exit(run, kPage);
  std::visit(
      [](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, kvm::ExitIoIn>) pio.read(e.port, e.data);
        if constexpr (std::is_same_v<T, kvm::ExitIoOut>) pio.write(e.port, e.data);
        if constexpr (std::is_same_v<T, kvm::ExitMmioRead>) mmio.read(e.addr, e.data);
        if constexpr (std::is_same_v<T, kvm::ExitMmioWrite>) mmio.write(e.addr, e.data);
      },
      exit);
  (void)kvm::exit_name(exit);
  return 0;
}
