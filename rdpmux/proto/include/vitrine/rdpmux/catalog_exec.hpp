// The Exec line of a catalogue entry (AppEntry::exec): the Desktop Entry Specification 1.5's
// quoting and field codes ("The Exec key"), and launch_argv(), which the host builds the
// RemoteApp command line with. Both sides use it: the guest's scanner splits the Exec values it
// reads, the host expands field codes to launch and quotes arguments when it writes launchers.
// Pure functions of their arguments; the entry may come from the untrusted guest, and a launch
// command line is only ever handed back to that guest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vitrine/rdpmux/catalog_entry.hpp"
#include "vitrine/rdpmux/catalog_error.hpp"

namespace vitrine::catalog {

// Splits an Exec value into its arguments with the spec's quoting rules ("..." with \" \` \$
// \\ escapes inside), keeping field codes (%f, %U, ...) in place. kMalformed on an unterminated
// quote, a bad escape inside quotes or an empty command. Reserved characters outside quotes are
// taken literally (many installed files have them; desktop-file-validate only warns).
Result<std::vector<std::string>> split_exec(std::string_view exec);

// What the field codes expand to.
struct ExecContext {
  std::vector<std::string> args;  // files/URLs given by the user: %f/%u take the first, %F/%U all
  std::string icon;               // %i -> "--icon" icon (nothing when empty)
  std::string name;               // %c
  std::string desktop_file;       // %k
};

// Expands field codes in a split Exec line. Deprecated codes (%d %D %n %N %v %m) are removed;
// %% is a literal '%'; an unknown code is kMalformed. Arguments in `args` beyond what the line
// consumes are appended only when the line has no %f/%F/%u/%U (then the application gets none).
Result<std::vector<std::string>> expand_exec(const std::vector<std::string>& argv,
                                             const ExecContext& context);

// Quotes one argument for an Exec value we write (spec: quote when it holds a reserved
// character; escape " ` $ \ inside quotes; '%' doubled). The result is a string value before
// the general \\ escaping, which escape_desktop_value() adds.
std::string quote_exec_argument(std::string_view argument);

// Escapes a string value for writing (\n \t \r \\).
std::string escape_desktop_value(std::string_view value);

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
