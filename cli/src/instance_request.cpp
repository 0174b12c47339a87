#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "runtime_paths.hpp"

namespace vitrine::cli {

std::expected<LauncherReply, int> instance_request(const GlobalOptions& globals,
                                                   const std::vector<std::string>& request) {
  auto path = launcher_socket_path(globals.instance);
  if (!path) {
    spdlog::error("{}", path.error());
    return std::unexpected(kExitFailure);
  }
  spdlog::debug("asking instance '{}' on {}", globals.instance, path->string());
  auto reply = launcher_request(*path, request);
  if (!reply) {
    if (reply.error().no_instance) {
      spdlog::error("no running Vitrine instance '{}' ({}). Start one with `vitrine run VM.toml` or `vitrine demo`, "
                    "or name the instance with --instance.",
                    globals.instance, path->string());
      return std::unexpected(kExitNoInstance);
    }
    spdlog::error("instance '{}': {}", globals.instance, reply.error().message);
    return std::unexpected(kExitFailure);
  }
  return std::move(*reply);
}

}  // namespace vitrine::cli
