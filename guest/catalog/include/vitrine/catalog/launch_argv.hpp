// The command line that starts a published application, built on the HOST from a decoded
// catalogue entry: the host launches through the RDP session (RemoteApp exec, RdpClient::exec),
// so the guest never receives a launch request of its own. Pure function of the entry; the
// entry came from the untrusted guest, and the result is only ever handed back to that guest.
#pragma once

#include <string>
#include <vector>

#include "vitrine/catalog/app_entry.hpp"
#include "vitrine/catalog/error.hpp"

namespace vitrine::catalog {

// The terminal emulator that Terminal=true entries run in (Debian's alternative; xterm, GNOME
// Terminal and konsole all take "-e PROGRAM ARGS...").
inline constexpr const char* kTerminalEmulator = "x-terminal-emulator";

// `app.exec` with its desktop-entry field codes expanded (Desktop Entry Specification 1.5,
// "The Exec key"): %f/%u take the first of `args`, %F/%U all of them; with none of those codes
// the arguments are appended; %i becomes "--icon" icon_name, %c the name, %k nothing (the file's
// location is a guest-local detail the catalogue does not carry); deprecated codes vanish.
// Terminal=true entries are wrapped as {kTerminalEmulator, "-e", argv...}. The working folder
// is app.working_dir (empty: the guest's default); it is not part of the argv.
// kMalformed when the entry has no command or an unknown field code.
Result<std::vector<std::string>> launch_argv(const AppEntry& app, const std::vector<std::string>& args);

}  // namespace vitrine::catalog
