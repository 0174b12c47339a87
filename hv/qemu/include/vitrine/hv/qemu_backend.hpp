// QemuBackend: the VM is a QEMU process. Boots the config's kernel + initramfs with the bus as
// an ivshmem device (qemu_command.hpp); KVM when /dev/kvm is usable, TCG otherwise (the choice
// and the reason go to the log); serial console to <log_dir>/<name>-serial.log, QEMU's own
// output to <name>-qemu.log. In ivshmem-doorbell mode this backend runs the ivshmem server.
//
// QEMU gets PR_SET_PDEATHSIG(SIGKILL): it dies with vitrine-vmm. Crash detection: QEMU's exit
// is seen on its pidfd; exit 0 without a stop request = the guest powered off (stopped),
// anything else = crashed, with the last line of the QEMU log as the reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "vitrine/hv/child_process.hpp"
#include "vitrine/hv/ivshmem_server.hpp"
#include "vitrine/hv/vm_backend.hpp"

namespace vitrine::hv {

struct QemuOptions {
  std::filesystem::path log_dir;
};

// Whether /dev/kvm can be opened read-write; `why` gets the reason when not.
bool kvm_usable(std::string* why);

class QemuBackend final : public VmBackend {
 public:
  QemuBackend(VmConfig config, QemuOptions options, EmitFn emit);
  ~QemuBackend() override;

  Result<void> start(BusFds fds) override;
  int poll_fd() const override { return epoll_.get(); }
  Result<void> on_ready() override;
  bool finished() const override { return finished_; }
  void stop(std::chrono::milliseconds grace) override;

  pid_t qemu_pid() const { return qemu_.running() ? qemu_.pid() : -1; }
  const std::string& serial_log() const { return serial_log_; }

 private:
  void handle_exit();
  std::string last_qemu_log_line() const;

  VmConfig config_;
  QemuOptions options_;
  EmitFn emit_;
  BusFds fds_;
  std::filesystem::path socket_dir_;
  std::optional<IvshmemServer> server_;
  ChildProcess qemu_;
  UniqueFd epoll_;
  std::string serial_log_;
  std::string qemu_log_;
  bool stopping_ = false;
  bool finished_ = false;
};

}  // namespace vitrine::hv
