// vitrine: the command. Wiring and argument parsing only; each subcommand lives in src/cmd_*.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "src/commands.hpp"
#include "src/exit_codes.hpp"
#include "src/logging.hpp"

int main(int argc, char** argv) {
  using namespace vitrine::cli;
  CLI::App app{"Vitrine: applications of a virtual machine as seamless host windows", "vitrine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vitrine 0.1.0");
  GlobalOptions globals;
  app.add_flag("-v,--verbose", globals.verbose, "Debug logging on stderr")->configurable(false);
  app.add_option("--instance", globals.instance, "Name of the running instance to talk to (default: default)")
      ->capture_default_str();
  app.footer(std::string("Start with:\n  vitrine demo          the built-in sandbox guest\n"
                         "  vitrine apps          what the running guest publishes\n"
                         "  vitrine launch xterm  open one more window\n\n") +
             kExitCodesHelp);
  // Global options are accepted after the subcommand too (vitrine apps --verbose).
  app.fallthrough();

  int exit_code = kExitOk;
  add_session_commands(app, globals, exit_code);
  add_apps_command(app, globals, exit_code);
  add_launch_command(app, globals, exit_code);
  add_launcher_commands(app, globals, exit_code);
  add_stats_command(app, globals, exit_code);
  add_record_replay_commands(app, globals, exit_code);

  app.parse_complete_callback([&globals] { setup_logging(globals.verbose); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}
