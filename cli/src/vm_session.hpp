// VmSession: one VM and the host end of its bus, as `vitrine run` needs them:
//
//   VmBus::create(config)  ->  vitrine-vmm (VmmClient, the bus handed over)  ->  "state running"
//   ->  HostMux on the bus  ->  the guest relay's HelloReply  ->  ready to open RDP connections
//
// Progress lines go to `progress` once a step takes longer than a second (booting a QEMU or KVM
// guest takes tens of seconds). Destroying the session stops the VM (the vmm also dies with us:
// PR_SET_PDEATHSIG), so nothing outlives `vitrine`.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vitrine/hv/vm_bus.hpp"
#include "vitrine/hv/vm_config.hpp"
#include "vitrine/hv/vmm_client.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/rdpmux/target.hpp"

namespace vitrine::cli {

struct VmSessionOptions {
  std::filesystem::path vmm;           // vitrine-vmm
  std::filesystem::path sandbox_init;  // vitrine-sandbox-init (sandbox backend); empty: the vmm's default
  std::filesystem::path log_dir;       // vmm.log and the VM's logs
  std::chrono::milliseconds boot_timeout{180'000};  // vmm start + guest relay's hello
  std::function<void(std::string_view)> progress;   // "booting the VM (3 s)..."
  rdpmux::HostMuxOptions mux;
  // Called by wait loops; true stops the start (Ctrl-C).
  std::function<bool()> interrupted;
};

class VmSession {
 public:
  // `config_file` is a VM TOML (docs/hv.md); it is validated here (errors name the field) and
  // handed to vitrine-vmm as it is.
  static std::expected<std::unique_ptr<VmSession>, std::string> start(const std::filesystem::path& config_file,
                                                                      const VmSessionOptions& options);
  ~VmSession();
  VmSession(const VmSession&) = delete;
  VmSession& operator=(const VmSession&) = delete;

  rdpmux::HostMux& mux() { return *mux_; }
  // The bus (host side): its surface pool, when the config asks for one ([bus] surface_pool).
  ringbus::Bus& bus() { return bus_->bus(); }
  hv::VmmClient& vmm() { return *vmm_; }
  const hv::VmConfig& config() const { return config_; }
  // The guest's RDP server, from config.rdp_target.
  const rdpmux::Target& rdp_target() const { return target_; }
  const std::filesystem::path& log_dir() const { return log_dir_; }
  // Opens a connection to the guest's RDP server (framed PDUs). The server may still be starting
  // when the agent already answers: a refused connection is retried for `patience`; any other
  // error, or `cancel` becoming true, ends the attempt.
  rdpmux::Result<std::unique_ptr<rdpmux::Connection>> open_rdp(std::chrono::milliseconds patience,
                                                               const std::atomic<bool>* cancel = nullptr);
  // Handles pending vmm events without blocking; returns "state stopped|crashed ..." when the
  // VM has ended, nullopt while it runs.
  std::optional<std::string> poll_vm();
  // Guest programs that failed (exited with an error or were given up), as the VM reported
  // them, with the tail of the guest's log: the reason behind a refused RDP connection, e.g.
  // "guest program appserver exited (exit 127, 3 times); the guest's log <path> ends: ...".
  // Empty when none failed. Handles pending vmm events first (call it where poll_vm is called).
  std::string guest_failures();
  // Stops the VM (idempotent). Value: how it ended.
  std::string stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

 private:
  VmSession() = default;

  hv::VmConfig config_;
  std::filesystem::path log_dir_;
  std::optional<hv::VmBus> bus_;
  std::optional<hv::VmmClient> vmm_;
  std::unique_ptr<rdpmux::HostMux> mux_;
  rdpmux::Target target_;
  bool stopped_ = false;
  std::string ended_;
  struct ProgramFailure {
    std::string last;  // "exit 127", "signal 11 (Segmentation fault)", "gave-up"
    int count = 0;
  };
  std::map<std::string, ProgramFailure> failures_;  // by program name
  std::filesystem::path guest_log_;                 // from the vmm's "log <kind> PATH" event
  void note_event(const std::string& event);
};

// "tcp:3389" / "unix:/run/rdp.sock" (validated by hv::VmConfig) -> a relay target.
std::expected<rdpmux::Target, std::string> parse_rdp_target(std::string_view text);

}  // namespace vitrine::cli
