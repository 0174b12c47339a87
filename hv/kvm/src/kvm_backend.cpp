#include "vitrine/hv/kvm_backend.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <fstream>

#include "vitrine/hv/kvm_command.hpp"

namespace vitrine::hv {
namespace {


std::string default_program() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / "vitrine-kvm").string();
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

KvmBackend::KvmBackend(VmConfig config, KvmOptions options, EmitFn emit)
    : config_(std::move(config)), options_(std::move(options)), emit_(std::move(emit)) {}

KvmBackend::~KvmBackend() {
  if (vmm_.running()) stop(std::chrono::milliseconds(500));
}

Result<void> KvmBackend::start(BusFds fds) {
  emit_("state starting");
  fds_ = std::move(fds);
  if (auto r = check_kvm_config(config_); !r) return r;
  if (!std::has_single_bit(fds_.region_size) || fds_.region_size < 4096)
    return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                 "bus region of " + std::to_string(fds_.region_size) +
                                     " bytes: the ivshmem BAR needs a power of two >= 4096 (bus.size)"});
  if (auto r = check_kvm_device(options_.kvm_device); !r) return r;
  const std::string program = options_.program.empty() ? default_program() : options_.program;
  if (::access(program.c_str(), X_OK) != 0)
    return std::unexpected(Error::sys("vitrine-kvm program " + program, errno));

  std::error_code ec;
  std::filesystem::create_directories(options_.log_dir, ec);
  serial_log_ = (options_.log_dir / (config_.name + "-serial.log")).string();
  kvm_log_ = (options_.log_dir / (config_.name + "-kvm.log")).string();
  UniqueFd log(::open(kvm_log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!log) return std::unexpected(Error::sys("open " + kvm_log_, errno));
  emit_("log serial " + serial_log_);
  emit_("log kvm " + kvm_log_);

  KvmPaths paths;
  paths.program = program;
  paths.serial_log = serial_log_;
  SpawnOptions o;
  o.argv = kvm_command(config_, paths);
  // The KVM probe's cache (HOME / XDG_CACHE_HOME) and its override; nothing else of the user's
  // session (vitrine-kvm clears even these once the VM is built).
  o.clear_env = true;
  o.env_keep = {"HOME", "XDG_CACHE_HOME", "VITRINE_KVM_PROBE"};
  o.fds = {{fds_.region.get(), kKvmBusFd}};
  if (config_.doorbell == DoorbellMode::kIvshmemDoorbell) {
    o.fds.emplace_back(fds_.wake_host.get(), kKvmWakeHostFd);
    o.fds.emplace_back(fds_.wake_guest.get(), kKvmWakeGuestFd);
  }
  o.stdout_fd = log.get();
  o.stderr_fd = log.get();
  o.parent_death_signal = SIGKILL;
  {
    const std::string cmd = join(o.argv) + "\n";
    (void)!::write(log.get(), cmd.data(), cmd.size());
  }
  auto child = ChildProcess::spawn(o);
  if (!child) return std::unexpected(child.error());
  vmm_ = std::move(*child);
  emit_("info kvm pid " + std::to_string(vmm_.pid()));
  emit_("state running");
  return {};
}

Result<void> KvmBackend::on_ready() {
  handle_exit();
  return {};
}

std::string KvmBackend::last_log_line() const {
  std::ifstream in(kvm_log_);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

void KvmBackend::handle_exit() {
  if (finished_) return;
  auto st = vmm_.try_wait();
  if (!st || !*st) return;
  finished_ = true;
  // vitrine-kvm's last line: "vitrine-kvm: VM ended: power-off (guest powered off ...); ..."
  const std::string last = last_log_line();
  if (stopping_) {
    emit_("state stopped requested");
  } else if ((*st)->clean()) {
    emit_(last.find("VM ended: reset") != std::string::npos ? "state stopped guest reset"
                                                           : "state stopped guest powered off");
  } else {
    emit_("state crashed vitrine-kvm " + (*st)->to_string() + ": " + last);
  }
}

void KvmBackend::stop(std::chrono::milliseconds grace) {
  if (finished_ || !vmm_.running()) return;
  stopping_ = true;
  // vitrine-kvm ends the VM on SIGTERM (sigwait thread) and exits 0.
  vmm_.terminate(grace);
  handle_exit();
}

}  // namespace vitrine::hv
