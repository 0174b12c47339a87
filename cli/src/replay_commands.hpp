// `vitrine record` (cmd_record.cpp) and `vitrine replay` (cmd_replay.cpp): recordings of a
// RemoteApp session's RDP connection, and their playback through the host pipeline, headless.
#pragma once

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace vitrine::cli {

void add_record_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void add_replay_command(CLI::App& app, GlobalOptions& globals, int& exit_code);

}  // namespace vitrine::cli
