// KvmVm: one VM of Vitrine's own VMM. Owns /dev/kvm, the VM fd, guest RAM, the in-kernel
// irqchip and PIT, the device buses and the vCPUs; boots a bzImage with the 64-bit boot
// protocol and runs until the guest powers off, resets, crashes, or stop() is called.
//
// Rules for a misbehaving guest (the VMM never crashes on guest input):
//   access to an unknown port / MMIO address  -> warning (rate-limited), the guest continues
//   triple fault (KVM_EXIT_SHUTDOWN)          -> the VM ends: VmEnd::kTripleFault
//   i8042 reset, KVM system event reset       -> the VM ends: VmEnd::kReset (`reboot -f`)
//   ACPI S5 (PM1a SLP_EN), KVM system event shutdown -> the VM ends: VmEnd::kPowerOff (`poweroff -f`)
//   entry failure / KVM internal error        -> the VM ends: VmEnd::kGuestError
// Each ending is logged with its reason.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vitrine/hv/kvm/device_bus.hpp"
#include "vitrine/hv/kvm/error.hpp"
#include "vitrine/hv/kvm/guest_memory.hpp"
#include "vitrine/hv/kvm/ivshmem_device.hpp"
#include "vitrine/hv/kvm/uart8250.hpp"
#include "vitrine/hv/kvm/vcpu.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::hv::kvm {

struct KvmVmConfig {
  std::string kernel_path;
  std::string initrd_path;         // empty: none
  std::string cmdline = "console=ttyS0 quiet panic=-1";
  std::uint64_t ram_bytes = 256ull << 20;
  unsigned vcpus = 1;
  // ACPI tables (acpi.hpp) and the PM1a power-off port: `poweroff -f` ends the VM. Without,
  // Linux finds the vCPUs in the MP table and `poweroff -f` only halts.
  bool acpi = true;
  // The bus: a shared mapping (size a power of two) that becomes ivshmem BAR2. Empty: no
  // ivshmem device. The mapping must outlive the VM.
  std::span<std::byte> bus_memory;
  int doorbell_to_host_fd = -1;    // eventfd: guest Doorbell writes signal it (ioeventfd)
  int doorbell_to_guest_fd = -1;   // eventfd: signalling it interrupts the guest (irqfd)
  std::function<void(std::uint8_t)> console;  // bytes the guest writes to its serial port
  std::string kvm_device = "/dev/kvm";
  // Progress watchdog: a VM that makes no exit to user space and writes no console byte within
  // this time of run() ends with VmEnd::kNoProgress (a /dev/kvm that cannot run guests, seen on
  // paravirtual and broken nested KVMs, would otherwise spin silently forever). Zero: off.
  // Generous by default: two levels down under QEMU TCG the first exit takes seconds.
  std::chrono::milliseconds progress_timeout{60'000};
};

enum class VmEnd { kPowerOff, kReset, kTripleFault, kGuestError, kStopped, kHostError, kNoProgress };
const char* vm_end_name(VmEnd end);

struct VmResult {
  VmEnd end = VmEnd::kStopped;
  std::string detail;
  std::uint64_t exits = 0;             // exits handled in user space, all vCPUs
  std::uint64_t unknown_accesses = 0;  // port and MMIO accesses no device claimed
};

class KvmVm final : public GuestMapper {
 public:
  // Opens KVM, creates the VM, loads the kernel; errors name the file, field or ioctl.
  static Result<std::unique_ptr<KvmVm>> create(const KvmVmConfig& config);
  ~KvmVm() override;

  // Starts the vCPUs and blocks until the VM ends (or stop() from another thread / a signal
  // handler thread).
  VmResult run();
  // Asks run() to end with VmEnd::kStopped; any thread.
  void stop();

  Uart8250& console() { return *uart_; }
  DeviceBus& pio_bus() { return pio_; }
  DeviceBus& mmio_bus() { return mmio_; }

  // GuestMapper (the ivshmem device moves BARs through these).
  Result<void> map_memory(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size, void* host) override;
  Result<void> unmap_memory(std::uint32_t slot) override;
  Result<void> set_mmio_eventfd(std::uint64_t gpa, int fd, bool assign) override;

 private:
  KvmVm(ringbus::UniqueFd kvm, ringbus::UniqueFd vm, GuestMemory ram)
      : kvm_(std::move(kvm)), vm_(std::move(vm)), ram_(std::move(ram)) {}
  Result<void> setup_irqchip();
  Result<void> load_kernel(const KvmVmConfig& config);
  Result<void> setup_devices(const KvmVmConfig& config);
  Result<void> create_vcpus(unsigned count);
  Result<void> setup_vcpu(Vcpu& vcpu, unsigned count, std::uint64_t entry);
  Vcpu::Verdict handle_exit(unsigned index, const VcpuExit& exit);
  void end(VmEnd end, std::string detail);

  ringbus::UniqueFd kvm_;
  ringbus::UniqueFd vm_;
  GuestMemory ram_;
  DeviceBus pio_{"pio"};
  DeviceBus mmio_{"mmio"};
  std::shared_ptr<Uart8250> uart_;
  std::shared_ptr<IvshmemDevice> ivshmem_;
  std::unique_ptr<IrqLine> com1_irq_;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
  std::uint64_t entry_ = 0;
  std::atomic<std::uint64_t> exits_{0};
  std::atomic<std::uint64_t> console_bytes_{0};
  std::chrono::milliseconds progress_timeout_{0};
  std::atomic<std::uint64_t> unsupported_{0};

  std::mutex end_lock_;
  std::condition_variable ended_cv_;
  std::optional<VmResult> ended_;
};

}  // namespace vitrine::hv::kvm
