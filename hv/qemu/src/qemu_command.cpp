#include "vitrine/hv/qemu_command.hpp"

namespace vitrine::hv {

std::vector<std::string> qemu_command(const VmConfig& c, const QemuPaths& p) {
  std::vector<std::string> a = {
      c.qemu_binary,
      "-name", "vitrine-" + c.name,
      // Nothing we did not ask for: no default NIC, VGA, floppy, CD-ROM or monitor.
      "-nodefaults", "-no-user-config", "-display", "none",
      // A guest reboot ends the VM (the vmm reports it) instead of looping.
      "-no-reboot",
      // QEMU's own seccomp filter once the machine is built: no obsolete system calls, no
      // setuid/setgid, no fork/exec, no scheduler or CPU-affinity changes. Device emulation is
      // the part of QEMU a guest attacks; this bounds what a successful attack can call.
      "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
      "-accel", p.kvm ? "kvm" : "tcg",
      // Under KVM the host's CPU minus arch-capabilities: some hosts (nested virtualization,
      // paravirtual KVMs) list MSR 0x10a as supported and then refuse its write, and QEMU 7.2
      // aborts on that ("failed to set MSR 0x10a", an assertion in kvm_buf_set_msrs). The guest
      // then assumes the CPU vulnerable and keeps its mitigations on: correct, slightly slower.
      "-cpu", p.kvm ? "host,-arch-capabilities" : "max",
      "-m", std::to_string(c.memory_mib),
      "-smp", std::to_string(c.vcpus),
      "-kernel", c.kernel.string(),
      "-initrd", c.initramfs.string(),
      "-append", c.cmdline,
      "-serial", "file:" + p.serial_log,
  };
  if (c.doorbell == DoorbellMode::kIvshmemDoorbell) {
    a.insert(a.end(), {"-chardev", "socket,id=vbus,path=" + p.ivshmem_socket,
                       "-device", "ivshmem-doorbell,chardev=vbus,vectors=1"});
  } else {
    a.insert(a.end(), {"-object",
                       "memory-backend-file,id=vbus,share=on,size=" + std::to_string(p.region_size) +
                           ",mem-path=/proc/self/fd/" + std::to_string(p.region_fd_in_child),
                       "-device", "ivshmem-plain,memdev=vbus"});
  }
  if (c.user_net) {
    // Only for comparisons (bench_vm): the bus is otherwise the guest's only way out.
    // Forwards (validated by the config: no commas) reach the guest's 10.0.2.15 by default.
    std::string netdev = "user,id=net0";
    for (const auto& rule : c.user_net_forwards) netdev += ",hostfwd=" + rule;
    a.insert(a.end(), {"-netdev", netdev, "-device", "virtio-net-pci,netdev=net0"});
  }
  return a;
}

}  // namespace vitrine::hv
