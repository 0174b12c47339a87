// VmmClient: the parent's (vitrine's) handle on one vitrine-vmm process.
//
// Control socket (AF_UNIX SOCK_SEQPACKET, one message each):
//   parent -> vmm   first: the ringbus handoff (region fd, then doorbells wake_guest,
//                   wake_host: rdpmux::BusDoorbells wire order; see vm_bus.hpp); then text
//                   commands: "stop"
//   vmm -> parent   text event lines (vm_backend.hpp), plus "error <field>: <message>" when the
//                   config or the handoff is rejected (the vmm then exits with status 2)
// Closing the socket stops the VM; so does the parent's death (vitrine-vmm sets
// PR_SET_PDEATHSIG), and the vmm's own death takes the VM with it.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/hv/child_process.hpp"
#include "vitrine/hv/vm_bus.hpp"

namespace vitrine::hv {

struct VmmLaunch {
  std::string vmm_path = "vitrine-vmm";
  std::filesystem::path config;
  std::vector<std::string> extra_args;  // e.g. --sandbox-init PATH, --log-dir DIR
  int stderr_fd = -1;                   // the vmm's own log; -1 inherits
};

class VmmClient {
 public:
  // Spawns vitrine-vmm and hands it the bus (fds are duplicated, the caller keeps its own).
  static Result<VmmClient> launch(const VmmLaunch& launch, const BusFds& fds);

  pid_t pid() const { return process_.pid(); }
  ChildProcess& process() { return process_; }
  // The next event line, nullopt after `timeout`; Errc::kPeerClosed once the vmm is gone.
  Result<std::optional<std::string>> next_event(std::chrono::milliseconds timeout);
  // Reads events until one starts with `prefix` (returned); others are appended to `seen`.
  Result<std::string> wait_for(std::string_view prefix, std::chrono::milliseconds timeout,
                               std::vector<std::string>* seen = nullptr);
  // Asks for a stop, waits for the final state line and the process's exit.
  Result<ExitStatus> stop(std::chrono::milliseconds timeout);
  int control_fd() const { return control_.get(); }

 private:
  VmmClient(ChildProcess process, UniqueFd control) : process_(std::move(process)), control_(std::move(control)) {}
  ChildProcess process_;
  UniqueFd control_;
};

}  // namespace vitrine::hv
