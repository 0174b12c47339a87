#include "vitrine/catalog/launch_argv.hpp"

#include <fmt/format.h>

#include "vitrine/catalog/desktop_entry.hpp"

namespace vitrine::catalog {

Result<std::vector<std::string>> launch_argv(const AppEntry& app, const std::vector<std::string>& args) {
  if (app.exec.empty() || app.exec.front().empty())
    return fail(Errc::kMalformed, fmt::format("application '{}' has no command", app.id));
  auto argv = expand_exec(app.exec, ExecContext{args, app.icon_name, app.name, ""});
  if (!argv) return fail(argv.error().code, fmt::format("application '{}': {}", app.id, argv.error().message));
  // A line made only of field codes (Exec=%f with no file given) leaves nothing to run.
  if (argv->empty() || argv->front().empty())
    return fail(Errc::kMalformed, fmt::format("application '{}': the command is empty once field codes are expanded",
                                              app.id));
  if (app.terminal) argv->insert(argv->begin(), {kTerminalEmulator, "-e"});
  return argv;
}

}  // namespace vitrine::catalog
