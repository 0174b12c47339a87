// The QEMU command line of a Vitrine VM, built from its VmConfig. Kept apart from the process
// handling so tests can check it without QEMU.
//
// Bus device, two flavours (config vm.doorbell):
//   ivshmem-doorbell  -chardev socket,id=vbus,path=SOCK -device ivshmem-doorbell,chardev=vbus,vectors=1
//                     (the region fd travels through our ivshmem server, with the doorbells)
//   ivshmem-plain     -object memory-backend-file,id=vbus,size=S,share=on,mem-path=/proc/self/fd/N
//                     -device ivshmem-plain,memdev=vbus   (no doorbells: both sides poll)
// libvirt equivalent of the plain flavour (docs/hv.md):
//   <shmem name='vitrine-NAME'><model type='ivshmem-plain'/><size unit='M'>16</size></shmem>
#pragma once

#include <string>
#include <vector>

#include "vitrine/hv/vm_config.hpp"

namespace vitrine::hv {

struct QemuPaths {
  bool kvm = false;                // use KVM (else TCG)
  std::string serial_log;          // -serial file:PATH
  std::string ivshmem_socket;      // doorbell mode
  int region_fd_in_child = -1;     // plain mode: the memfd's number inside QEMU
  std::uint64_t region_size = 0;
};

std::vector<std::string> qemu_command(const VmConfig& config, const QemuPaths& paths);

}  // namespace vitrine::hv
