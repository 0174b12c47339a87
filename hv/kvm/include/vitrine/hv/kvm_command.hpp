// The vitrine-kvm command line of a Vitrine VM with backend = "kvm", built from its VmConfig,
// and the checks that backend makes before it starts anything. Kept apart from the process
// handling so that tests check them without /dev/kvm.
//
//   vitrine-kvm --kernel K --initrd I --cmdline C --mem MiB --cpus N
//               --bus-fd 3 [--doorbell-to-host-fd 4 --doorbell-to-guest-fd 5]
//               --console-log <log_dir>/<name>-serial.log
// The bus memfd becomes the ivshmem BAR2 (a KVM memory slot); wake_host is signalled in the
// kernel when the guest writes BAR0's Doorbell (ioeventfd), wake_guest interrupts the guest
// (irqfd). vm.doorbell = "ivshmem-plain" leaves both doorbells out (both sides poll).
#pragma once

#include <string>
#include <vector>

#include "vitrine/hv/vm_bus.hpp"
#include "vitrine/hv/vm_config.hpp"

namespace vitrine::hv {

inline constexpr int kKvmBusFd = 3;
inline constexpr int kKvmWakeHostFd = 4;
inline constexpr int kKvmWakeGuestFd = 5;
// What vitrine-kvm can give a guest (hv/kvm/layout.hpp: RAM below the 3 GiB PCI hole).
inline constexpr std::uint32_t kKvmMaxMemoryMib = 3072;
inline constexpr std::uint32_t kKvmMaxVcpus = 16;

struct KvmPaths {
  std::string program = "vitrine-kvm";  // the VMM binary
  std::string serial_log;               // guest console
};

std::vector<std::string> kvm_command(const VmConfig& config, const KvmPaths& paths);

// The config fields the kvm backend cannot honour, as "<field>: <why>" (vm.memory_mib above
// 3072, vm.vcpus above 16, vm.accel = "tcg", vm.user_net).
Result<void> check_kvm_config(const VmConfig& config);

// Runs the KVM probe (kvm_probe.hpp) on `device`: an error when the device is missing ("no
// /dev/kvm: open: ..." with a hint) or cannot run a guest (the probe's reason).
Result<void> check_kvm_device(const std::string& device = "/dev/kvm");

}  // namespace vitrine::hv
