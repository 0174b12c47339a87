// Starting an instance on demand: a menu entry (`vitrine --instance I launch -- ID`) clicked
// while instance I is not running starts it, as XP Mode's start menu booted its VM.
//
// Every `vitrine run` / `vitrine demo` records its own command line (without --duration) in
// state_dir(I)/start-command; `vitrine launch` finding no instance runs that command detached
// (its own session, output to state_dir(I)/autostart.log), waits until the instance answers and
// publishes applications, then launches. An instance never started before cannot be started
// this way: the error says to run it once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "launcher_client.hpp"

namespace vitrine::cli {

struct GlobalOptions;

// The command line to record: `argv` less "--duration S" / "--duration=S" (an on-demand start
// runs until stopped).
std::vector<std::string> start_command_of(std::span<const std::string> argv);
// Writes state_dir/start-command (NUL-separated, 0600, replaced atomically). This process's
// command line comes from /proc/self/cmdline.
std::expected<void, std::string> record_start_command(const std::filesystem::path& state_dir);
std::expected<std::vector<std::string>, std::string> read_start_command(const std::filesystem::path& state_dir);

// Runs the recorded command detached; its pid.
std::expected<pid_t, std::string> start_recorded_instance(const std::filesystem::path& state_dir);

// `request` to instance `globals.instance`, starting it first when nothing listens and a start
// command is recorded: then it waits (up to `boot_timeout`) until the instance lists at least
// one application. Exit codes as instance_request() (commands.hpp).
std::expected<LauncherReply, int> instance_request_starting(const GlobalOptions& globals,
                                                            const std::vector<std::string>& request,
                                                            std::chrono::seconds boot_timeout);

}  // namespace vitrine::cli
