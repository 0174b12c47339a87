// `vitrine apps`: the applications the running guest publishes.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "terminal_text.hpp"

namespace vitrine::cli {

void add_apps_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* sub = app.add_subcommand("apps", "List the applications the running guest publishes");
  sub->footer(
      "Prints one line per application: ID, NAME, COMMAND and whether an icon came with it.\n"
      "Examples:\n"
      "  vitrine apps\n"
      "  vitrine apps --instance work\n");
  sub->callback([&globals, &exit_code] {
    auto reply = instance_request(globals, {"apps"});
    if (!reply) {
      exit_code = reply.error();
      return;
    }
    if (!reply->ok) {
      spdlog::error("{}", escape_for_terminal(reply->message));
      exit_code = kExitFailure;
      return;
    }
    // Every field is the guest's text: escaped before it reaches the terminal.
    struct Row {
      std::string id, name, icon, command;
    };
    std::vector<Row> rows;
    std::size_t w_id = 2, w_name = 4;
    for (const auto& l : reply->data) {
      if (l.size() < 5 || l[0] != "app") continue;
      rows.push_back({escape_for_terminal(l[1]), escape_for_terminal(l[2]), l[4].empty() ? "-" : "png",
                      escape_for_terminal(l[3])});
      w_id = std::max(w_id, rows.back().id.size());
      w_name = std::max(w_name, rows.back().name.size());
    }
    fmt::print("{:<{}}  {:<{}}  {:<4}  {}\n", "ID", w_id, "NAME", w_name, "ICON", "COMMAND");
    for (const auto& r : rows) fmt::print("{:<{}}  {:<{}}  {:<4}  {}\n", r.id, w_id, r.name, w_name, r.icon, r.command);
    exit_code = kExitOk;
  });
}

}  // namespace vitrine::cli
