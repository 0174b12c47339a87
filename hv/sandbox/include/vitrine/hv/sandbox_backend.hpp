// SandboxBackend: the embedded default VM. The guest programs of [[sandbox.program]] run on
// this kernel under vitrine-sandbox-init, pid 1 of new pid, net, ipc, uts and mount namespaces
// (plus a user namespace when vitrine-vmm is not root, mapping the caller's uid to root).
// They share nothing with the host but the bus fds (see sandbox_protocol.hpp); the network
// namespace holds only loopback.
//
// Nothing outlives the backend: init gets PR_SET_PDEATHSIG(SIGKILL) (bound to the thread that
// called start()), stop() ends init, and the death of a pid namespace's init makes the kernel
// kill every process left in it.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "vitrine/hv/child_process.hpp"
#include "vitrine/hv/vm_backend.hpp"
#include "vitrine/hv/vm_config.hpp"

namespace vitrine::hv {

struct SandboxOptions {
  std::string init_path;  // vitrine-sandbox-init; empty: next to /proc/self/exe
  std::filesystem::path log_dir;  // sandbox.log (the programs' stdout and stderr) goes here
};

class SandboxBackend final : public VmBackend {
 public:
  SandboxBackend(VmConfig config, SandboxOptions options, EmitFn emit);
  ~SandboxBackend() override;

  Result<void> start(BusFds fds) override;
  int poll_fd() const override { return epoll_.get(); }
  Result<void> on_ready() override;
  bool finished() const override { return finished_; }
  void stop(std::chrono::milliseconds grace) override;

  // Host pid of sandbox init (pid 1 inside), or -1.
  pid_t init_pid() const { return init_.running() ? init_.pid() : -1; }
  // Inode of the sandbox's pid namespace (nsfs), 0 before start.
  ino_t pid_namespace() const { return pid_ns_; }
  // Host pid of a running program, or -1.
  pid_t program_pid(const std::string& name) const;

 private:
  void handle_report_line(const std::string& line);
  void handle_init_exit();

  VmConfig config_;
  SandboxOptions options_;
  EmitFn emit_;
  ChildProcess init_;
  UniqueFd epoll_;
  UniqueFd report_;
  std::string report_buffer_;
  ino_t pid_ns_ = 0;
  std::map<std::string, pid_t> programs_;
  bool stopping_ = false;
  bool finished_ = false;
};

// Host pid of the process whose pid is `ns_pid` inside the pid namespace with inode `pid_ns`;
// -1 if there is none. Scans /proc (the NSpid line of each status file).
pid_t host_pid_in_namespace(ino_t pid_ns, pid_t ns_pid);
// Number of host processes in the pid namespace with inode `pid_ns`.
int processes_in_namespace(ino_t pid_ns);

}  // namespace vitrine::hv
