// `vitrine record FILE`: runs a RemoteApp session against a VM (the user's VM file, or the demo
// guest) like `vitrine run`, and records both directions of its RDP connection on the bus into
// FILE (replay_recorder.hpp: a ConnectionBridge tap, no copy on the pump's path beyond the
// recording itself). The session uses standard RDP security, which on the private bus carries
// no encryption, so `vitrine replay FILE` can play it back. One connection, no reconnect: the
// recording ends when the session does (Ctrl-C, --duration, the VM or the server ending).
#include <poll.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "demo_guest.hpp"
#include "exit_codes.hpp"
#include "instance.hpp"
#include "vitrine/viewer/remote_display.hpp"
#include "replay_commands.hpp"
#include "replay_recorder.hpp"
#include "shutdown_signal.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"
#include "vm_session.hpp"

namespace vitrine::cli {

namespace {

using namespace std::chrono_literals;

struct RecordArgs {
  std::string file;
  std::string config;
  std::vector<std::string> apps;
  bool headless = false;
  std::string screenshot_dir;
  int duration = 0;
  std::uint32_t width = 1280;
  std::uint32_t height = 800;
};

int run_record(const RecordArgs& args, const GlobalOptions& globals) {
  ShutdownSignal signal;  // before any thread starts, so that every thread inherits the mask
  std::filesystem::path config;
  std::vector<std::string> apps = args.apps;
  if (!args.config.empty()) {
    config = std::filesystem::absolute(args.config);
  } else {
    auto guest = locate_demo_guest();
    if (!guest) {
      spdlog::error("no --config given and the demo guest is not available: {}", guest.error());
      return kExitFailure;
    }
    auto written = write_demo_config(*guest, state_dir(globals.instance));
    if (!written) {
      spdlog::error("{}", written.error());
      return kExitFailure;
    }
    config = *written;
    if (apps.empty()) apps = demo_start_apps();
  }

  VmSessionOptions vm;
  vm.vmm = self_bin_dir() / "vitrine-vmm";
  if (std::filesystem::exists(self_bin_dir() / "vitrine-sandbox-init")) vm.sandbox_init = self_bin_dir() / "vitrine-sandbox-init";
  vm.log_dir = state_dir(globals.instance) / "logs";
  vm.progress = [](std::string_view line) { spdlog::info("{}", line); };
  bool interrupted = false;
  vm.interrupted = [&] { return interrupted = interrupted || signal.poll_signal() != 0; };
  auto session = VmSession::start(config, vm);
  if (!session) {
    if (interrupted) return kExitInterrupted;
    spdlog::error("{}", session.error());
    return kExitFailure;
  }
  VmSession& s = **session;
  // The guest's RDP server may still be starting after the relay said hello: retry for a while.
  auto conn = s.mux().open(s.rdp_target(), {.framed = true});
  const auto open_deadline = std::chrono::steady_clock::now() + 60s;
  while (!conn && std::chrono::steady_clock::now() < open_deadline) {
    if (signal.poll_signal() != 0) return kExitInterrupted;
    if (s.poll_vm()) break;
    std::this_thread::sleep_for(250ms);
    conn = s.mux().open(s.rdp_target(), {.framed = true});
  }
  if (!conn) {
    spdlog::error("cannot open the guest's RDP server through the bus: {}", rdpmux::to_string(conn.error()));
    return kExitFailure;
  }
  const std::uint32_t channel = (*conn)->channel_id();
  auto tap = RecordingTap::create(args.file, std::uint64_t{1} << (channel < 64 ? channel : 63));
  if (!tap) {
    spdlog::error("{}", tap.error());
    return kExitFailure;
  }
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    spdlog::error("socketpair: {}", std::strerror(errno));
    return kExitFailure;
  }
  ringbus::UniqueFd client_end(fds[0]);
  auto bridge = rdpmux::host::ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(fds[1]), *tap);
  if (!bridge) {
    spdlog::error("{}", rdpmux::host::to_string(bridge.error()));
    return kExitFailure;
  }

  const char* x = std::getenv("DISPLAY");
  viewer::RemoteDisplayOptions d;
  d.headless = args.headless || x == nullptr || x[0] == '\0';
  if (d.headless && !args.screenshot_dir.empty()) d.screenshot_dir = std::filesystem::absolute(args.screenshot_dir);
  auto display = viewer::RemoteDisplay::create(d);
  if (!display) {
    spdlog::error("cannot start the display: {}", display.error());
    return kExitFailure;
  }
  rdpmux::host::ClientConfig cc;
  cc.security = rdpmux::host::Security::kRdp;  // plaintext on the private bus: replayable
  cc.vm_name = s.config().name;
  cc.program = apps.empty() ? std::string() : (apps.front().starts_with("||") || apps.front().starts_with("/")
                                                   ? apps.front()
                                                   : "||" + apps.front());
  cc.width = args.width;
  cc.height = args.height;
  std::atomic<bool> ended{false};
  cc.on_end = [&ended](const std::optional<rdpmux::host::Error>&) { ended = true; };
  auto client = rdpmux::host::RdpClient::start(cc, std::move(client_end), **display, **display);
  if (!client) {
    spdlog::error("{}", rdpmux::host::to_string(client.error()));
    (*display)->shutdown();
    return kExitFailure;
  }
  viewer::GuestInputOf<rdpmux::host::RdpClient> input(**client);
  (*display)->set_guest_input(&input);
  spdlog::info("recording bus channel {} to {}; Ctrl-C to stop", channel, args.file);

  const auto deadline = args.duration > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(args.duration)
                                          : std::chrono::steady_clock::time_point::max();
  int rc = kExitOk;
  for (;;) {
    std::vector<pollfd> p{{signal.fd(), POLLIN, 0}};
    for (int fd : (*display)->wake_fds()) p.push_back({fd, POLLIN, 0});
    (void)::poll(p.data(), p.size(), 100);
    (*display)->dispatch();
    if (signal.poll_signal() != 0) {
      rc = kExitInterrupted;
      break;
    }
    if (ended.load() || std::chrono::steady_clock::now() >= deadline) break;
    if (auto vm_end = s.poll_vm()) {
      spdlog::info("the VM ended: {}", *vm_end);
      break;
    }
  }
  if (auto e = (*client)->error()) spdlog::warn("the RDP session ended: {}", rdpmux::host::to_string(*e));
  (*display)->set_guest_input(nullptr);
  (*display)->shutdown();
  (*client)->stop();
  (*bridge)->stop();
  auto closed = (*tap)->close();
  if (!closed) {
    spdlog::error("the recording is incomplete: {}", closed.error());
    return kExitFailure;
  }
  fmt::print("recorded {} entries ({} bytes server -> client, {} bytes client -> server) to {}\n", *closed,
             (*tap)->bytes(rdpmux::host::BridgeTap::Direction::kToSocket),
             (*tap)->bytes(rdpmux::host::BridgeTap::Direction::kToGuest), args.file);
  return rc;
}

}  // namespace

void add_record_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto args = std::make_shared<RecordArgs>();
  auto* cmd = app.add_subcommand(
      "record",
      "Run a RemoteApp session (like `vitrine run`) and record both directions of its RDP connection on the "
      "bus to FILE, for `vitrine replay`");
  cmd->add_option("file", args->file, "Recording to write (overwritten)")->required();
  cmd->add_option("--config", args->config, "VM file (TOML, docs/hv.md); default: the demo guest");
  cmd->add_option("--app", args->apps, "RemoteApp program to open (alias or path); default: the demo's first");
  cmd->add_flag("--headless", args->headless, "No host windows (off-screen compositor)");
  cmd->add_option("--screenshot-dir", args->screenshot_dir, "Headless: PNG screenshots of the windows here");
  cmd->add_option("--duration", args->duration, "Stop after this many seconds (0: Ctrl-C)")->capture_default_str();
  cmd->add_option("--width", args->width, "RDP desktop width")->capture_default_str();
  cmd->add_option("--height", args->height, "RDP desktop height")->capture_default_str();
  cmd->callback([args, &globals, &exit_code] { exit_code = run_record(*args, globals); });
}

}  // namespace vitrine::cli
