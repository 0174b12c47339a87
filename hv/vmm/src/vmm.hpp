// The vmm's event loop: one thread polls the control socket, the backend and a signalfd.
#pragma once

#include <filesystem>
#include <string>

namespace vitrine::hv {

struct VmmOptions {
  std::filesystem::path config_path;
  int control_fd = -1;
  std::filesystem::path log_dir;
  std::string sandbox_init;
  std::string kvm_program;  // vitrine-kvm; empty: next to vitrine-vmm
  std::string backend;      // overrides the config's backend (sandbox | qemu | kvm); empty: keep
  bool lock_down = true;    // no_new_privs + seccomp deny-list once the VM runs (vmm_lockdown.hpp)
};

// Exit status: 0 the VM stopped (asked to or powered off), 1 it crashed or failed to start,
// 2 the config or the handoff was rejected.
int run_vmm(const VmmOptions& options);
int check_config(const std::filesystem::path& config, const std::string& backend_override = {});

}  // namespace vitrine::hv
