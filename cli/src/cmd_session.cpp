// `vitrine run`, `vitrine demo`, `vitrine connect --listen`: the commands that start a VM and a
// RemoteApp session. They need vitrine-vmm (hv/), the host RDP bridge (rdpmux/host) and the
// compositor adapter wired together; until that lands in this build they say so and exit 5,
// and `vitrine demo --help` exits 5 too (scripts/run-demo.sh runs the demo only when it is 0).
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "exit_codes.hpp"

namespace vitrine::cli {

namespace {

struct SessionArgs {
  std::string config;
  bool headless = false;
  std::string screenshot_dir;
  std::string listen;
};

int unavailable(const char* command) {
  spdlog::error("`vitrine {}` is not available in this build: {}", command, demo_unavailable_reason());
  spdlog::error("what works today: `vitrine catalog`, `vitrine apps|launch|stats|install-launchers` against a "
                "running instance, and the test suites (ctest -L cli)");
  return kExitUnavailable;
}

}  // namespace

bool demo_is_wired() { return false; }

std::string demo_unavailable_reason() {
  return "the session wiring (vitrine-vmm sandbox guest -> bus -> rdpmux RemoteApp client -> compositor windows) "
         "is not part of the vitrine command yet";
}

void add_session_commands(CLI::App& app, GlobalOptions&, int& exit_code) {
  auto args = std::make_shared<SessionArgs>();

  auto* run = app.add_subcommand("run", "Start a VM and show its applications as host windows");
  run->add_option("config", args->config, "VM configuration (TOML, see docs/hv.md); default: the sandbox guest");
  run->add_flag("--headless", args->headless, "No display: render off-screen (also the default without $DISPLAY)");
  run->add_option("--screenshot-dir", args->screenshot_dir, "Headless: write a PNG of every window here");
  run->footer(
      "Examples:\n"
      "  vitrine run ~/vms/debian.toml\n"
      "  vitrine run --headless --screenshot-dir /tmp/shots\n");
  // The callbacks own `args`: CLI11 keeps references to its fields until parsing ends.
  run->callback([args, &exit_code] { exit_code = unavailable("run"); });

  auto* demo = app.add_subcommand("demo", "Run the built-in sandbox guest with xterm and xclock");
  demo->add_flag("--headless", args->headless, "No display: render off-screen and write screenshots");
  demo->add_option("--screenshot-dir", args->screenshot_dir, "Where headless screenshots go");
  demo->footer(
      "Examples:\n"
      "  vitrine demo\n"
      "  vitrine demo --headless --screenshot-dir /tmp/shots\n");
  demo->callback([args, &exit_code] { exit_code = unavailable("demo"); });

  auto* connect = app.add_subcommand("connect", "Expose the guest's RDP server through the bus as a local socket");
  connect->add_option("--listen", args->listen, "Unix socket path for xfreerdp / Remmina (/v:PATH)")->required();
  connect->footer("Examples:\n  vitrine connect --listen /tmp/vm.rdp &\n  xfreerdp /v:/tmp/vm.rdp /app:||xterm\n");
  connect->callback([args, &exit_code] { exit_code = unavailable("connect"); });
}

}  // namespace vitrine::cli
