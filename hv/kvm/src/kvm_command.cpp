#include "vitrine/hv/kvm_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vitrine::hv {

using ringbus::Errc;
using ringbus::Error;

std::vector<std::string> kvm_command(const VmConfig& c, const KvmPaths& paths) {
  std::vector<std::string> argv = {paths.program,
                                   "--kernel", c.kernel.string(),
                                   "--initrd", c.initramfs.string(),
                                   "--cmdline", c.cmdline,
                                   "--mem", std::to_string(c.memory_mib),
                                   "--cpus", std::to_string(c.vcpus),
                                   "--bus-fd", std::to_string(kKvmBusFd)};
  if (c.doorbell == DoorbellMode::kIvshmemDoorbell) {
    argv.insert(argv.end(), {"--doorbell-to-host-fd", std::to_string(kKvmWakeHostFd), "--doorbell-to-guest-fd",
                             std::to_string(kKvmWakeGuestFd)});
  }
  if (!paths.serial_log.empty()) argv.insert(argv.end(), {"--console-log", paths.serial_log});
  return argv;
}

Result<void> check_kvm_config(const VmConfig& c) {
  auto bad = [](std::string field, std::string why) {
    return std::unexpected(Error{Errc::kInvalidArgument, 0, field + ": " + why});
  };
  if (c.memory_mib > kKvmMaxMemoryMib)
    return bad("vm.memory_mib", std::to_string(c.memory_mib) + " exceeds the kvm backend's " +
                                    std::to_string(kKvmMaxMemoryMib) + " MiB (RAM stays below the PCI hole)");
  if (c.vcpus > kKvmMaxVcpus)
    return bad("vm.vcpus", std::to_string(c.vcpus) + " exceeds the kvm backend's " + std::to_string(kKvmMaxVcpus));
  if (c.accel == Accel::kTcg) return bad("vm.accel", "\"tcg\" is not possible with backend = \"kvm\" (use qemu)");
  if (c.user_net) return bad("vm.user_net", "the kvm backend has no network device");
  return {};
}

Result<void> check_kvm_device(const std::string& device) {
  const int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  const int e = errno;
  std::string hint;
  if (e == ENOENT) hint = " (no KVM on this machine: load kvm-intel/kvm-amd, or use backend = \"qemu\", which falls back to TCG)";
  if (e == EACCES || e == EPERM) hint = " (add the user to the group that owns it, usually kvm)";
  return std::unexpected(Error{Errc::kInvalidArgument, e, "no " + device + ": open: " + std::strerror(e) + hint});
}

}  // namespace vitrine::hv
