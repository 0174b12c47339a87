// `vitrine run`, `vitrine demo`, `vitrine connect --listen`: the commands that start a VM and
// an RDP session through its bus (instance.hpp has the wiring, demo_guest.hpp the demo guest).
#include <poll.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <thread>

#include "commands.hpp"
#include "demo_guest.hpp"
#include "exit_codes.hpp"
#include "instance.hpp"
#include "shutdown_signal.hpp"
#include "vitrine/rdpmux/host/gateway.hpp"

namespace vitrine::cli {

namespace {

using namespace std::chrono_literals;

struct SessionArgs {
  std::string config;
  bool headless = false;
  std::string screenshot_dir;
  std::string listen;
  std::string security = "rdp";
  std::vector<std::string> apps;
  int duration = 0;
  std::string telemetry_json;
  std::uint64_t max_window_pixels = 0;
  bool no_surfaces = false;
};

// The VM file to run: the user's, or the demo guest's written into the state folder.
std::expected<std::filesystem::path, std::string> config_or_demo(const SessionArgs& args, const std::string& instance) {
  if (!args.config.empty()) return std::filesystem::absolute(args.config);
  auto guest = locate_demo_guest();
  if (!guest) return std::unexpected(guest.error());
  return write_demo_config(*guest, state_dir(instance));
}

int run_session(const SessionArgs& args, const GlobalOptions& globals, bool demo) {
  ShutdownSignal signal;  // before any thread starts, so that every thread inherits the mask
  auto config = config_or_demo(args, globals.instance);
  if (!config) {
    spdlog::error("{}", config.error());
    return kExitFailure;
  }
  InstanceOptions o;
  o.config_file = *config;
  o.instance = globals.instance;
  o.state_dir = state_dir(globals.instance);
  o.bin_dir = self_bin_dir();
  o.duration = std::chrono::seconds(args.duration);
  o.max_window_pixels = args.max_window_pixels;
  o.surfaces = !args.no_surfaces;
  if (!args.telemetry_json.empty()) o.telemetry_json = std::filesystem::absolute(args.telemetry_json);
  o.security = args.security == "tls" ? rdpmux::host::Security::kTls : rdpmux::host::Security::kRdp;
  o.start_apps = args.apps;
  if (demo && o.start_apps.empty()) o.start_apps = demo_start_apps();
  const char* display = std::getenv("DISPLAY");
  o.headless = args.headless || display == nullptr || display[0] == '\0';
  if (o.headless) {
    o.screenshot_dir = args.screenshot_dir.empty() ? o.state_dir / "screenshots"
                                                   : std::filesystem::absolute(args.screenshot_dir);
    if (!args.headless) spdlog::info("no $DISPLAY: running headless");
    spdlog::info("window screenshots (PNG) and windows.json go to {}", o.screenshot_dir.string());
  } else if (!args.screenshot_dir.empty()) {
    spdlog::warn("--screenshot-dir is used in headless mode only (add --headless)");
  }

  auto instance = Instance::start(o, signal);
  if (!instance) {
    if (instance.error() == "interrupted") return kExitInterrupted;
    spdlog::error("{}", instance.error());
    return kExitFailure;
  }
  if (demo)
    spdlog::info("the demo is up: {}; try `vitrine apps` and `vitrine launch xeyes` in another terminal, Ctrl-C to stop",
                 o.headless ? "headless" : std::string("windows on ") + display);
  const int rc = (*instance)->run();
  instance->reset();
  return rc == 130 ? kExitInterrupted : rc == 0 ? kExitOk : kExitFailure;
}

int run_connect(const SessionArgs& args, const GlobalOptions& globals) {
  ShutdownSignal signal;
  auto config = config_or_demo(args, globals.instance);
  if (!config) {
    spdlog::error("{}", config.error());
    return kExitFailure;
  }
  VmSessionOptions vm;
  vm.vmm = self_bin_dir() / "vitrine-vmm";
  if (std::filesystem::exists(self_bin_dir() / "vitrine-sandbox-init"))
    vm.sandbox_init = self_bin_dir() / "vitrine-sandbox-init";
  vm.log_dir = state_dir(globals.instance) / "logs";
  vm.progress = [](std::string_view line) { spdlog::info("{}", line); };
  bool interrupted = false;
  vm.interrupted = [&] { return interrupted = interrupted || signal.poll_signal() != 0; };
  auto session = VmSession::start(*config, vm);
  if (!session) {
    if (interrupted) return kExitInterrupted;
    spdlog::error("{}", session.error());
    return kExitFailure;
  }
  VmSession& s = **session;
  auto gateway = rdpmux::host::Gateway::listen(
      std::filesystem::absolute(args.listen), [&s]() { return s.open_rdp(10s); });
  if (!gateway) {
    spdlog::error("cannot listen on {}: {}", args.listen, rdpmux::host::to_string(gateway.error()));
    return kExitFailure;
  }
  spdlog::info("RDP through the bus on {} (e.g. xfreerdp /v:{} /app:||xterm); Ctrl-C to stop",
               (*gateway)->path().string(), (*gateway)->path().string());
  const auto deadline = args.duration > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(args.duration)
                                          : std::chrono::steady_clock::time_point::max();
  int rc = kExitOk;
  bool more = false;  // HostMux::poll() stopped at its budget: look again without sleeping
  for (;;) {
    pollfd p{signal.fd(), POLLIN, 0};
    (void)::poll(&p, 1, more ? 0 : 200);
    if (signal.poll_signal() != 0) {
      rc = kExitInterrupted;
      break;
    }
    more = s.mux().poll();
    if (auto ended = s.poll_vm()) {
      spdlog::error("the VM ended: {}", *ended);
      rc = kExitFailure;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  spdlog::info("served {} client(s)", (*gateway)->accepted());
  (*gateway)->stop();
  spdlog::info("VM {}", s.stop());
  return rc;
}

void add_common_options(CLI::App* sub, SessionArgs& args) {
  sub->add_flag("--headless", args.headless, "No display: render off-screen (also the default without $DISPLAY)");
  sub->add_option("--screenshot-dir", args.screenshot_dir,
                  "Headless: write a PNG of every window and windows.json here (default: the state folder)");
  sub->add_option("--max-window-pixels", args.max_window_pixels,
                  "Host memory for the guest's windows, in pixels summed over all windows; windows past it are not "
                  "shown until others close (default 0: four times the larger of the host screen and the guest desktop)");
  sub->add_flag("--no-surfaces", args.no_surfaces,
                "Every window's pixels over RDP, even when the VM's bus offers shared-memory surfaces");
  sub->add_option("--duration", args.duration, "Stop after this many seconds (0: until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--security", args.security,
                  "RDP security on the bus: rdp (standard RDP security; vitrine-appserver) or tls (the guest's "
                  "certificate pinned on first use)")
      ->check(CLI::IsMember({"rdp", "tls"}))
      ->capture_default_str();
  sub->add_option("--telemetry-json", args.telemetry_json,
                  "On exit, write stage latencies (perf::StageTelemetry) and the counters of `vitrine stats` here");
}

}  // namespace

void add_session_commands(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto args = std::make_shared<SessionArgs>();

  auto* run = app.add_subcommand("run", "Start a VM and show its applications as host windows");
  run->add_option("config", args->config, "VM configuration (TOML, see docs/hv.md); default: the demo sandbox guest")
      ->check(CLI::ExistingFile);
  run->add_option("--app", args->apps,
                  "RemoteApp program to open at start (repeatable; ||ALIAS or a path); the first one opens with "
                  "the connection");
  add_common_options(run, *args);
  run->footer(
      "Examples:\n"
      "  vitrine run ~/vms/debian.toml --app '||xterm'\n"
      "  vitrine run --headless --screenshot-dir /tmp/shots --duration 30\n"
      "Logs: $XDG_STATE_HOME/vitrine/<instance>/logs (default ~/.local/state/vitrine/default/logs).\n");
  // The callbacks own `args`: CLI11 keeps references to its fields until parsing ends.
  run->callback([args, &globals, &exit_code] { exit_code = run_session(*args, globals, false); });

  auto* demo = app.add_subcommand("demo", "Run the built-in sandbox guest with xterm and xclock as host windows");
  add_common_options(demo, *args);
  demo->footer(
      "The demo guest is a sandbox (namespaces, no VM image needed) running Xvfb, vitrine-appserver and\n"
      "vitrine-guest; xterm and xclock open as host windows. Without $DISPLAY it runs headless and\n"
      "writes window screenshots.\n"
      "Examples:\n"
      "  vitrine demo\n"
      "  vitrine demo --headless --screenshot-dir /tmp/shots --duration 20\n"
      "  vitrine launch xeyes      (from another terminal while the demo runs)\n");
  demo->callback([args, &globals, &exit_code] { exit_code = run_session(*args, globals, true); });

  auto* connect = app.add_subcommand("connect", "Expose the guest's RDP server through the bus as a local socket");
  connect->add_option("--listen", args->listen, "Unix socket path for xfreerdp / Remmina (/v:PATH)")->required();
  connect->add_option("config", args->config, "VM configuration (TOML); default: the demo sandbox guest")
      ->check(CLI::ExistingFile);
  connect->add_option("--duration", args->duration, "Stop after this many seconds (0: until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  connect->footer(
      "Examples:\n"
      "  vitrine connect --listen /tmp/vm.rdp &\n"
      "  xfreerdp /v:/tmp/vm.rdp /app:||xterm\n");
  connect->callback([args, &globals, &exit_code] { exit_code = run_connect(*args, globals); });
}

}  // namespace vitrine::cli
