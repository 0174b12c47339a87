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
};

// Exit status: 0 the VM stopped (asked to or powered off), 1 it crashed or failed to start,
// 2 the config or the handoff was rejected.
int run_vmm(const VmmOptions& options);
int check_config(const std::filesystem::path& config);

}  // namespace vitrine::hv
