// QemuBackend: the VM is a QEMU process. Boots the config's kernel + initramfs with the bus as
// an ivshmem device (qemu_command.hpp). Accelerator: vm.accel = "auto" takes KVM when the KVM
// probe (kvm_probe.hpp: a tiny guest must run, at speed) passes and TCG otherwise, with the
// reason on one line ("info accel tcg (...)"); a QEMU that dies within its first seconds under
// KVM is started again under TCG, with the reason. vm.accel = "kvm" with a failing probe is a
// start error that names the probe's result (vitrine-vmm exits 1), never a QEMU assertion;
// serial console to <log_dir>/<name>-serial.log, serial console to <log_dir>/<name>-serial.log, QEMU's own
// output to <name>-qemu.log. In ivshmem-doorbell mode this backend runs the ivshmem server.
//
// QEMU gets PR_SET_PDEATHSIG(SIGKILL): it dies with vitrine-vmm. Crash detection: QEMU's exit
// is seen on its pidfd; exit 0 without a stop request = the guest powered off (stopped),
// anything else = crashed, with the last line of the QEMU log as the reason.
#pragma once

#include <chrono>

#include <filesystem>
#include <optional>
#include <string>

#include "vitrine/hv/child_process.hpp"
#include "vitrine/hv/ivshmem_server.hpp"
#include "vitrine/hv/qemu_command.hpp"
#include "vitrine/hv/vm_backend.hpp"

namespace vitrine::hv {

struct QemuOptions {
  std::filesystem::path log_dir;
};

// How long a QEMU under KVM must live for its death not to be blamed on KVM (auto falls back).
inline constexpr std::chrono::seconds kKvmGraceToFallBack{5};

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
  Result<void> spawn_qemu();
  void handle_exit();
  std::string last_qemu_log_line() const;

  VmConfig config_;
  QemuOptions options_;
  EmitFn emit_;
  BusFds fds_;
  std::filesystem::path socket_dir_;
  std::optional<IvshmemServer> server_;
  QemuPaths paths_;
  ChildProcess qemu_;
  std::chrono::steady_clock::time_point qemu_started_{};
  UniqueFd epoll_;
  std::string serial_log_;
  std::string qemu_log_;
  bool stopping_ = false;
  bool finished_ = false;
};

}  // namespace vitrine::hv
