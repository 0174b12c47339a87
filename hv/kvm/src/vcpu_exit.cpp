#include "vitrine/hv/kvm/vcpu_exit.hpp"

#include <linux/kvm.h>

#include <fmt/format.h>

namespace vitrine::hv::kvm {

VcpuExit decode_exit(kvm_run* run, std::size_t run_size) {
  switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      const std::uint64_t size = run->io.size;
      const std::uint64_t count = run->io.count;
      const std::uint64_t offset = run->io.data_offset;
      if ((size != 1 && size != 2 && size != 4) || count != 1) {
        return ExitUnsupported{run->exit_reason,
                               fmt::format("port {:#x} I/O of size {} count {}", run->io.port, size, count)};
      }
      if (offset < sizeof(kvm_run) || offset > run_size || run_size - offset < size) {
        return ExitUnsupported{run->exit_reason, fmt::format("port I/O data offset {:#x} outside kvm_run", offset)};
      }
      auto* data = reinterpret_cast<std::uint8_t*>(run) + offset;
      if (run->io.direction == KVM_EXIT_IO_OUT) return ExitIoOut{run->io.port, {data, size}};
      return ExitIoIn{run->io.port, {data, size}};
    }
    case KVM_EXIT_MMIO: {
      const std::uint32_t len = run->mmio.len;
      if (len == 0 || len > sizeof(run->mmio.data)) {
        return ExitUnsupported{run->exit_reason, fmt::format("MMIO of length {}", len)};
      }
      if (run->mmio.is_write) return ExitMmioWrite{run->mmio.phys_addr, {run->mmio.data, len}};
      return ExitMmioRead{run->mmio.phys_addr, {run->mmio.data, len}};
    }
    case KVM_EXIT_HLT: return ExitHlt{};
    case KVM_EXIT_SHUTDOWN: return ExitShutdown{};
    case KVM_EXIT_INTR: return ExitInterrupted{};
    case KVM_EXIT_SYSTEM_EVENT: return ExitSystemEvent{run->system_event.type};
    case KVM_EXIT_FAIL_ENTRY: return ExitFailEntry{run->fail_entry.hardware_entry_failure_reason};
    case KVM_EXIT_INTERNAL_ERROR: return ExitInternalError{run->internal.suberror};
    default: return ExitUnsupported{run->exit_reason, fmt::format("exit reason {}", run->exit_reason)};
  }
}

const char* exit_name(const VcpuExit& exit) {
  static constexpr const char* kNames[] = {"io-in", "io-out", "mmio-read", "mmio-write", "hlt", "shutdown",
                                           "interrupted", "system-event", "fail-entry", "internal-error",
                                           "unsupported"};
  return kNames[exit.index()];
}

}  // namespace vitrine::hv::kvm
