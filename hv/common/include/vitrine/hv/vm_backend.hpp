// VmBackend: one VM's life under vitrine-vmm (sandbox, qemu, kvm). Single-threaded: the vmm's
// event loop calls every method from its one thread.
//
// Events go out as text lines (the vmm forwards them unchanged on its control socket):
//   state starting | state running | state stopped <why> | state crashed <why>
//   program <name> started pid <host pid>          (sandbox)
//   program <name> exited <exit N | signal N (..)> (sandbox)
//   log <what> <path>                              (where a log file is)
//   info <text>                                    (decisions worth a line, e.g. the accelerator)
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "vitrine/hv/vm_bus.hpp"

namespace vitrine::hv {

using EmitFn = std::function<void(const std::string& line)>;

class VmBackend {
 public:
  virtual ~VmBackend() = default;
  // Starts the VM on the bus fds (taken over). Emits "state starting", then "state running"
  // once the guest side was launched.
  virtual Result<void> start(BusFds fds) = 0;
  // An fd that is readable when on_ready() has work (an epoll fd of the backend's sources).
  virtual int poll_fd() const = 0;
  virtual Result<void> on_ready() = 0;
  // The VM ended by itself (powered off, all programs done) or crashed; the final state line
  // was emitted.
  virtual bool finished() const = 0;
  // Stops the VM: polite first, then SIGKILL after `grace`; returns when nothing of the VM is
  // left. Emits "state stopped ..." unless finished() already.
  virtual void stop(std::chrono::milliseconds grace) = 0;
};

}  // namespace vitrine::hv
