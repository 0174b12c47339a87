// `vitrine stats`: live counters of the running instance.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "exit_codes.hpp"

namespace vitrine::cli {

void add_stats_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* sub = app.add_subcommand("stats", "Show live counters of the running instance (bus, relay, frames, latency)");
  sub->footer("Examples:\n  vitrine stats\n  watch -n1 vitrine stats\n");
  sub->callback([&globals, &exit_code] {
    auto reply = instance_request(globals, {"stats"});
    if (!reply) {
      exit_code = reply.error();
      return;
    }
    if (!reply->ok) {
      spdlog::error("{}", reply->message);
      exit_code = kExitFailure;
      return;
    }
    std::size_t w = 4;
    for (const auto& l : reply->data)
      if (l.size() >= 3) w = std::max(w, l[1].size());
    for (const auto& l : reply->data)
      if (l.size() >= 3 && l[0] == "stat") fmt::print("{:<{}}  {}\n", l[1], w, l[2]);
    exit_code = kExitOk;
  });
}

}  // namespace vitrine::cli
