// ChildProcess: a spawned program owned through a pidfd. The destructor kills (SIGKILL) and
// reaps it, so no path out of a scope leaves a process behind. Spawning uses fork + execve
// with only async-signal-safe calls in between, so it is safe from multi-threaded callers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vitrine/hv/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::hv {

using ringbus::UniqueFd;

struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit code, or the signal number when signaled
  bool clean() const { return !signaled && code == 0; }
  std::string to_string() const;  // "exit 3" / "signal 9 (Killed)"
};

struct SpawnOptions {
  std::vector<std::string> argv;     // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env_add;  // "KEY=VALUE" added to (or replacing in) the caller's env
  // With clear_env the child starts from an empty environment plus the caller's values of the
  // names in env_keep, then env_add: a VM's processes need nothing of the user's session, and
  // DISPLAY, XAUTHORITY or SSH_AUTH_SOCK there would tell a compromised emulator where to go.
  bool clear_env = false;
  std::vector<std::string> env_keep;
  // (source fd in the parent, target fd number in the child); every other fd is closed.
  std::vector<std::pair<int, int>> fds;
  int stdin_fd = -1;   // -1: /dev/null
  int stdout_fd = -1;  // -1: inherited
  int stderr_fd = -1;  // -1: inherited
  // Signal the child receives when the spawning *thread* dies (PR_SET_PDEATHSIG); 0 = none.
  int parent_death_signal = 0;
  bool new_session = false;
  // Extra clone(2) flags: CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUSER ... (sandbox backend).
  unsigned long clone_flags = 0;
  // The child waits before exec until release() (e.g. for the parent to write uid_map);
  // if the parent goes away first, the child exits.
  bool hold_until_released = false;
};

class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const SpawnOptions& options);
  // Adopts a child of this process (pid + pidfd from clone(CLONE_PIDFD) or pidfd_open).
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}

  ChildProcess() = default;
  ChildProcess(ChildProcess&&) noexcept = default;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Readable (POLLIN) once the child has exited.
  int pidfd() const { return pidfd_.get(); }
  bool running() const { return pid_ > 0 && !status_; }
  const std::optional<ExitStatus>& status() const { return status_; }

  // Lets a child spawned with hold_until_released go on to exec.
  Result<void> release();
  Result<void> signal(int sig);
  // Reaps if exited; nullopt while still running.
  Result<std::optional<ExitStatus>> try_wait();
  // Waits up to `timeout`; nullopt if still running then.
  Result<std::optional<ExitStatus>> wait_for(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL and reap.
  ExitStatus terminate(std::chrono::milliseconds grace);

 private:
  void kill_and_reap();

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd hold_;  // write end of the hold pipe
  std::optional<ExitStatus> status_;
};

// pidfd_open(2) wrapper (glibc 2.36 may lack it).
Result<UniqueFd> pidfd_open(pid_t pid);

}  // namespace vitrine::hv
