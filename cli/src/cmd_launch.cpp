// `vitrine launch APP [ARGS...]`: start a published application in the running guest.
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "instance_autostart.hpp"
#include "startup_notify.hpp"
#include "terminal_text.hpp"

namespace vitrine::cli {

void add_launch_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* sub = app.add_subcommand("launch", "Start a published application as a seamless window");
  auto name = std::make_shared<std::string>();
  sub->add_option("app", *name, "Application id, name or program (see `vitrine apps`)")->required();
  // Everything after APP belongs to the application, options included (vitrine launch xterm -e top).
  sub->prefix_command();
  // Unknown options must stay with the application, not fall through to the global options.
  sub->fallthrough(false);
  sub->footer(
      "APP is matched against the ids, then the names, then the program names of the\n"
      "published applications. Arguments after APP are passed to it (inside the guest).\n"
      "Examples:\n"
      "  vitrine launch xterm\n"
      "  vitrine launch xterm -e top\n"
      "An instance that is not running is started with the command it last ran with\n"
      "(recorded by `vitrine run` / `vitrine demo`), and the application once it is up.\n"
      "  vitrine launch --instance work libreoffice-writer\n");
  sub->callback([sub, &globals, &exit_code, name] {
    // XDG startup notification (startup_notify.hpp): the launcher's id, or one of ours.
    std::string startup_id;
    if (const char* id = std::getenv("DESKTOP_STARTUP_ID")) startup_id = id;
    ::unsetenv("DESKTOP_STARTUP_ID");  // not for an instance this command may start
    const char* display = std::getenv("DISPLAY");
    auto notify = StartupNotify::open(display != nullptr ? display : "");
    if (startup_id.empty() && notify) {
      startup_id = StartupNotify::new_id(*name);
      notify->begin(startup_id, *name);
    }
    std::vector<std::string> request{"launch", *name};
    if (!startup_id.empty()) request = {"launch-notify", startup_id, *name};
    std::vector<std::string> rest = sub->remaining();
    if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
    request.insert(request.end(), rest.begin(), rest.end());
    // A menu entry clicked while the instance is down starts it (instance_autostart.hpp).
    auto reply = instance_request_starting(globals, request, std::chrono::seconds(180));
    // No window will end it: the busy cursor stops now.
    const bool failed = !reply || !reply->ok;
    if (failed && notify && !startup_id.empty()) notify->end(startup_id);
    if (!reply) {
      exit_code = reply.error();
      return;
    }
    if (!reply->ok) {
      if (reply->code == "unknown-app") {
        spdlog::error("{}. Run `vitrine apps` to see them.", escape_for_terminal(reply->message));
        exit_code = kExitUnknownApp;
      } else {
        spdlog::error("launch failed ({}): {}", escape_for_terminal(reply->code), escape_for_terminal(reply->message));
        exit_code = kExitFailure;
      }
      return;
    }
    spdlog::info("{}", escape_for_terminal(reply->message));
    exit_code = kExitOk;
  });
}

}  // namespace vitrine::cli
