#include "vitrine/hv/kvm/vcpu.hpp"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>

namespace vitrine::hv::kvm {
namespace {
int kick_signal() { return SIGRTMIN + 2; }
void on_kick(int) {}  // only interrupts KVM_RUN (EINTR); the request is read under the lock
}  // namespace

const char* vcpu_state_name(VcpuState s) {
  switch (s) {
    case VcpuState::kCreated: return "created";
    case VcpuState::kRunning: return "running";
    case VcpuState::kPaused: return "paused";
    case VcpuState::kExited: return "exited";
  }
  return "?";
}

void Vcpu::install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_kick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must come back with EINTR
    ::sigaction(kick_signal(), &sa, nullptr);
  });
}

Result<std::unique_ptr<Vcpu>> Vcpu::create(unsigned index, ringbus::UniqueFd fd, std::size_t run_size) {
  if (run_size < sizeof(kvm_run)) return std::unexpected(invalid(fmt::format("kvm_run size {} too small", run_size)));
  void* p = ::mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) return std::unexpected(sys_error(fmt::format("mmap(kvm_run of vCPU {})", index)));
  install_kick_handler();
  return std::unique_ptr<Vcpu>(new Vcpu(index, std::move(fd), static_cast<kvm_run*>(p), run_size));
}

Vcpu::~Vcpu() {
  stop();
  ::munmap(run_, run_size_);
}

VcpuState Vcpu::state() const {
  std::lock_guard g(lock_);
  return state_;
}

std::string Vcpu::failure() const {
  std::lock_guard g(lock_);
  return failure_;
}

Result<void> Vcpu::start(ExitHandler handler, EndHandler on_end) {
  std::lock_guard g(lock_);
  if (state_ != VcpuState::kCreated) {
    return std::unexpected(invalid(fmt::format("vCPU {}: start() in state {}", index_, vcpu_state_name(state_))));
  }
  handler_ = std::move(handler);
  on_end_ = std::move(on_end);
  state_ = VcpuState::kRunning;
  thread_ = std::thread([this] { thread_main(); });
  native_ = thread_.native_handle();
  return {};
}

void Vcpu::kick() {
  // Written by us, read by the kernel at KVM_RUN entry: a relaxed store suffices because the
  // signal (or the next ioctl) is the synchronization point.
  std::atomic_ref<std::uint8_t>(run_->immediate_exit).store(1, std::memory_order_relaxed);
  ::pthread_kill(native_, kick_signal());
}

void Vcpu::pause() {
  std::unique_lock g(lock_);
  if (state_ != VcpuState::kRunning) return;
  request_ = Request::kPause;
  kick();
  changed_.wait(g, [&] { return state_ != VcpuState::kRunning; });
}

void Vcpu::resume() {
  std::lock_guard g(lock_);
  if (state_ != VcpuState::kPaused) return;
  request_ = Request::kNone;
  changed_.notify_all();
}

void Vcpu::stop() {
  {
    std::unique_lock g(lock_);
    if (state_ == VcpuState::kCreated) {
      state_ = VcpuState::kExited;
      return;
    }
    if (state_ != VcpuState::kExited) {
      request_ = Request::kStop;
      changed_.notify_all();
      kick();
    }
  }
  if (thread_.joinable()) thread_.join();
}

void Vcpu::thread_main() {
  // Unblock the kick signal in this thread only (the VMM may block it elsewhere).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kick_signal());
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  bool by_itself = false;
  std::string failure;
  for (;;) {
    {
      std::unique_lock g(lock_);
      while (request_ == Request::kPause) {
        state_ = VcpuState::kPaused;
        changed_.notify_all();
        changed_.wait(g);
      }
      if (request_ == Request::kStop) break;
      state_ = VcpuState::kRunning;
      std::atomic_ref<std::uint8_t>(run_->immediate_exit).store(0, std::memory_order_relaxed);
    }
    if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;  // kicked: look at the request
      failure = fmt::format("KVM_RUN on vCPU {}: {}", index_, std::strerror(errno));
      by_itself = true;
      break;
    }
    const VcpuExit exit = decode_exit(run_, run_size_);
    if (std::holds_alternative<ExitInterrupted>(exit)) continue;
    if (handler_(index_, exit) == Verdict::kStop) {
      by_itself = true;
      break;
    }
  }
  if (by_itself && on_end_) on_end_(index_, failure);
  std::lock_guard g(lock_);
  failure_ = failure;
  state_ = VcpuState::kExited;
  changed_.notify_all();
}

}  // namespace vitrine::hv::kvm
