// Ctrl-C handling for long-running subcommands: SIGINT and SIGTERM are blocked and read from a
// signalfd, so the main loop polls for them like any other event and then shuts down in order
// (no work in a signal handler, nothing left running).
#pragma once

#include <signal.h>

#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::cli {

class ShutdownSignal {
 public:
  ShutdownSignal();   // blocks SIGINT/SIGTERM in this thread (call before starting threads)
  ~ShutdownSignal();  // restores the previous mask
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  int fd() const { return fd_.get(); }
  // Non-blocking: the signal number received, or 0.
  int poll_signal();

 private:
  sigset_t old_mask_{};
  ringbus::UniqueFd fd_;
};

}  // namespace vitrine::cli
