// KvmBackend: the VM is Vitrine's own VMM, vitrine-kvm (hv/kvm), as a child of vitrine-vmm.
// The same events as the qemu backend (vm_backend.hpp):
//   state starting, log serial <path>, log kvm <path>, info kvm pid <pid>, state running,
//   then state stopped guest powered off | guest reset | requested
//   or   state crashed vitrine-kvm <exit N | signal N>: <its last log line>
// vitrine-kvm's exit status says how the VM ended (0 powered off / reset / stopped, 3 triple
// fault, 4 guest error, 5 host error, 1 setup error); its last log line names the reason.
// The bus memfd is the ivshmem BAR2, wake_host is signalled by the guest's Doorbell writes in
// the kernel (ioeventfd: no hop through user space), wake_guest interrupts the guest (irqfd).
// Before anything starts: the config checks of kvm_command.hpp and "no /dev/kvm: ..." when KVM
// is missing. vitrine-kvm gets PR_SET_PDEATHSIG(SIGKILL): it dies with vitrine-vmm.
#pragma once

#include <filesystem>
#include <string>

#include "vitrine/hv/child_process.hpp"
#include "vitrine/hv/vm_backend.hpp"

namespace vitrine::hv {

struct KvmOptions {
  std::filesystem::path log_dir;
  std::string program;                 // vitrine-kvm; empty: next to the running executable
  std::string kvm_device = "/dev/kvm";
};

class KvmBackend final : public VmBackend {
 public:
  KvmBackend(VmConfig config, KvmOptions options, EmitFn emit);
  ~KvmBackend() override;

  Result<void> start(BusFds fds) override;
  int poll_fd() const override { return vmm_.pidfd(); }
  Result<void> on_ready() override;
  bool finished() const override { return finished_; }
  void stop(std::chrono::milliseconds grace) override;

  pid_t vmm_pid() const { return vmm_.running() ? vmm_.pid() : -1; }

 private:
  void handle_exit();
  std::string last_log_line() const;

  VmConfig config_;
  KvmOptions options_;
  EmitFn emit_;
  BusFds fds_;
  ChildProcess vmm_;
  std::string serial_log_;
  std::string kvm_log_;
  bool stopping_ = false;
  bool finished_ = false;
};

}  // namespace vitrine::hv
