// `vitrine apps`: the applications the running guest publishes.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "exit_codes.hpp"

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
      spdlog::error("{}", reply->message);
      exit_code = kExitFailure;
      return;
    }
    std::size_t w_id = 2, w_name = 4;
    for (const auto& l : reply->data) {
      if (l.size() < 5 || l[0] != "app") continue;
      w_id = std::max(w_id, l[1].size());
      w_name = std::max(w_name, l[2].size());
    }
    fmt::print("{:<{}}  {:<{}}  {:<4}  {}\n", "ID", w_id, "NAME", w_name, "ICON", "COMMAND");
    for (const auto& l : reply->data) {
      if (l.size() < 5 || l[0] != "app") continue;
      fmt::print("{:<{}}  {:<{}}  {:<4}  {}\n", l[1], w_id, l[2], w_name, l[4].empty() ? "-" : "png", l[3]);
    }
    exit_code = kExitOk;
  });
}

}  // namespace vitrine::cli
