// VmmHarness: one VM for a test or benchmark: a temp dir with the TOML config, the host's bus,
// a vitrine-vmm process driven through VmmClient, and the logs to print when something fails.
#pragma once

#include <chrono>
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
  // The vmm log and every log under dir(), for failure messages.
  std::string logs() const;

 private:
  std::filesystem::path dir_;
  std::optional<VmBus> bus_;
  std::optional<VmmClient> client_;
  std::optional<echo::EchoHost> host_;
  std::vector<std::string> events_;
};

}  // namespace vitrine::hv::test
