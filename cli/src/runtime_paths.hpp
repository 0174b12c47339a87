// Where a running instance puts its launcher socket: $XDG_RUNTIME_DIR/vitrine/<instance>.sock
// (XDG Base Directory: a per-user, 0700 runtime folder), or /tmp/vitrine-<uid>/ when the session
// has no XDG_RUNTIME_DIR (the folder must then be ours and 0700, or we refuse it).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <expected>

namespace vitrine::cli {

// Instance names become file names: [A-Za-z0-9._-]{1,64}, not starting with '.'.
bool valid_instance_name(std::string_view name);

// The folder for sockets, created (0700) if missing. Error text says what to fix.
std::expected<std::filesystem::path, std::string> runtime_dir();

std::expected<std::filesystem::path, std::string> launcher_socket_path(std::string_view instance);

}  // namespace vitrine::cli
