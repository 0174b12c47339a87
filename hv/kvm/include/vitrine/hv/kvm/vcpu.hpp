// One vCPU: its KVM fd, its mmapped kvm_run page and the thread that calls KVM_RUN.
// Explicit state machine (Firecracker's vcpu states):
//
//   kCreated --start()--> kRunning <--pause()/resume()--> kPaused
//       |                    |                               |
//       +------stop()--------+--------- stop() / exit -------+--> kExited
//
// The thread decodes each exit with decode_exit() and gives it to the handler, which says
// whether to continue. pause() and stop() kick the thread out of KVM_RUN with a signal and
// kvm_run.immediate_exit (no race: a kick that arrives before KVM_RUN makes it return at once).
#pragma once

#include <linux/kvm.h>
#include <pthread.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "vitrine/hv/kvm/error.hpp"
#include "vitrine/hv/kvm/vcpu_exit.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::hv::kvm {

enum class VcpuState { kCreated, kRunning, kPaused, kExited };
const char* vcpu_state_name(VcpuState s);

class Vcpu {
 public:
  // Handler verdict for one exit.
  enum class Verdict { kContinue, kStop };
  using ExitHandler = std::function<Verdict(unsigned index, const VcpuExit& exit)>;
  // Called on the vCPU thread when it ends by itself (a kStop verdict or a KVM_RUN failure,
  // then with the failure text), not when stop() ended it.
  using EndHandler = std::function<void(unsigned index, const std::string& failure)>;

  // `fd` from KVM_CREATE_VCPU; `run_size` from KVM_GET_VCPU_MMAP_SIZE.
  static Result<std::unique_ptr<Vcpu>> create(unsigned index, ringbus::UniqueFd fd, std::size_t run_size);
  ~Vcpu();  // stops and joins

  int fd() const { return fd_.get(); }
  unsigned index() const { return index_; }
  VcpuState state() const;

  // kCreated -> kRunning: starts the thread. Errors on any other state.
  Result<void> start(ExitHandler handler, EndHandler on_end);
  // kRunning -> kPaused; returns once the thread has left KVM_RUN. No-op if not running.
  void pause();
  // kPaused -> kRunning.
  void resume();
  // Any -> kExited; returns once the thread has ended.
  void stop();
  // A KVM_RUN error that ended the thread (empty if none).
  std::string failure() const;

  // Installs the no-op handler of the kick signal (once per process).
  static void install_kick_handler();

 private:
  Vcpu(unsigned index, ringbus::UniqueFd fd, kvm_run* run, std::size_t run_size)
      : index_(index), fd_(std::move(fd)), run_(run), run_size_(run_size) {}
  void thread_main();
  void kick();
  enum class Request { kNone, kPause, kStop };

  unsigned index_;
  ringbus::UniqueFd fd_;
  kvm_run* run_;
  std::size_t run_size_;
  ExitHandler handler_;
  EndHandler on_end_;
  std::thread thread_;
  pthread_t native_{};
  mutable std::mutex lock_;
  std::condition_variable changed_;
  VcpuState state_ = VcpuState::kCreated;
  Request request_ = Request::kNone;
  std::string failure_;
};

}  // namespace vitrine::hv::kvm
