// Parsing of XDG desktop entries (freedesktop.org Desktop Entry Specification 1.5) and of
// their Exec key. Only the [Desktop Entry] group is read; other groups (actions) are skipped.
// Localised keys (Name[de]) are ignored: the catalogue publishes the unlocalised strings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/catalog/error.hpp"

namespace vitrine::catalog {

inline constexpr std::size_t kMaxDesktopFileBytes = 256 * 1024;

struct DesktopEntry {
  std::string type;       // "Application", "Link", "Directory"
  std::string name;
  std::string generic_name;
  std::string comment;
  std::string exec;       // string value after spec escapes (\s \n \t \r \\), before Exec quoting
  std::string try_exec;
  std::string icon;       // an icon name or an absolute path
  std::string path;       // working directory
  std::vector<std::string> categories;
  std::vector<std::string> only_show_in;
  std::vector<std::string> not_show_in;
  bool no_display = false;
  bool hidden = false;
  bool terminal = false;
};

// Parses the text of a .desktop file. Errors: kMalformed (no [Desktop Entry] group, a line
// that is neither comment, group nor key=value, a bad escape, a non-boolean boolean),
// kTooLarge (over kMaxDesktopFileBytes). `origin` names the file in messages.
Result<DesktopEntry> parse_desktop_entry(std::string_view text, std::string_view origin);

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

}  // namespace vitrine::catalog
