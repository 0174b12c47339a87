// Instance: one running `vitrine run` / `vitrine demo`. It is where the rooms meet:
//
//   VmSession (vitrine-vmm + bus + HostMux)  --RDP connection on a bus channel-->
//   rdpmux::host::RemoteSession (ConnectionBridge + FreeRDP RemoteApp client, reconnects)
//   --DisplaySink/WindowEvents-->  viewer::RemoteDisplay (compositor: X11 windows or headless PNGs)
//   host input  --viewer::GuestInput-->  RemoteSession
//   launcher socket (LauncherServer)  -->  this InstanceService: apps from the guest's catalogue,
//   launch = RemoteApp exec in the session, stats
//
// Threads: the thread that calls start() and run() is the UI thread (compositor, X input, VM
// events, the catalogue); FreeRDP runs on the session's thread; the launcher socket on its own.
// Shutdown (Ctrl-C, --duration, the VM or the session ending) goes in reverse order of start
// and leaves no process behind: the VM's processes die with vitrine-vmm, which dies with us.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "instance_service.hpp"
#include "keyboard_layout_watch.hpp"
#include "launch_clock.hpp"
#include "startup_notify.hpp"
#include "vitrine/viewer/remote_display.hpp"
#include "shutdown_signal.hpp"
#include "vitrine/rdpmux/catalog_wire.hpp"
#include "vitrine/rdpmux/mux/catalog_decoder.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"
#include "vm_session.hpp"

namespace vitrine::rdpmux::host {
class RemoteSession;
}

namespace vitrine::cli {

class LauncherServer;

struct InstanceOptions {
  std::filesystem::path config_file;  // VM TOML
  std::string instance = "default";   // names the launcher socket
  bool headless = false;
  std::string x_display;              // empty: $DISPLAY
  std::filesystem::path screenshot_dir;
  // RemoteApp programs opened at start ("||xterm"); the first one is the RDP handshake's. Empty:
  // connect without starting anything (the guest's windows that already exist show up).
  std::vector<std::string> start_apps;
  rdpmux::host::Security security = rdpmux::host::Security::kRdp;
  std::filesystem::path state_dir;    // logs/, pins/
  std::filesystem::path bin_dir;      // vitrine-vmm, vitrine-sandbox-init
  std::chrono::seconds duration{0};   // 0: until Ctrl-C or the VM ends
  std::filesystem::path telemetry_json;  // written on exit: stage latencies + counters (empty: none)
  std::uint32_t width = 1280;         // RDP desktop size
  std::uint32_t height = 800;
  std::uint64_t max_window_pixels = 0;  // host memory for windows (viewer::RemoteDisplayOptions; 0: 4 desktops)
  // Window pixels from the bus's surface pool when the VM's bus has one (vitrine-appserver
  // guests); false: every pixel over RDP.
  bool surfaces = true;
};

class Instance final : public InstanceService {
 public:
  // Starts everything (progress on stderr). `signal` is polled while booting, so Ctrl-C during
  // a long boot stops cleanly too.
  static std::expected<std::unique_ptr<Instance>, std::string> start(const InstanceOptions& options,
                                                                     ShutdownSignal& signal);
  ~Instance() override;
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // The UI loop, until Ctrl-C / duration / the VM or session ending. Value: the exit code.
  int run();

  // ---- InstanceService (launcher socket thread) ----
  std::vector<catalog::AppEntry> apps() override;
  std::expected<std::string, std::string> launch(const catalog::AppEntry& app, const std::vector<std::string>& args,
                                                 const std::string& startup_id) override;
  std::vector<std::pair<std::string, std::string>> stats() override;

 private:
  // UI thread: ends the startup notifications of launches whose window came (tagging that window
  // with the id) or that gave up.
  void end_startups(const LaunchClock::Ended& ended, bool windows_came);
  explicit Instance(const InstanceOptions& options, ShutdownSignal& signal);
  void on_catalog_fragment(std::span<const std::byte> fragment);  // the thread draining control
  void on_catalog_decoded(std::uint32_t generation, catalog::Result<catalog::Catalog> decoded);  // decoder thread
  void start_remaining_apps();
  void shutdown();

  InstanceOptions options_;
  ShutdownSignal& signal_;
  std::atomic<bool> interrupted_{false};
  // Set (release) once start() has built every part; the launcher thread reads the parts only
  // after seeing it (acquire). The launcher socket is up earlier so that a second instance of the
  // same name fails before booting a VM.
  std::atomic<bool> ready_{false};
  std::unique_ptr<VmSession> vm_;
  std::unique_ptr<viewer::RemoteDisplay> display_;
  // Where guest stamps go (HostMuxOptions::on_stamp, the bridge thread): set once display_ exists.
  std::atomic<viewer::RemoteDisplay*> stamp_sink_{nullptr};
  std::unique_ptr<rdpmux::host::RemoteSession> session_;
  std::unique_ptr<viewer::GuestInput> input_;
  std::unique_ptr<LauncherServer> launcher_;
  std::unique_ptr<KeyboardLayoutWatch> keyboard_watch_;  // host layout switches (not headless)
  std::unique_ptr<StartupNotify> startup_;              // XDG startup notification (not headless)
  std::uint64_t windows_seen_ = 0;                      // display_->top_level_windows_created()
  std::set<std::uint32_t> window_ids_;                  // the guest's windows at the last new one
  std::thread starter_;  // opens the start apps after the first one (exec blocks)

  std::mutex catalog_mutex_;
  catalog::CatalogReassembler reassembler_;  // joins on the UI thread (a copy per fragment) ...
  std::unique_ptr<rdpmux::CatalogDecoder> decoder_;   // ... decodes on its own thread
  std::vector<catalog::AppEntry> apps_;
  std::uint32_t catalog_generation_ = 0;
  std::uint64_t catalog_errors_ = 0;
  std::atomic<std::uint64_t> launches_{0};
  const std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  LaunchClock launch_clock_{started_at_};  // click-to-window, warm and cold
};

// Where state (logs, certificate pins, the demo's VM file) lives: $XDG_STATE_HOME/vitrine/<instance>
// or ~/.local/state/vitrine/<instance>.
std::filesystem::path state_dir(const std::string& instance);

}  // namespace vitrine::cli
