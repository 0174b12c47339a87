// Client side of the launcher socket (used by `vitrine apps`, `launch`, `stats`,
// `install-launchers`).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <expected>

namespace vitrine::cli {

struct LauncherReply {
  std::vector<std::vector<std::string>> data;  // data lines ("app ...", "stat ...")
  bool ok = false;
  std::string code;     // error code when !ok
  std::string message;  // the ok line's text or the error message
};

struct LauncherClientError {
  bool no_instance = false;  // nothing listens on the path (ENOENT / ECONNREFUSED)
  std::string message;
};

std::expected<LauncherReply, LauncherClientError> launcher_request(
    const std::filesystem::path& socket_path, const std::vector<std::string>& request,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));

}  // namespace vitrine::cli
