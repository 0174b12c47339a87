#include "vitrine/hv/kvm_command.hpp"

#include "vitrine/hv/kvm_probe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vitrine::hv {


std::vector<std::string> kvm_command(const VmConfig& c, const KvmPaths& paths) {
  std::vector<std::string> argv = {paths.program,
                                   "--kernel", c.kernel.string(),
                                   "--initrd", c.initramfs.string(),
                                   "--cmdline", c.cmdline,
                                   "--mem", std::to_string(c.memory_mib),
                                   "--cpus", std::to_string(c.vcpus),
                                   "--bus-fd", std::to_string(kKvmBusFd),
                                   "--progress-timeout", std::to_string(c.progress_timeout_s),
                                   // the backend ran the probe before it started us (check_kvm_device)
                                   "--no-probe"};
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
  KvmProbeOptions o;
  o.device = device;
  const KvmProbeResult probe = probe_kvm(o);
  if (probe.usable()) return {};
  if (probe.verdict == KvmVerdict::kAbsent) {
    std::string hint;
    if (probe.reason.find("No such file") != std::string::npos)
      hint = " (no KVM on this machine: load kvm-intel/kvm-amd, or use backend = \"qemu\", which falls back to TCG)";
    return std::unexpected(Error{Errc::kInvalidArgument, ENODEV, "no " + device + ": open: " +
                                                                   probe.reason.substr(probe.reason.find(": ") + 2) + hint});
  }
  return std::unexpected(Error{Errc::kInvalidArgument, ENODEV,
                               probe.reason + " [kvm probe, " + probe.source +
                                   "]; use backend = \"qemu\" (it falls back to TCG)"});
}

}  // namespace vitrine::hv
