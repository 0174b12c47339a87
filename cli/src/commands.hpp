// Subcommands of `vitrine`. Each add_*() registers one subcommand on the CLI11 app; its
// callback stores the exit code (exit_codes.hpp) in `exit_code`.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <expected>

#include "launcher_client.hpp"

namespace vitrine::cli {

struct GlobalOptions {
  bool verbose = false;
  std::string instance = "default";
};

void add_apps_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void add_launch_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void add_launcher_commands(CLI::App& app, GlobalOptions& globals, int& exit_code);
void add_stats_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void add_record_replay_commands(CLI::App& app, GlobalOptions& globals, int& exit_code);  // cmd_replay.cpp
// run, demo and connect: start a VM and an RDP session through its bus (instance.hpp).
void add_session_commands(CLI::App& app, GlobalOptions& globals, int& exit_code);


// Sends one request to the running instance. On failure prints what to do and returns the exit
// code (kExitNoInstance, kExitFailure).
std::expected<LauncherReply, int> instance_request(const GlobalOptions& globals, const std::vector<std::string>& request);

}  // namespace vitrine::cli
