// VmmHarness: one VM for a test or benchmark: a temp dir with the TOML config, the host's bus,
// a vitrine-vmm process driven through VmmClient, and the logs to print when something fails.
#pragma once

#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "echo_host.hpp"
#include "vitrine/hv/vm_bus.hpp"
#include "vitrine/hv/vmm_client.hpp"

namespace vitrine::hv::test {

// Whole file as a string ("" if unreadable).
std::string read_text(const std::filesystem::path& file);

class VmmHarness {
 public:
  // `toml` is written to <tmp>/vm.toml ("@DIR@" is replaced by the temp dir).
  static Result<std::unique_ptr<VmmHarness>> start(const std::string& toml, const std::string& vmm_path,
                                                   std::vector<std::string> extra_args = {});
  ~VmmHarness();

  VmmClient& vmm() { return *client_; }
  VmBus& bus() { return *bus_; }
  echo::EchoHost& host() { return *host_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Events seen so far (wait_for appends everything it passes over).
  std::vector<std::string>& events() { return events_; }
  Result<std::string> wait_for(std::string_view prefix, std::chrono::milliseconds timeout);
  // The guest's hello, or an error as soon as the VM is gone: vitrine-vmm exited (its pidfd)
  // or reported the VM stopped or crashed. Never waits out `timeout` for a dead VM.
  Result<echo::Hello> wait_hello(std::chrono::milliseconds timeout);
  // Ok while vitrine-vmm runs and has not reported the VM's end (events seen go to events()).
  Result<void> alive();
  // The vmm log and every log under dir(), for failure messages.
  std::string logs() const;

 private:
  std::filesystem::path dir_;
  std::optional<VmBus> bus_;
  std::optional<VmmClient> client_;
  std::optional<echo::EchoHost> host_;
  std::vector<std::string> events_;
  std::deque<std::string> unread_;  // read by alive(), not yet returned by wait_for
};

}  // namespace vitrine::hv::test
